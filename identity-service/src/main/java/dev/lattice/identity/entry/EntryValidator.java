package dev.lattice.identity.entry;

import dev.lattice.identity.spiffe.InvalidSpiffeIdException;
import dev.lattice.identity.spiffe.SpiffeIds;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Turns an {@link EntryDraft} into a {@link RegistrationEntryRecord} or an {@link EntryValidationException}
 * naming the field, the value seen and what was expected: SPIFFE IDs per the SPIFFE-ID standard (leaf,
 * in this trust domain), a known parent (an attested or announced node, or another entry's SPIFFE ID),
 * at least one well-formed selector, TTLs in range, DNS names per RFC 1123 (no wildcards unless allowed), no
 * SPIFFE ID in the reserved {@code /lattice/} path, no duplicate (same SPIFFE
 * ID, parent and selectors). Pure and thread-safe.
 */
public final class EntryValidator {

  static final Duration MAX_TTL = Duration.ofDays(30);
  /** Hints: printable ASCII, no control characters (they end up in Workload API responses). */
  private static final Pattern HINT = Pattern.compile("[\\x20-\\x7e]*");
  private static final Pattern DNS_NAME = Pattern.compile(
      "(\\*\\.)?([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)(\\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*");

  private final TrustDomain trustDomain;
  private final boolean allowWildcardDnsNames;

  /** A validator that refuses wildcard DNS names ({@code *.example.com}). */
  public EntryValidator(TrustDomain trustDomain) {
    this(trustDomain, false);
  }

  /**
   * @param allowWildcardDnsNames accept {@code *.} DNS names in entries (admin setting
   *     {@code identity.entries.allow-wildcard-dns}); off by default: a wildcard SVID can impersonate every
   *     host under that domain
   */
  public EntryValidator(TrustDomain trustDomain, boolean allowWildcardDnsNames) {
    this.trustDomain = trustDomain;
    this.allowWildcardDnsNames = allowWildcardDnsNames;
  }

  /**
   * Validates {@code draft} against the current entries and the nodes known to exist.
   *
   * @param existing every current entry (also those published but not yet folded)
   * @param knownNodes node SPIFFE IDs that may parent entries besides node entries on the topic
   */
  public RegistrationEntryRecord validate(String id, EntryDraft draft, Collection<RegistrationEntryRecord> existing,
      Set<SpiffeId> knownNodes, Instant now) {
    SpiffeId spiffeId = spiffeId("spiffeId", draft.spiffeId());
    SpiffeId parentId = spiffeId("parentId", draft.parentId());
    if (SpiffeIds.isReserved(spiffeId, trustDomain)) {
      throw new EntryValidationException("spiffeId: " + spiffeId + " (expected: not under "
          + SpiffeIds.RESERVED_PATH_PREFIX + ", which is reserved for the identities Lattice mints itself: the"
          + " signing server, nodes at attestation)");
    }
    boolean parentKnown = knownNodes.contains(parentId)
        || existing.stream().anyMatch(e -> e.spiffeId().equals(parentId));
    if (!parentKnown) {
      throw new EntryValidationException("parentId: " + parentId
          + " is unknown (expected: the SPIFFE ID of an attested node, a node with an unused join token, or an existing entry)");
    }
    if (draft.selectors().isEmpty()) {
      throw new EntryValidationException("selectors: [] (expected: at least one selector, e.g. unix:uid:1000 or k8s:ns:default)");
    }
    List<EntrySelector> selectors = new ArrayList<>();
    for (String s : draft.selectors()) {
      EntrySelector parsed = EntrySelector.parse(s);
      if (!selectors.contains(parsed)) {
        selectors.add(parsed);
      }
    }
    Duration x509 = ttl("x509SvidTtlSeconds", draft.x509SvidTtlSeconds(), RegistrationEntryRecord.DEFAULT_X509_TTL);
    Duration jwt = ttl("jwtSvidTtlSeconds", draft.jwtSvidTtlSeconds(), RegistrationEntryRecord.DEFAULT_JWT_TTL);
    for (String dns : draft.dnsNames()) {
      if (dns == null || dns.length() > 253 || !DNS_NAME.matcher(dns).matches()) {
        throw new EntryValidationException("dnsNames: '" + dns
            + "' (expected: a lowercase RFC 1123 host name, optionally starting with '*.')");
      }
      if (dns.startsWith("*.") && !allowWildcardDnsNames) {
        throw new EntryValidationException("dnsNames: '" + dns + "' (expected: no wildcard DNS names; an admin"
            + " may allow them with identity.entries.allow-wildcard-dns=true)");
      }
    }
    if (draft.hint().length() > 64 || !HINT.matcher(draft.hint()).matches()) {
      throw new EntryValidationException("hint: '" + draft.hint()
          + "' (expected: at most 64 printable ASCII characters, e.g. internal or external)");
    }
    RegistrationEntryRecord entry = new RegistrationEntryRecord(id, spiffeId, parentId, selectors, x509, jwt,
        draft.dnsNames(), draft.admin(), now, 1, draft.hint());
    for (RegistrationEntryRecord other : existing) {
      if (other.sameIdentityAs(entry)) {
        throw new EntryValidationException("duplicate: entry " + other.id() + " already gives " + spiffeId
            + " to parent " + parentId + " with selectors " + other.selectors()
            + " (expected: a different SPIFFE ID, parent or selector set)");
      }
    }
    return entry;
  }

  private SpiffeId spiffeId(String field, String text) {
    try {
      return SpiffeIds.parseLeafIn(text, trustDomain);
    } catch (InvalidSpiffeIdException e) {
      throw new EntryValidationException(field + ": " + e.getMessage());
    }
  }

  private static Duration ttl(String field, Integer seconds, Duration fallback) {
    if (seconds == null || seconds == 0) {
      return fallback;
    }
    if (seconds < 60 || seconds > MAX_TTL.toSeconds()) {
      throw new EntryValidationException(field + ": " + seconds + " (expected: 60.." + MAX_TTL.toSeconds()
          + " seconds, or 0 for the default " + fallback.toSeconds() + ")");
    }
    return Duration.ofSeconds(seconds);
  }
}
