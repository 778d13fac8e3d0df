package dev.lattice.distributor.server;

import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.LatticeConfig;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * Loads the stream's {@link StreamTls} from PEM files: {@code distributor.tls.cert} (the distributor's
 * SVID chain, leaf first), {@code distributor.tls.key} (its PKCS#8 key), {@code distributor.tls.bundle}
 * (the trust bundle's X.509 authorities) and {@code distributor.tls.trust-domain} (default
 * {@code lattice.local}). Missing or unreadable files are a {@link ConfigException} naming the key. Stateless.
 */
public final class StreamTlsFiles {

  private StreamTlsFiles() {}

  public static StreamTls load(LatticeConfig config) {
    TrustDomain td;
    String tdName = config.get("distributor.tls.trust-domain", "lattice.local");
    try {
      td = TrustDomain.parse(tdName);
    } catch (RuntimeException e) {
      throw new ConfigException("distributor.tls.trust-domain: '" + tdName + "' " + e.getMessage());
    }
    byte[] cert = read(config, "distributor.tls.cert");
    byte[] key = read(config, "distributor.tls.key");
    byte[] bundle = read(config, "distributor.tls.bundle");
    List<X509Certificate> anchors;
    try {
      anchors = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(bundle)).stream()
          .map(X509Certificate.class::cast).toList();
    } catch (CertificateException e) {
      throw new ConfigException("distributor.tls.bundle: not PEM X.509 certificates: " + e.getMessage(), e);
    }
    if (anchors.isEmpty()) {
      throw new ConfigException("distributor.tls.bundle: no certificate (expected: the trust bundle's X.509 authorities)");
    }
    PemKeyCertOptions keys = new PemKeyCertOptions().addCertValue(Buffer.buffer(cert)).addKeyValue(Buffer.buffer(key));
    return new StreamTls(td, keys, () -> anchors);
  }

  private static byte[] read(LatticeConfig config, String key) {
    String path = config.find(key).orElseThrow(() -> new ConfigException(key + ": not set (expected: a PEM file; "
        + "the config stream needs mTLS — set distributor.grpc.plaintext=true only for local development)"));
    try {
      return Files.readAllBytes(Path.of(path));
    } catch (IOException e) {
      throw new ConfigException(key + ": cannot read " + path + ": " + e, e);
    }
  }
}
