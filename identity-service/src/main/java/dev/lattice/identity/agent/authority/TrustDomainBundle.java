package dev.lattice.identity.agent.authority;

import java.io.ByteArrayOutputStream;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;

/**
 * One trust domain's bundle as the agent serves it.
 *
 * @param trustDomain e.g. {@code lattice.local}
 * @param x509Authorities root certificates for X.509-SVIDs
 * @param jwtAuthoritiesJwks JWT-SVID keys as a JWKS document ({@code {"keys":[]}} when none)
 * @param sequence the server's sequence number; a higher one replaces a lower one
 */
public record TrustDomainBundle(
    String trustDomain, List<X509Certificate> x509Authorities, String jwtAuthoritiesJwks, long sequence) {

  public TrustDomainBundle {
    if (trustDomain == null || trustDomain.isBlank() || trustDomain.contains("/")) {
      throw new IllegalArgumentException(
          "trust domain: '" + trustDomain + "' (expected: a name like lattice.local)");
    }
    x509Authorities = List.copyOf(x509Authorities);
    jwtAuthoritiesJwks = jwtAuthoritiesJwks == null || jwtAuthoritiesJwks.isBlank()
        ? "{\"keys\":[]}" : jwtAuthoritiesJwks;
  }

  /** {@code spiffe://<trust domain>}, the key the Workload API uses for bundle maps. */
  public String trustDomainId() {
    return "spiffe://" + trustDomain;
  }

  /** The X.509 authorities as concatenated DER certificates (the Workload API's bundle encoding). */
  public byte[] x509AuthoritiesDer() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (X509Certificate c : x509Authorities) {
      try {
        out.writeBytes(c.getEncoded());
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode authority " + c.getSubjectX500Principal(), e);
      }
    }
    return out.toByteArray();
  }
}
