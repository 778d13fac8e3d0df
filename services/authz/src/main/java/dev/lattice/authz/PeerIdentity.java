package dev.lattice.authz;

import java.util.Objects;

/**
 * The authenticated peer of a connection (from its mTLS certificate): its SPIFFE ID and, for IDs of the
 * form {@code spiffe://<td>/ns/<namespace>/sa/<service-account>}, the namespace and service account
 * policies match on. Build once per connection ({@link #of}); immutable and thread-safe.
 *
 * @param spiffeId the full SPIFFE ID with its scheme, e.g. {@code spiffe://lattice.local/ns/prod/sa/web}
 * @param trustDomain e.g. {@code lattice.local}
 * @param namespace from the {@code /ns/<namespace>/} segment, or null
 * @param serviceAccount from the {@code /sa/<name>} segment after the namespace, or null
 */
public record PeerIdentity(String spiffeId, String trustDomain, String namespace, String serviceAccount) {

  /** The SPIFFE URI scheme. */
  public static final String SCHEME = "spiffe://";

  public PeerIdentity {
    Objects.requireNonNull(spiffeId, "spiffeId");
    Objects.requireNonNull(trustDomain, "trustDomain");
  }

  /**
   * Parses a SPIFFE ID ({@code spiffe://} scheme optional, as Istio principals are written).
   *
   * @throws IllegalArgumentException for an empty ID or one without a trust domain
   */
  public static PeerIdentity of(String spiffeId) {
    if (spiffeId == null || spiffeId.isEmpty()) {
      throw new IllegalArgumentException("peer SPIFFE ID: empty (expected: spiffe://<trust-domain>/<path>)");
    }
    String id = spiffeId.startsWith(SCHEME) ? spiffeId : SCHEME + spiffeId;
    int slash = id.indexOf('/', SCHEME.length());
    String td = slash < 0 ? id.substring(SCHEME.length()) : id.substring(SCHEME.length(), slash);
    if (td.isEmpty()) {
      throw new IllegalArgumentException("peer SPIFFE ID \"" + spiffeId + "\": no trust domain (expected: spiffe://<trust-domain>/<path>)");
    }
    String ns = null;
    String sa = null;
    if (slash >= 0) {
      String[] segs = id.substring(slash + 1).split("/", -1);
      for (int i = 0; i + 1 < segs.length; i++) {
        if (segs[i].equals("ns") && ns == null) {
          ns = segs[i + 1];
          if (i + 3 < segs.length && segs[i + 2].equals("sa")) sa = segs[i + 3];
          break;
        }
      }
    }
    return new PeerIdentity(id, td, ns, sa);
  }

  /** {@code <namespace>/<service-account>}, the form of Istio's {@code serviceAccounts}; null if either is missing. */
  public String serviceAccountKey() {
    return namespace == null || serviceAccount == null ? null : namespace + "/" + serviceAccount;
  }
}
