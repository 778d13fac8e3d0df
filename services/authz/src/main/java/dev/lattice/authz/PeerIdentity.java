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

  /**
   * @throws IllegalArgumentException unless the parts are those {@link #of} parses from {@code spiffeId} (with
   *     its scheme): the engine relies on it (it compares principals with their scheme, and files principal
   *     prefixes {@code <td>/ns/<namespace>/...} under the namespace)
   */
  public PeerIdentity {
    Objects.requireNonNull(spiffeId, "spiffeId");
    Objects.requireNonNull(trustDomain, "trustDomain");
    String[] parts = parse(spiffeId);
    if (!spiffeId.equals(parts[0]) || !trustDomain.equals(parts[1]) || !Objects.equals(namespace, parts[2])
        || !Objects.equals(serviceAccount, parts[3])) {
      throw new IllegalArgumentException("peer identity " + spiffeId + ": trust domain, namespace or service account"
          + " differ from the ID's (build it with PeerIdentity.of)");
    }
  }

  /**
   * Parses a SPIFFE ID ({@code spiffe://} scheme optional, as Istio principals are written).
   *
   * @throws IllegalArgumentException for an empty ID or one without a trust domain
   */
  public static PeerIdentity of(String spiffeId) {
    String[] parts = parse(spiffeId);
    return new PeerIdentity(parts[0], parts[1], parts[2], parts[3]);
  }

  /** The ID with its scheme, the trust domain, the namespace and the service account (the last two may be null). */
  private static String[] parse(String spiffeId) {
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
    return new String[] {id, td, ns, sa};
  }

  /** {@code <namespace>/<service-account>}, the form of Istio's {@code serviceAccounts}; null if either is missing. */
  public String serviceAccountKey() {
    return namespace == null || serviceAccount == null ? null : namespace + "/" + serviceAccount;
  }
}
