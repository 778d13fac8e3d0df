package dev.lattice.identity.entry;

import io.spiffe.spiffeid.SpiffeId;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * A registration entry: workloads matching every selector, attested by the node {@code parentId}, get
 * {@code spiffeId}. The in-memory value of {@code dev.lattice.events.RegistrationEntry} (mapped in
 * {@link EntryEvents}). Immutable.
 *
 * @param x509SvidTtl lifetime of X.509-SVIDs (default 1h)
 * @param jwtSvidTtl lifetime of JWT-SVIDs (default 5m)
 * @param admin the workload may call the identity admin API
 * @param revision monotonic; increased on every change
 * @param hint optional hint for workloads holding several identities ("" when none)
 */
public record RegistrationEntryRecord(
    String id,
    SpiffeId spiffeId,
    SpiffeId parentId,
    List<EntrySelector> selectors,
    Duration x509SvidTtl,
    Duration jwtSvidTtl,
    List<String> dnsNames,
    boolean admin,
    Instant createdAt,
    long revision,
    String hint) {

  public static final Duration DEFAULT_X509_TTL = Duration.ofHours(1);
  public static final Duration DEFAULT_JWT_TTL = Duration.ofMinutes(5);

  public RegistrationEntryRecord {
    selectors = List.copyOf(selectors);
    dnsNames = List.copyOf(dnsNames);
    hint = hint == null ? "" : hint;
  }

  /** Entries are duplicates when they give the same SPIFFE ID to the same parent on the same selectors. */
  public boolean sameIdentityAs(RegistrationEntryRecord other) {
    return spiffeId.equals(other.spiffeId) && parentId.equals(other.parentId)
        && Set.copyOf(selectors).equals(Set.copyOf(other.selectors));
  }
}
