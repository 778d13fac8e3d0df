package dev.lattice.identity.agent.svid;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.authority.AgentEntry;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which SVID is a workload's default when several entries match it: the documented rule. */
class AgentStateTest {

  static final Set<Selector> CALLER = Set.of(Selector.unixUid(1000), new Selector("unix", "gid:50"));
  static final Instant T0 = Instant.parse("2026-05-01T10:00:00Z");

  static AgentEntry entry(String id, String path, Instant createdAt, Selector... selectors) {
    return new AgentEntry(id, "spiffe://lattice.local" + path, Set.of(selectors), 0, 0, List.of(), "", 1, createdAt);
  }

  static AgentState state(Map<String, AgentEntry> entries) {
    return new AgentState(entries, Map.of(), Optional.empty(), List.of(), 1, 1);
  }

  @Test
  void theOldestEntryIsTheDefaultAndAnUnrelatedNewEntryDoesNotFlipIt() {
    Map<String, AgentEntry> entries = new HashMap<>();
    // random UUIDs as ids: the older entry's id sorts after the newer one's
    entries.put("f3a1", entry("f3a1", "/ns/shop/sa/web", T0, Selector.unixUid(1000)));
    entries.put("b7c2", entry("b7c2", "/ns/shop/sa/web-admin", T0.plusSeconds(60), Selector.unixUid(1000)));
    assertThat(state(entries).entriesMatching(CALLER)).extracting(AgentEntry::id).containsExactly("f3a1", "b7c2");

    // a third matching entry, created later, with an id that sorts first: the default stays
    entries.put("0a00", entry("0a00", "/ns/shop/sa/metrics", T0.plusSeconds(120), new Selector("unix", "gid:50")));
    // and an entry for another workload changes nothing for this one
    entries.put("0001", entry("0001", "/ns/other/sa/db", T0.plusSeconds(180), Selector.unixUid(2000)));
    assertThat(state(entries).entriesMatching(CALLER)).extracting(AgentEntry::id).containsExactly("f3a1", "b7c2", "0a00");
  }

  @Test
  void entriesCreatedAtTheSameInstantAreOrderedById() {
    Map<String, AgentEntry> entries = new HashMap<>();
    entries.put("c", entry("c", "/ns/a/sa/c", T0, Selector.unixUid(1000)));
    entries.put("a", entry("a", "/ns/a/sa/a", T0, Selector.unixUid(1000)));
    entries.put("b", entry("b", "/ns/a/sa/b", T0, Selector.unixUid(1000)));
    assertThat(state(entries).entriesMatching(CALLER)).extracting(AgentEntry::id).containsExactly("a", "b", "c");
  }
}
