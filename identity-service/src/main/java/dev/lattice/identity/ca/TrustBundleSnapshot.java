package dev.lattice.identity.ca;

import io.spiffe.spiffeid.TrustDomain;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;

/**
 * One version of a trust domain's SPIFFE bundle: the X.509 authorities (roots), the JWT authorities,
 * the bundle sequence (monotonic; bumped on every change) and the refresh hint. Public material only.
 * Immutable; a change is a new snapshot.
 */
public record TrustBundleSnapshot(
    TrustDomain trustDomain,
    List<X509Certificate> x509Authorities,
    List<JwtAuthority> jwtAuthorities,
    long sequence,
    Duration refreshHint) {

  public TrustBundleSnapshot {
    x509Authorities = List.copyOf(x509Authorities);
    jwtAuthorities = List.copyOf(jwtAuthorities);
  }
}
