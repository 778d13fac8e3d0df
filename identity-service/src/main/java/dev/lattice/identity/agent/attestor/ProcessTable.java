package dev.lattice.identity.agent.attestor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Process facts the Workload API needs about its callers, read from a procfs mount ({@code /proc} by
 * default) by {@link #procfs}.
 *
 * <p>Implementations are thread-safe. {@link #startTime} may read files: call it off the event loop.
 */
public interface ProcessTable {

  /**
   * The start time of {@code pid} in clock ticks since boot, or empty when no such process exists
   * (it exited). Two processes that reuse one pid have different start times.
   */
  OptionalLong startTime(int pid) throws IOException;

  /** The host's {@code /proc}. */
  static ProcessTable system() {
    return procfs(Path.of("/proc"));
  }

  /** A procfs mounted at {@code procRoot}. */
  static ProcessTable procfs(Path procRoot) {
    return new Procfs(procRoot);
  }

  /** Extracts field 22 from a {@code /proc/<pid>/stat} line; the command name may hold spaces and ')'. */
  static long parseStartTime(String stat) {
    return Procfs.parseStartTime(stat);
  }
}

/** {@link ProcessTable} over a procfs mount. */
final class Procfs implements ProcessTable {

  /** Index of {@code starttime} (field 22) among the fields that follow the {@code (comm)} field. */
  private static final int START_TIME_INDEX_AFTER_COMM = 22 - 3;

  private final Path procRoot;

  Procfs(Path procRoot) {
    this.procRoot = procRoot;
  }

  @Override
  public OptionalLong startTime(int pid) throws IOException {
    String stat;
    try {
      stat = Files.readString(procRoot.resolve(Integer.toString(pid)).resolve("stat"),
          StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(parseStartTime(stat));
  }

  static long parseStartTime(String stat) {
    int endOfComm = stat.lastIndexOf(')');
    if (endOfComm < 0) {
      throw new IllegalArgumentException("proc stat line without '(comm)': " + abbreviate(stat));
    }
    String[] fields = stat.substring(endOfComm + 1).trim().split("\\s+");
    if (fields.length <= START_TIME_INDEX_AFTER_COMM) {
      throw new IllegalArgumentException("proc stat line has " + (fields.length + 2)
          + " fields (expected: at least 22): " + abbreviate(stat));
    }
    return Long.parseLong(fields[START_TIME_INDEX_AFTER_COMM]);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 80) + "…";
  }
}
