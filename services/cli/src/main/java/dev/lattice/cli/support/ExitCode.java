package dev.lattice.cli.support;

/**
 * The exit codes of every {@code lattice} subcommand, kubectl-style. Constants only.
 */
public final class ExitCode {
  /** Success. */
  public static final int OK = 0;
  /** The server answered with an error, a service could not be reached, or a check failed. */
  public static final int ERROR = 1;
  /** The command line was wrong (unknown subcommand, missing or malformed option). */
  public static final int USAGE = 2;

  private ExitCode() {}
}
