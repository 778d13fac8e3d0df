package dev.lattice.identity.agent.delegated;

import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.svid.AgentState;
import java.util.Optional;
import java.util.Set;

/**
 * An authorized caller of the Delegated Identity API: by its peer uid, or by the selectors its process
 * was attested with (then it stays authorized only while those selectors still match an entry with an
 * authorized SPIFFE ID — an entry removed or changed revokes it, as in SPIRE). Immutable.
 *
 * @param uid the kernel-reported uid of the connection
 * @param pid the kernel-reported pid of the connection
 * @param attested the selectors when authorized by SPIFFE ID; empty when authorized by uid
 */
record Delegate(int uid, int pid, Optional<Set<Selector>> attested) {

  Delegate {
    attested = attested.map(Set::copyOf);
  }

  /** True while this caller may still receive updates from {@code state}. */
  boolean stillAuthorized(AgentState state, Set<String> authorizedSpiffeIds) {
    return attested.isEmpty() || authorizedIdOf(attested.get(), state, authorizedSpiffeIds).isPresent();
  }

  /** The authorized SPIFFE ID among the entries matching {@code selectors}, if any. */
  static Optional<String> authorizedIdOf(Set<Selector> selectors, AgentState state, Set<String> authorized) {
    return state.entriesMatching(selectors).stream()
        .map(e -> e.spiffeId())
        .filter(authorized::contains)
        .findFirst();
  }

  @Override
  public String toString() {
    return "delegate[uid " + uid + ", pid " + pid + (attested.isPresent() ? ", by SPIFFE ID" : ", by uid") + "]";
  }
}
