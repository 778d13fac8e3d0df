package dev.lattice.identity.signing;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;

/**
 * A key manager holding one X.509-SVID and its key that can be swapped at any time: the next TLS
 * handshake uses the new credential, no server or client restart needed. Empty until the first
 * {@link #update} (a client then sends no certificate). Thread-safe.
 */
public final class RotatingKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "svid";

  private record Credential(PrivateKey key, X509Certificate[] chain) {}

  private volatile Credential current;

  /** Replaces the credential: {@code chain} is leaf first, then intermediates. */
  public void update(PrivateKey key, List<X509Certificate> chain) {
    current = new Credential(key, chain.toArray(X509Certificate[]::new));
  }

  /** The current leaf, or null before the first update. */
  public X509Certificate leaf() {
    Credential c = current;
    return c == null ? null : c.chain()[0];
  }

  @Override
  public String[] getClientAliases(String keyType, Principal[] issuers) {
    return current == null ? null : new String[] {ALIAS};
  }

  @Override
  public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return current == null ? null : ALIAS;
  }

  @Override
  public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
    return current == null ? null : ALIAS;
  }

  @Override
  public String[] getServerAliases(String keyType, Principal[] issuers) {
    return current == null ? null : new String[] {ALIAS};
  }

  @Override
  public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return current == null ? null : ALIAS;
  }

  @Override
  public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
    return current == null ? null : ALIAS;
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
