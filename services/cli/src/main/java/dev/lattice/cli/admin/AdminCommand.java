package dev.lattice.cli.admin;

import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.kit.admin.AdminTokenFile;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lattice admin rotate-token [--keep-previous]}: rotates the admin credential in its file
 * ({@code $LATTICE_ADMIN_TOKEN_FILE}, else {@code <data-dir>/admin.token}). The services re-read the
 * file by themselves (docs/operations.md#admin-credential). Prints where, never the token. Created per
 * invocation by picocli; not thread-safe.
 */
@Command(name = "admin", mixinStandardHelpOptions = true, description = "The admin credential of the services.",
    subcommands = AdminCommand.RotateToken.class)
public final class AdminCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code lattice admin rotate-token [--keep-previous]}. */
  @Command(name = "rotate-token", mixinStandardHelpOptions = true,
      description = {"Write a new admin token first in the token file.",
          "With --keep-previous the tokens in force stay valid after it (an overlap while clients are updated);"
              + " without it they stop working within seconds."})
  static final class RotateToken implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--keep-previous", description = "Keep the current token(s) valid after the new one.")
    boolean keepPrevious;

    @Override
    public Integer call() {
      dev.lattice.cli.support.CliContext root = (dev.lattice.cli.support.CliContext) spec.root().userObject();
      Map<String, String> env = root.env();
      String fromEnv = env.get("LATTICE_ADMIN_TOKEN_FILE");
      AdminTokenFile file = fromEnv != null && !fromEnv.isBlank()
          ? AdminTokenFile.at(Path.of(fromEnv)) : AdminTokenFile.inDataDir(root.dataDir());
      int kept;
      try {
        kept = keepPrevious && java.nio.file.Files.exists(file.path()) ? file.tokens().size() : 0;
        file.rotate(keepPrevious);
      } catch (IOException e) {
        throw new CliException("error: cannot rotate the admin token in " + file.path() + ": " + e.getMessage(),
            ExitCode.ERROR, e);
      }
      spec.commandLine().getOut().println("admin token rotated in " + file.path()
          + (kept > 0 ? " (" + kept + " previous token(s) still valid until the next rotation)" : ""));
      spec.commandLine().getOut().flush();
      return ExitCode.OK;
    }
  }
}
