package dev.lattice.cli.identity;

import dev.lattice.cli.support.CliContext;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
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
 * (never the private key). {@code --audience} also fetches a JWT-SVID; {@code --write DIR} writes the
 * default SVID's {@code svid.pem}, {@code key.pem} (600) and {@code bundle.pem} to DIR. The socket is
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

    @Option(names = "--write", paramLabel = "DIR", description = "Also write the default SVID to DIR: svid.pem (chain), key.pem (mode 600), bundle.pem (roots + intermediates; openssl verify -CAfile bundle.pem svid.pem)")
    Path write;

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
        if (write != null) {
          X509Svid chosen = context.getDefaultSvid();
          for (Path file : write(write, chosen, context)) {
            out.println("wrote:     " + file + (file.getFileName().toString().equals("key.pem") ? " (mode 600)" : ""));
          }
        }
        if (audience != null) {
          JwtSvid jwt = client.fetchJwtSvid(audience);
          out.println("jwt-svid:  " + jwt.getSpiffeId() + " aud=" + jwt.getAudience() + " expires="
              + jwt.getExpiry().toInstant() + (jwt.getHint() == null || jwt.getHint().isEmpty() ? "" : " hint=" + jwt.getHint()));
        }
      }
      out.flush();
      return ExitCode.OK;
    }

    /**
     * Writes the default SVID as SPIRE's {@code spire-agent api fetch -write} does: {@code svid.pem}
     * (leaf first, then intermediates), {@code key.pem} (PKCS#8, mode 600, created so before any byte
     * is written) and {@code bundle.pem} (the trust domain's roots plus the SVID's intermediates, so
     * {@code openssl verify -CAfile bundle.pem svid.pem} succeeds without {@code -untrusted}).
     */
    static List<Path> write(Path dir, X509Svid svid, X509Context context) throws java.io.IOException {
      Files.createDirectories(dir);
      List<X509Certificate> chain = svid.getChain();
      StringBuilder svidPem = new StringBuilder();
      for (X509Certificate c : chain) {
        svidPem.append(pem("CERTIFICATE", encoded(c)));
      }
      StringBuilder bundlePem = new StringBuilder();
      try {
        for (X509Certificate root : context.getX509BundleSet().getBundleForTrustDomain(svid.getSpiffeId().getTrustDomain())
            .getX509Authorities()) {
          bundlePem.append(pem("CERTIFICATE", encoded(root)));
        }
      } catch (io.spiffe.exception.BundleNotFoundException e) {
        throw new CliException("the agent sent no bundle for " + svid.getSpiffeId().getTrustDomain() + ": " + e.getMessage());
      }
      for (X509Certificate intermediate : chain.subList(1, chain.size())) {
        bundlePem.append(pem("CERTIFICATE", encoded(intermediate)));
      }
      Path svidFile = dir.resolve("svid.pem");
      Path keyFile = dir.resolve("key.pem");
      Path bundleFile = dir.resolve("bundle.pem");
      replace(keyFile, pem("PRIVATE KEY", svid.getPrivateKey().getEncoded()), "rw-------");
      replace(svidFile, svidPem.toString(), "rw-r--r--");
      replace(bundleFile, bundlePem.toString(), "rw-r--r--");
      return List.of(svidFile, keyFile, bundleFile);
    }

    /** Writes {@code content} to a new file with {@code permissions} beside {@code file}, then moves it over. */
    private static void replace(Path file, String content, String permissions) throws java.io.IOException {
      Path tmp = file.resolveSibling("." + file.getFileName() + ".tmp");
      Files.deleteIfExists(tmp);
      Files.createFile(tmp, java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
          java.nio.file.attribute.PosixFilePermissions.fromString(permissions)));
      Files.writeString(tmp, content, java.nio.charset.StandardCharsets.US_ASCII);
      Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    private static byte[] encoded(X509Certificate c) {
      try {
        return c.getEncoded();
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new CliException("cannot encode a certificate from the agent: " + e.getMessage());
      }
    }

    private static String pem(String type, byte[] der) {
      return "-----BEGIN " + type + "-----\n"
          + java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII)).encodeToString(der)
          + "\n-----END " + type + "-----\n";
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
