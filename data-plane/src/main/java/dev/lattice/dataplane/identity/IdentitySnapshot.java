package dev.lattice.dataplane.identity;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * Every SVID the proxy holds for its node's workloads, by SPIFFE ID, and the X.509 trust bundles it
 * verifies peers against, by trust domain name (e.g. {@code lattice.local}). An immutable value: a
 * rotation or a bundle change is a new snapshot with a higher {@link #revision()}. Thread-safe.
 */
public record IdentitySnapshot(
    Map<String, HeldSvid> svids, Map<String, List<X509Certificate>> bundles, long revision) {

  public IdentitySnapshot {
    svids = Map.copyOf(svids);
    bundles = bundles.entrySet().stream()
        .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, e -> List.copyOf(e.getValue())));
  }

  /** No SVIDs, no bundles (revision 0): what a source holds before its first update. */
  public static IdentitySnapshot empty() {
    return new IdentitySnapshot(Map.of(), Map.of(), 0);
  }

  /** The SVID held for {@code spiffeId}, if any. */
  public Optional<HeldSvid> svid(String spiffeId) {
    return Optional.ofNullable(svids.get(spiffeId));
  }

  /** The trust anchors of {@code trustDomain} (empty when the proxy holds no bundle for it). */
  public List<X509Certificate> bundle(String trustDomain) {
    return bundles.getOrDefault(trustDomain, List.of());
  }
}
