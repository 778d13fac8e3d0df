package dev.lattice.configclient.tls;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager serving one X.509-SVID and its key, swappable at any time: the next TLS handshake
 * presents the new credential (give it to Vert.x with {@code KeyCertOptions.wrap(keyManager)}), so a
 * renewed SVID needs no server or client restart. Empty until the first {@link #update} (a client then
 * sends no certificate, a server cannot complete a handshake). Thread-safe.
 */
public final class SvidKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "svid";

  private record Credential(PrivateKey key, X509Certificate[] chain) {}

  private volatile Credential current;

  /** Replaces the credential: {@code chain} is leaf first, then intermediates. */
  public void update(PrivateKey key, List<X509Certificate> chain) {
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("chain: empty (expected: the SVID leaf first)");
    }
    current = new Credential(key, chain.toArray(X509Certificate[]::new));
  }

  /** The current leaf, or null before the first update. */
  public X509Certificate leaf() {
    Credential c = current;
    return c == null ? null : c.chain()[0];
  }

  private String alias() {
    return current == null ? null : ALIAS;
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return current == null ? null : new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return alias();
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return alias();
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return current == null ? null : new String[] {ALIAS};
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return alias();
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return alias();
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    Credential c = current;
    return c == null ? null : c.chain().clone();
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    Credential c = current;
    return c == null ? null : c.key();
  }
}
