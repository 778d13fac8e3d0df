package dev.lattice.identity.agent.authority;

import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A certificate chain the identity server signed for a CSR (no private key: it never left the agent).
 *
 * @param spiffeId the identity in the leaf's URI SAN
 * @param chain leaf first, then intermediates up to (not including) the root
 * @param entryId the entry it was signed for ("" for a node SVID)
 */
public record SignedX509Svid(String spiffeId, List<X509Certificate> chain, String entryId) {

  public SignedX509Svid {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("signed SVID for " + spiffeId + " has no certificate");
    }
    entryId = entryId == null ? "" : entryId;
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notBefore() {
    return leaf().getNotBefore().toInstant();
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }
}
