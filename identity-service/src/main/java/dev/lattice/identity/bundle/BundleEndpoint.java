package dev.lattice.identity.bundle;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
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
 * one a self-signed {@code localhost} certificate is made at start-up (local use only; logged).
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

  /** A self-signed certificate for {@code localhost} / {@code 127.0.0.1}, for local runs and tests. */
  public static PemKeyCertOptions selfSignedLocalhost() {
    try {
      KeyPair kp = dev.lattice.identity.ca.CaKeys.newP256();
      X500Name name = new X500Name("CN=localhost,O=Lattice bundle endpoint");
      Instant now = Instant.now();
      JcaX509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, new BigInteger(64, new java.security.SecureRandom()).add(BigInteger.ONE),
          Date.from(now.minus(1, ChronoUnit.MINUTES)), Date.from(now.plus(365, ChronoUnit.DAYS)), name, kp.getPublic());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(KeyPurposeId.id_kp_serverAuth));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(new GeneralName[] {
          new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
      X509Certificate cert = new JcaX509CertificateConverter().getCertificate(
          b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(kp.getPrivate())));
      log.warn("bundle endpoint: no identity.bundle.endpoint.cert configured; serving a self-signed localhost certificate");
      return new PemKeyCertOptions()
          .setCertValue(Buffer.buffer(pem("CERTIFICATE", cert.getEncoded())))
          .setKeyValue(Buffer.buffer(pem("PRIVATE KEY", kp.getPrivate().getEncoded())));
    } catch (Exception e) {
      throw new IllegalStateException("cannot make a self-signed bundle endpoint certificate", e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
