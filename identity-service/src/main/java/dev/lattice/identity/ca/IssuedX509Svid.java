package dev.lattice.identity.ca;

import io.spiffe.spiffeid.SpiffeId;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * A signed X.509-SVID: the leaf first, then the intermediates up to (not including) the root. Carries no
 * private key (the workload keeps its own). Immutable.
 */
public record IssuedX509Svid(SpiffeId spiffeId, List<X509Certificate> chain, String authorityId) {
  public IssuedX509Svid {
    chain = List.copyOf(chain);
  }

  public X509Certificate leaf() {
    return chain.get(0);
  }

  public Instant notAfter() {
    return leaf().getNotAfter().toInstant();
  }

  public String serialHex() {
    return leaf().getSerialNumber().toString(16);
  }
}
