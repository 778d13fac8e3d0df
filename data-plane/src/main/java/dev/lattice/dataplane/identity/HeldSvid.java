package dev.lattice.dataplane.identity;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * One workload's X.509-SVID as the proxy holds it: the SPIFFE ID, the certificate chain (leaf first,
 * then any intermediates), the private key and the leaf's expiry. Immutable; thread-safe.
 *
 * <p>The key was made on this node (by the node agent) and never leaves this process: it is never
 * logged, serialized or sent anywhere. {@link #toString()} leaves it out.
 */
public record HeldSvid(String spiffeId, List<X509Certificate> chain, PrivateKey privateKey, Instant notAfter) {

  public HeldSvid {
    Objects.requireNonNull(spiffeId, "spiffeId");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(notAfter, "notAfter");
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("chain: empty (expected: the leaf certificate first)");
    }
  }

  /** The leaf certificate (the SVID itself). */
  public X509Certificate leaf() {
    return chain.get(0);
  }

  @Override
  public String toString() {
    return "HeldSvid[" + spiffeId + ", notAfter=" + notAfter + ", chain=" + chain.size() + " cert(s)]";
  }
}
