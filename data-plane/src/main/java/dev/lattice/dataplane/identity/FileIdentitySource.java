package dev.lattice.dataplane.identity;

import dev.lattice.configclient.tls.SvidTrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * SVIDs and trust bundles from PEM files on the node, for file mode and tests (a node in a mesh uses the
 * agent's Delegated Identity API instead): each SVID is a certificate chain file (leaf first, its one
 * URI SAN the SPIFFE ID) and a PKCS#8 key file; each bundle a file of CA certificates for a trust domain.
 * {@link #reload()} re-reads every file and publishes a new snapshot (rotation). Reads files: call
 * {@link #load} and {@link #reload} off the event loop. Thread-safe.
 */
public final class FileIdentitySource implements WorkloadIdentitySource {
  /** One SVID's files. */
  public record SvidFiles(Path certificateChain, Path privateKey) {}

  private final List<SvidFiles> svidFiles;
  private final Map<String, Path> bundleFiles;
  private final List<Consumer<IdentitySnapshot>> listeners = new CopyOnWriteArrayList<>();
  private volatile IdentitySnapshot current;
  private volatile boolean closed;

  private FileIdentitySource(List<SvidFiles> svidFiles, Map<String, Path> bundleFiles) {
    this.svidFiles = List.copyOf(svidFiles);
    this.bundleFiles = Map.copyOf(bundleFiles);
  }

  /**
   * Reads the files once.
   *
   * @param bundleFiles trust domain name (e.g. {@code lattice.local}) → PEM file of its X.509 authorities
   * @throws IllegalArgumentException naming the file that cannot be read or parsed
   */
  public static FileIdentitySource load(List<SvidFiles> svidFiles, Map<String, Path> bundleFiles) {
    FileIdentitySource s = new FileIdentitySource(svidFiles, bundleFiles);
    s.current = s.read(1);
    return s;
  }

  /** Re-reads every file and publishes the result as the next snapshot; on an error the current one stays. */
  public synchronized IdentitySnapshot reload() {
    IdentitySnapshot next = read(current.revision() + 1);
    current = next;
    if (!closed) {
      listeners.forEach(l -> l.accept(next));
    }
    return next;
  }

  private IdentitySnapshot read(long revision) {
    Map<String, HeldSvid> svids = new LinkedHashMap<>();
    for (SvidFiles f : svidFiles) {
      List<X509Certificate> chain = certificates(f.certificateChain());
      if (chain.isEmpty()) {
        throw new IllegalArgumentException(f.certificateChain() + ": no certificate (expected: the SVID chain, leaf first)");
      }
      String id;
      try {
        id = SvidTrustManager.spiffeIdOf(chain.get(0)).toString();
      } catch (CertificateException e) {
        throw new IllegalArgumentException(f.certificateChain() + ": not an X.509-SVID (" + e.getMessage() + ")", e);
      }
      svids.put(id, new HeldSvid(id, chain, privateKey(f.privateKey()), chain.get(0).getNotAfter().toInstant()));
    }
    Map<String, List<X509Certificate>> bundles = new LinkedHashMap<>();
    bundleFiles.forEach((td, file) -> bundles.put(td, certificates(file)));
    return new IdentitySnapshot(svids, bundles, revision);
  }

  private static List<X509Certificate> certificates(Path file) {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> out = new ArrayList<>();
      for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        out.add((X509Certificate) c);
      }
      return out;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(file + ": cannot read certificates (" + e.getMessage() + ")", e);
    }
  }

  private static PrivateKey privateKey(Path file) {
    String pem;
    try {
      pem = Files.readString(file, StandardCharsets.US_ASCII);
    } catch (IOException e) {
      throw new IllegalArgumentException(file + ": cannot read the private key (" + e.getMessage() + ")", e);
    }
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new IllegalArgumentException(file + ": no PKCS#8 key (expected: -----BEGIN PRIVATE KEY-----)");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + 27, end));
    for (String alg : List.of("EC", "RSA", "Ed25519")) {
      try {
        return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der));
      } catch (GeneralSecurityException e) {
        // try the next algorithm
      }
    }
    throw new IllegalArgumentException(file + ": unsupported private key (expected: PKCS#8 EC, RSA or Ed25519)");
  }

  @Override
  public IdentitySnapshot current() {
    return current;
  }

  @Override
  public CompletionStage<IdentitySnapshot> firstSnapshot() {
    return CompletableFuture.completedFuture(current);
  }

  @Override
  public void addListener(Consumer<IdentitySnapshot> listener) {
    listeners.add(listener);
  }

  @Override
  public void close() {
    closed = true;
    listeners.clear();
  }
}
