package dev.lattice.cli.identity;

import dev.lattice.cli.CliException;
import dev.lattice.cli.ExitCode;
import dev.lattice.cli.CliContext;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code lattice svid fetch}: asks the node agent's SPIFFE Workload API (a Unix socket) for this
 * process's X.509-SVIDs, with java-spiffe's client, and prints each SPIFFE ID, hint, expiry and chain
 * (never the private key). {@code --audience} also fetches a JWT-SVID. The socket is
 * {@code --socket}, else {@code SPIFFE_ENDPOINT_SOCKET}, else {@code <data-dir>/agent/workload.sock}.
 * Created per invocation by picocli; not thread-safe.
 */
@Command(name = "svid", mixinStandardHelpOptions = true, description = "SVIDs from the node agent's Workload API.",
    subcommands = SvidCommand.Fetch.class)
public final class SvidCommand implements Runnable {

  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code lattice svid fetch [--socket path] [--audience aud]}. */
  @Command(name = "fetch", mixinStandardHelpOptions = true,
      description = "Fetch this process's X.509-SVIDs (and with --audience a JWT-SVID); print IDs, expiry and chains.")
  static final class Fetch implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--socket", paramLabel = "path", description = "Workload API socket (default: $SPIFFE_ENDPOINT_SOCKET, else <data-dir>/agent/workload.sock)")
    Path socket;

    @Option(names = "--audience", paramLabel = "aud", description = "Also fetch a JWT-SVID for this audience")
    String audience;

    @Override
    public Integer call() throws Exception {
      CliContext root = (CliContext) spec.root().userObject();
      // java-spiffe logs through java.util.logging (e.g. "WorkloadAPI client is closed" at INFO)
      java.util.logging.Logger.getLogger("io.spiffe").setLevel(java.util.logging.Level.WARNING);
      String address = address(root);
      PrintWriter out = spec.commandLine().getOut();
      try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
          DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address).build())) {
        X509Context context;
        try {
          context = client.fetchX509Context();
        } catch (Exception e) {
          throw new CliException("no X.509-SVID from " + address + ": " + rootMessage(e)
              + " (is 'lattice up' running, and is there an entry for your uid with the agent's node as parent?)",
              ExitCode.ERROR, e);
        }
        for (X509Svid svid : context.getX509Svids()) {
          out.println("spiffe id: " + svid.getSpiffeId());
          if (svid.getHint() != null && !svid.getHint().isEmpty()) {
            out.println("hint:      " + svid.getHint());
          }
          out.println("expires:   " + svid.getLeaf().getNotAfter().toInstant());
          List<X509Certificate> chain = svid.getChain();
          for (int i = 0; i < chain.size(); i++) {
            X509Certificate c = chain.get(i);
            out.println("chain[" + i + "]:  subject=\"" + c.getSubjectX500Principal().getName() + "\" issuer=\""
                + c.getIssuerX500Principal().getName() + "\" notAfter=" + c.getNotAfter().toInstant()
                + " serial=" + c.getSerialNumber().toString(16));
          }
        }
        context.getX509BundleSet().getBundles().forEach((td, bundle) ->
            out.println("bundle:    " + td + " (" + bundle.getX509Authorities().size() + " root(s))"));
        if (audience != null) {
          JwtSvid jwt = client.fetchJwtSvid(audience);
          out.println("jwt-svid:  " + jwt.getSpiffeId() + " aud=" + jwt.getAudience() + " expires="
              + jwt.getExpiry().toInstant() + (jwt.getHint() == null || jwt.getHint().isEmpty() ? "" : " hint=" + jwt.getHint()));
        }
      }
      out.flush();
      return ExitCode.OK;
    }

    private String address(CliContext root) {
      Path path = socket;
      if (path == null) {
        String env = root.env().get("SPIFFE_ENDPOINT_SOCKET");
        if (env != null && !env.isBlank()) {
          return env.startsWith("unix:") ? env : "unix:" + env;
        }
        path = root.dataDir().resolve("agent").resolve("workload.sock");
      }
      if (!Files.exists(path)) {
        throw new CliException("Workload API socket " + path + " does not exist (is 'lattice up' running? or pass --socket)");
      }
      return "unix:" + path.toAbsolutePath();
    }

    private static String rootMessage(Throwable e) {
      Throwable t = e;
      while (t.getCause() != null && t.getCause() != t) {
        t = t.getCause();
      }
      return t.getMessage() == null ? t.toString() : t.getMessage();
    }
  }
}
