package dev.lattice.identity.entry;

import java.util.List;

/**
 * An entry as a client asks for it (REST body, CLI flags), before validation. Null TTLs mean the
 * defaults; a null hint means none. Immutable.
 */
public record EntryDraft(String spiffeId, String parentId, List<String> selectors, Integer x509SvidTtlSeconds,
    Integer jwtSvidTtlSeconds, List<String> dnsNames, boolean admin, String hint) {
  public EntryDraft {
    selectors = selectors == null ? List.of() : List.copyOf(selectors);
    dnsNames = dnsNames == null ? List.of() : List.copyOf(dnsNames);
    hint = hint == null ? "" : hint;
  }
}
