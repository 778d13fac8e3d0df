package dev.lattice.identity.entry;

import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.Selector;
import io.spiffe.spiffeid.SpiffeId;
import java.time.Duration;

/** Maps entries between the domain record and the Avro event of {@code lattice.entries.v1}. Stateless. */
public final class EntryEvents {

  private EntryEvents() {}

  public static RegistrationEntry toEvent(RegistrationEntryRecord e) {
    return RegistrationEntry.newBuilder()
        .setId(e.id())
        .setSpiffeId(e.spiffeId().toString())
        .setParentId(e.parentId().toString())
        .setSelectors(e.selectors().stream().map(s -> new Selector(s.type(), s.value())).toList())
        .setX509SvidTtlSeconds((int) e.x509SvidTtl().toSeconds())
        .setJwtSvidTtlSeconds((int) e.jwtSvidTtl().toSeconds())
        .setDnsNames(e.dnsNames())
        .setAdmin(e.admin())
        .setDownstream(false)
        .setCreatedAt(e.createdAt())
        .setRevision(e.revision())
        .setHint(e.hint())
        .build();
  }

  /** Maps an event read from the topic; events were validated before they were written. */
  public static RegistrationEntryRecord fromEvent(RegistrationEntry e) {
    return new RegistrationEntryRecord(
        e.getId(),
        SpiffeId.parse(e.getSpiffeId()),
        SpiffeId.parse(e.getParentId()),
        e.getSelectors().stream().map(s -> new EntrySelector(s.getType(), s.getValue())).toList(),
        e.getX509SvidTtlSeconds() <= 0 ? RegistrationEntryRecord.DEFAULT_X509_TTL : Duration.ofSeconds(e.getX509SvidTtlSeconds()),
        e.getJwtSvidTtlSeconds() <= 0 ? RegistrationEntryRecord.DEFAULT_JWT_TTL : Duration.ofSeconds(e.getJwtSvidTtlSeconds()),
        e.getDnsNames(),
        e.getAdmin(),
        e.getCreatedAt(),
        e.getRevision(),
        e.getHint());
  }
}
