package dev.lattice.cli;

import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliContext;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.ServiceEndpoints;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The {@code lattice} command: root of every subcommand, holder of the global options, the service
 * endpoints and the shared {@link ApiClient}.
 *
 * <p>Adding a subcommand: write a class extending {@link ApiCommand} annotated with picocli's
 * {@code @Command(name = …)} (identity commands in {@code dev.lattice.cli.identity}, policy commands in
 * {@code dev.lattice.cli.policy}), then add it to the {@code subcommands} list below — one line. Report
 * failures by throwing {@link CliException}; exit codes are {@link ExitCode}: 0 ok, 1 error from the
 * server or an unreachable service, 2 usage.
 *
 * <p>Not thread-safe: one instance per invocation.
 */
@Command(
    name = "lattice",
    mixinStandardHelpOptions = true,
    versionProvider = VersionCommand.Provider.class,
    description = "Lattice: event-sourced application networking on Kafka.",
    footer = {"", "Run the whole stack locally with: ./lattice up [--clean] [--kafka host:port]"},
    subcommands = {
        StatusCommand.class,
        VersionCommand.class,
        // identity subcommands (dev.lattice.cli.identity) — one line each:
        dev.lattice.cli.identity.EntryCommand.class, dev.lattice.cli.identity.TokenCommand.class,
        dev.lattice.cli.identity.SvidCommand.class,
        // the admin credential (dev.lattice.cli.admin):
        dev.lattice.cli.admin.AdminCommand.class,
        // policy subcommands (dev.lattice.cli.policy) — one line each:
        dev.lattice.cli.policy.ApplyCommand.class,
        dev.lattice.cli.policy.GetCommand.class,
        dev.lattice.cli.policy.DeleteCommand.class,
        dev.lattice.cli.policy.DiffCommand.class,
        dev.lattice.cli.policy.ExplainCommand.class,
        // config distribution (dev.lattice.cli.distributor):
        dev.lattice.cli.distributor.ConfigDumpCommand.class,
        // telemetry (dev.lattice.cli.telemetry):
        dev.lattice.cli.telemetry.ObserveCommand.class, dev.lattice.cli.telemetry.TopCommand.class,
        CommandLine.HelpCommand.class,
    })
public final class LatticeCli implements Callable<Integer>, CliContext {

  @Option(names = "--data-dir", defaultValue = "${env:LATTICE_DATA_DIR:-.lattice}",
      description = "Data dir of the local stack, where it records its endpoints (default: ${DEFAULT-VALUE}).")
  private Path dataDir;

  @Option(names = "--timeout", defaultValue = "5s", converter = DurationConverter.class,
      description = "Connect and request timeout per call, e.g. 500ms, 5s (default: ${DEFAULT-VALUE}).")
  private Duration timeout;

  @Option(names = {"-v", "--verbose"}, description = "Explain more; print stack traces of unexpected errors.")
  private boolean verbose;

  private final Map<String, String> env;
  private ServiceEndpoints endpoints;
  private ApiClient apiClient;

  public LatticeCli() {
    this(System.getenv());
  }

  /** A root command reading {@code env} instead of the process environment (tests). */
  public LatticeCli(Map<String, String> env) {
    this.env = Map.copyOf(env);
  }

  /** Entry point of the {@code lattice} script. */
  public static void main(String[] args) {
    if (System.getProperty("logback.configurationFile") == null) {
      System.setProperty("logback.configurationFile", "lattice-cli-logback.xml");
    }
    System.exit(commandLine(new LatticeCli()).execute(args));
  }

  /** A configured command line: kubectl-like error output and exit codes. */
  public static CommandLine commandLine(LatticeCli root) {
    CommandLine cli = new CommandLine(root);
    cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
      PrintWriter err = commandLine.getErr();
      if (ex instanceof CliException cliError) {
        err.println(cliError.getMessage());
        if (root.verbose && cliError.getCause() != null) cliError.getCause().printStackTrace(err);
        err.flush();
        return cliError.exitCode();
      }
      err.println("error: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
      if (root.verbose) ex.printStackTrace(err);
      err.flush();
      return ExitCode.ERROR;
    });
    cli.setParameterExceptionHandler((ex, args) -> {
      CommandLine failed = ex.getCommandLine();
      PrintWriter err = failed.getErr();
      err.println("error: " + ex.getMessage());
      err.println("Run '" + failed.getCommandSpec().qualifiedName() + " --help' for usage.");
      err.flush();
      return ExitCode.USAGE;
    });
    return cli;
  }

  @Spec
  private CommandSpec spec;

  /** {@code lattice} alone: usage on stderr, exit code 2. */
  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getErr());
    return ExitCode.USAGE;
  }

  /** Where the local stack keeps its data and endpoints file. */
  @Override
  public Path dataDir() {
    return dataDir;
  }

  @Override
  public Duration timeout() {
    return timeout;
  }

  @Override
  public boolean verbose() {
    return verbose;
  }

  /** The process environment (or the one a test handed in). */
  @Override
  public Map<String, String> env() {
    return env;
  }

  /** The endpoints of the services (resolved once per invocation). */
  @Override
  public ServiceEndpoints endpoints() {
    if (endpoints == null) endpoints = ServiceEndpoints.resolve(dataDir, env);
    return endpoints;
  }

  /** The shared HTTP client, with {@code --timeout} and the admin credential when one is found. */
  @Override
  public ApiClient apiClient() {
    if (apiClient == null) apiClient = new ApiClient(timeout, adminToken());
    return apiClient;
  }

  /**
   * The admin credential the CLI sends: {@code LATTICE_ADMIN_TOKEN}, else the first token of the file
   * {@code LATTICE_ADMIN_TOKEN_FILE}, else of {@code <data-dir>/admin.token} (written by the local
   * stack on its first start); empty when none is found.
   */
  @Override
  public java.util.Optional<String> adminToken() {
    String token = env.get("LATTICE_ADMIN_TOKEN");
    if (token != null && !token.isBlank()) return java.util.Optional.of(token.strip());
    String file = env.get("LATTICE_ADMIN_TOKEN_FILE");
    dev.lattice.kit.admin.AdminTokenFile tokens = file != null && !file.isBlank()
        ? dev.lattice.kit.admin.AdminTokenFile.at(Path.of(file))
        : dev.lattice.kit.admin.AdminTokenFile.inDataDir(dataDir);
    return tokens.clientToken();
  }

  /** Parses {@code 500ms}, {@code 5s}, {@code 1m} for duration options. */
  public static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return dev.lattice.kit.config.LatticeConfig.parseDuration(value);
      } catch (RuntimeException e) {
        throw new CommandLine.TypeConversionException("'" + value + "' (expected: a duration like 500ms, 5s, 1m)");
      }
    }
  }
}
