package dev.lattice.identity.agent.attestor;

import java.util.List;

/**
 * The process on the other end of a Workload API connection, as the kernel reports it
 * ({@code SO_PEERCRED}) plus the process start time read from {@code /proc/<pid>/stat} when the caller
 * was attested, which detects pid reuse later.
 *
 * @param pid process id (as seen from the agent's pid namespace)
 * @param uid effective user id
 * @param gids group ids, primary first
 * @param startTimeTicks field 22 of {@code /proc/<pid>/stat} (clock ticks since boot)
 */
public record CallerProcess(int pid, int uid, List<Integer> gids, long startTimeTicks) {

  public CallerProcess {
    gids = List.copyOf(gids);
  }
}
