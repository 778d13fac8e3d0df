package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Everything the agent serves at one moment: the entries of this node, the SVIDs it holds for them,
 * and the bundles. A change is a new state with a higher {@link #version()}.
 *
 * <p>Immutable; free of Vert.x and gRPC so it can be tested directly.
 *
 * @param entries by entry id
 * @param svids the current X.509-SVID of each entry that has one, by entry id
 * @param bundle this trust domain's bundle, empty until the server sent one
 * @param federatedBundles other trust domains' bundles
 * @param snapshotRevision revision of the last server snapshot applied (-1 = none yet)
 * @param version local, monotonic
 */
public record AgentState(
    Map<String, AgentEntry> entries,
    Map<String, WorkloadX509Svid> svids,
    Optional<TrustDomainBundle> bundle,
    List<TrustDomainBundle> federatedBundles,
    long snapshotRevision,
    long version) {

  /**
   * The documented order of a workload's identities: oldest entry first, ties by entry id. The first
   * is the workload's default SVID (the Workload API lists it first), so adding or deleting another
   * entry never changes a workload's default unless that entry is older.
   */
  public static final Comparator<AgentEntry> DEFAULT_FIRST =
      Comparator.comparing(AgentEntry::createdAt).thenComparing(AgentEntry::id);

  public AgentState {
    entries = Map.copyOf(entries);
    svids = Map.copyOf(svids);
    federatedBundles = List.copyOf(federatedBundles);
  }

  /** The state before the server said anything. */
  public static AgentState empty() {
    return new AgentState(Map.of(), Map.of(), Optional.empty(), List.of(), -1, 0);
  }

  /** Entries whose selectors are all among {@code callerSelectors}, in {@link #DEFAULT_FIRST} order. */
  public List<AgentEntry> entriesMatching(Set<Selector> callerSelectors) {
    return entries.values().stream().filter(e -> e.matches(callerSelectors)).sorted(DEFAULT_FIRST).toList();
  }

  /** The SVIDs held for the entries matching {@code callerSelectors}, in {@link #DEFAULT_FIRST} order. */
  public List<WorkloadX509Svid> svidsMatching(Set<Selector> callerSelectors) {
    return entriesMatching(callerSelectors).stream()
        .map(e -> svids.get(e.id()))
        .filter(java.util.Objects::nonNull)
        .toList();
  }
}
