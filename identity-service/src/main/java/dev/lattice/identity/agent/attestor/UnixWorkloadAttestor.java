package dev.lattice.identity.agent.attestor;

import io.vertx.core.Future;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The {@code unix} attestor: {@code unix:uid:<uid>} and {@code unix:gid:<gid>} for each group the
 * kernel reported for the caller's socket.
 *
 * <p>Stateless and thread-safe.
 */
public final class UnixWorkloadAttestor implements WorkloadAttestor {

  @Override
  public Future<Set<Selector>> attest(CallerProcess caller) {
    Set<Selector> selectors = new LinkedHashSet<>();
    selectors.add(Selector.unixUid(caller.uid()));
    for (int gid : caller.gids()) {
      selectors.add(Selector.unixGid(gid));
    }
    return Future.succeededFuture(Set.copyOf(selectors));
  }
}
