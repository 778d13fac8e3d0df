package dev.lattice.testkit.tls;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.X509KeyManager;

/**
 * An X.509-SVID minted by a {@link TestSpiffeCa}: the private key and the chain (leaf, then the root),
 * as Java objects, PEM text or a ready {@link X509KeyManager}. Immutable.
 */
public record TestSvid(String spiffeId, PrivateKey privateKey, List<X509Certificate> chain) {

  public TestSvid {
    chain = List.copyOf(chain);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  /** The chain as PEM, leaf first. */
  public String certPem() {
    StringBuilder b = new StringBuilder();
    chain.forEach(c -> b.append(pem("CERTIFICATE", TestSpiffeCa.encoded(c))));
    return b.toString();
  }

  /** The key as PKCS#8 PEM. */
  public String keyPem() {
    return pem("PRIVATE KEY", privateKey.getEncoded());
  }

  /** A key manager presenting this SVID. */
  public X509KeyManager keyManager() {
    try {
      KeyStore ks = KeyStore.getInstance("PKCS12");
      ks.load(null, null);
      ks.setKeyEntry("svid", privateKey, new char[0], chain.toArray(X509Certificate[]::new));
      KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      kmf.init(ks, new char[0]);
      return (X509KeyManager) kmf.getKeyManagers()[0];
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalStateException("key manager for " + spiffeId + " failed", e);
    }
  }

  static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }
}
