package dev.lattice.identity.agent.authority;

import dev.lattice.identity.agent.attestor.Selector;
import java.util.List;
import java.util.Set;

/**
 * A registration entry as the node agent serves it: the workloads whose selectors include ALL of
 * {@link #selectors()} get {@link #spiffeId()}.
 *
 * @param id entry id, the key the identity server signs by
 * @param spiffeId the identity granted
 * @param selectors what a caller must show, all of them; never empty
 * @param x509SvidTtlSeconds requested X.509-SVID lifetime (0 = the server's default)
 * @param jwtSvidTtlSeconds requested JWT-SVID lifetime (0 = the server's default)
 * @param dnsNames DNS SANs to request
 * @param hint optional hint for workloads holding several identities ("" when none)
 * @param revision the server's revision of this entry; a new revision means a new SVID
 * @param createdAt when the entry was created; a workload's SVIDs are ordered by it (see
 *     {@link dev.lattice.identity.agent.svid.AgentState#entriesMatching})
 */
public record AgentEntry(
    String id,
    String spiffeId,
    Set<Selector> selectors,
    int x509SvidTtlSeconds,
    int jwtSvidTtlSeconds,
    List<String> dnsNames,
    String hint,
    long revision,
    java.time.Instant createdAt) {

  /** An entry without a creation time (it sorts as the oldest; ties by id). */
  public AgentEntry(String id, String spiffeId, Set<Selector> selectors, int x509SvidTtlSeconds,
      int jwtSvidTtlSeconds, List<String> dnsNames, String hint, long revision) {
    this(id, spiffeId, selectors, x509SvidTtlSeconds, jwtSvidTtlSeconds, dnsNames, hint, revision, java.time.Instant.EPOCH);
  }

  public AgentEntry {
    if (id == null || id.isBlank()) {
      throw new IllegalArgumentException("entry id is empty");
    }
    if (spiffeId == null || !spiffeId.startsWith("spiffe://")) {
      throw new IllegalArgumentException(
          "entry " + id + ": spiffe id '" + spiffeId + "' (expected: spiffe://<trust-domain>/<path>)");
    }
    selectors = Set.copyOf(selectors);
    if (selectors.isEmpty()) {
      throw new IllegalArgumentException("entry " + id + " has no selectors (expected: at least one)");
    }
    dnsNames = List.copyOf(dnsNames);
    hint = hint == null ? "" : hint;
    createdAt = createdAt == null ? java.time.Instant.EPOCH : createdAt;
  }

  /** True when the caller shows every selector of this entry. */
  public boolean matches(Set<Selector> callerSelectors) {
    return callerSelectors.containsAll(selectors);
  }
}
