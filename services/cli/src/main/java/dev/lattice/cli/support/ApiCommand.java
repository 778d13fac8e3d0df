package dev.lattice.cli.support;

import java.io.PrintWriter;
import java.net.URI;
import java.util.concurrent.Callable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base class of subcommands that talk to a service: gives them the root command's endpoints and HTTP
 * client, and the command line's stdout/stderr (so tests can capture them).
 *
 * <p>A subcommand implements {@link #run()} and returns an {@link ExitCode}; it reports failures by
 * throwing {@link CliException} (from {@link ApiClient.Response#requireSuccess()} or its own checks),
 * which {@code LatticeCli} prints without a stack trace. Example:
 *
 * <pre>{@code
 * @Command(name = "get", description = "Show resources.")
 * final class GetCommand extends ApiCommand {
 *   @Parameters(index = "0") String kind;
 *   protected int run() {
 *     JsonNode list = api().get("policy", url("policy", "/v1/" + kind)).requireSuccess().json();
 *     out().println(...);
 *     return ExitCode.OK;
 *   }
 * }
 * }</pre>
 *
 * Instances are created by picocli per invocation; not thread-safe.
 */
public abstract class ApiCommand implements Callable<Integer> {

  @Spec
  protected CommandSpec spec;

  /** The subcommand's work; returns an {@link ExitCode}. */
  protected abstract int run() throws Exception;

  @Override
  public final Integer call() throws Exception {
    return run();
  }

  /** The root {@code lattice} command (global options, endpoints, client). */
  protected CliContext root() {
    return (CliContext) spec.root().userObject();
  }

  protected ApiClient api() {
    return root().apiClient();
  }

  protected ServiceEndpoints endpoints() {
    return root().endpoints();
  }

  /** {@code service}'s base URL resolved against {@code path}, e.g. {@code url("policy", "/v1/resources")}. */
  protected URI url(String service, String path) {
    URI base = endpoints().url(service);
    return base.resolve(path.startsWith("/") ? path : "/" + path);
  }

  protected PrintWriter out() {
    return spec.commandLine().getOut();
  }

  protected PrintWriter err() {
    return spec.commandLine().getErr();
  }
}
