package dev.lattice.cli.support;

/**
 * A failure a subcommand reports to the user: {@code LatticeCli} prints {@link #getMessage()} on stderr
 * (no stack trace) and exits with {@link #exitCode()}. Messages read like kubectl's:
 * {@code Error from server (NotFound): …} or {@code error: cannot reach policy at …}.
 */
public class CliException extends RuntimeException {
  private final int exitCode;

  public CliException(String message) {
    this(message, ExitCode.ERROR, null);
  }

  public CliException(String message, int exitCode, Throwable cause) {
    super(message, cause);
    this.exitCode = exitCode;
  }

  /** A usage error (exit code {@link ExitCode#USAGE}) found after parsing, e.g. conflicting options. */
  public static CliException usage(String message) {
    return new CliException("error: " + message, ExitCode.USAGE, null);
  }

  public int exitCode() {
    return exitCode;
  }
}
