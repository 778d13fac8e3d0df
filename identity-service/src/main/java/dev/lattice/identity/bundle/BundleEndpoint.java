package dev.lattice.identity.bundle;

import dev.lattice.identity.ca.TrustBundleSnapshot;
import dev.lattice.kit.files.AtomicFiles;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.function.Supplier;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPIFFE bundle endpoint (Trust Domain and Bundle §5), {@code https_web} profile: {@code GET /} over
 * HTTPS returns the current bundle as a JWKS document ({@code application/json}). The server
 * certificate is the operator's Web PKI certificate ({@code identity.bundle.endpoint.cert/key}); without
 * one it is a self-signed {@code localhost} certificate made once and kept in the identity data dir
 * ({@link #localCertificate}), so it stays the same across restarts and clients can pin it.
 * Thread-safe; the owner calls {@link #close()}.
 */
public final class BundleEndpoint {

  private static final Logger log = LoggerFactory.getLogger(BundleEndpoint.class);

  private final Vertx vertx;
  private final Supplier<TrustBundleSnapshot> bundle;
  private HttpServer server;

  public BundleEndpoint(Vertx vertx, Supplier<TrustBundleSnapshot> bundle) {
    this.vertx = vertx;
    this.bundle = bundle;
  }

  /** Starts listening; completes with the bound port. */
  public Future<Integer> listen(String host, int port, PemKeyCertOptions keyCert) {
    server = vertx.createHttpServer(new HttpServerOptions().setSsl(true).setKeyCertOptions(keyCert)
        .setHost(host).setPort(port));
    server.requestHandler(req -> {
      if (!"/".equals(req.path())) {
        req.response().setStatusCode(404).end();
        return;
      }
      if (!"GET".equals(req.method().name())) {
        req.response().setStatusCode(405).putHeader("Allow", "GET").end();
        return;
      }
      req.response().putHeader("Content-Type", "application/json")
          .end(BundleJwks.toJson(bundle.get()).encode());
    });
    return server.listen().map(s -> {
      log.info("SPIFFE bundle endpoint (https_web) on https://{}:{}/", host, s.actualPort());
      return s.actualPort();
    });
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  /** File names of the local serving certificate under the identity data dir. */
  public static final String LOCAL_CERT_FILE = "bundle-endpoint.crt";
  public static final String LOCAL_KEY_FILE = "bundle-endpoint.key";

  /**
   * The self-signed {@code localhost} serving certificate kept in {@code dataDir}
   * ({@value #LOCAL_CERT_FILE}, key {@value #LOCAL_KEY_FILE} mode 600): made on the first start and
   * served again after every restart, so a client that pinned it ({@code curl --cacert
   * <data-dir>/identity/bundle-endpoint.crt https://localhost:7072/}) keeps trusting the endpoint. A
   * certificate that expires within a day is replaced. Blocking (disk, key generation): call it on a
   * worker.
   */
  public static PemKeyCertOptions localCertificate(Path dataDir, java.time.Clock clock) throws IOException {
    Path certFile = dataDir.resolve(LOCAL_CERT_FILE);
    Path keyFile = dataDir.resolve(LOCAL_KEY_FILE);
    if (Files.isRegularFile(certFile) && Files.isRegularFile(keyFile)) {
      byte[] certPem = Files.readAllBytes(certFile);
      try {
        X509Certificate cert = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(new java.io.ByteArrayInputStream(certPem));
        if (cert.getNotAfter().toInstant().isAfter(clock.instant().plus(1, ChronoUnit.DAYS))) {
          log.info("bundle endpoint: serving the local self-signed certificate {} (kept across restarts; "
              + "clients trust it with e.g. curl --cacert {})", certFile, certFile);
          return new PemKeyCertOptions().setCertValue(Buffer.buffer(certPem))
              .setKeyValue(Buffer.buffer(Files.readAllBytes(keyFile)));
        }
        log.info("bundle endpoint: the local certificate {} expires at {}; making a new one", certFile, cert.getNotAfter().toInstant());
      } catch (java.security.cert.CertificateException e) {
        log.warn("bundle endpoint: {} does not parse ({}); making a new local certificate", certFile, e.getMessage());
      }
    }
    String[] pems = selfSigned(clock.instant());
    AtomicFiles.write(keyFile, pems[1].getBytes(StandardCharsets.US_ASCII), AtomicFiles.OWNER_ONLY);
    AtomicFiles.write(certFile, pems[0].getBytes(StandardCharsets.US_ASCII), AtomicFiles.WORLD_READABLE);
    log.info("bundle endpoint: made a local self-signed certificate for localhost/127.0.0.1, {} (kept across restarts; "
        + "clients trust it with e.g. curl --cacert {})", certFile, certFile);
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(pems[0])).setKeyValue(Buffer.buffer(pems[1]));
  }

  /** A new self-signed localhost certificate and key, PEM: {cert, key}. */
  private static String[] selfSigned(Instant now) {
    try {
      KeyPair kp = dev.lattice.identity.ca.CaKeys.newP256();
      X500Name name = new X500Name("CN=localhost,O=Lattice bundle endpoint");
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new java.security.SecureRandom()).add(BigInteger.ONE),
          Date.from(now.minus(1, ChronoUnit.MINUTES)), Date.from(now.plus(365, ChronoUnit.DAYS)), name, kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      return new String[] {pem("CERTIFICATE", cert.getEncoded()), pem("PRIVATE KEY", kp.getPrivate().getEncoded())};
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a self-signed bundle endpoint certificate", e);
    }
  }

  /** A self-signed certificate for {@code localhost} / {@code 127.0.0.1}, in memory only (tests). */
  public static PemKeyCertOptions selfSignedLocalhost() {
    String[] pems = selfSigned(Instant.now());
    return new PemKeyCertOptions().setCertValue(Buffer.buffer(pems[0])).setKeyValue(Buffer.buffer(pems[1]));
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
