package dev.lattice.identity.agent.authority;

import java.util.List;

/**
 * What the identity server says this node serves at one revision: its entries, its trust domain's
 * bundle and the federated bundles.
 *
 * <p>Immutable.
 */
public record NodeSnapshot(
    List<AgentEntry> entries, TrustDomainBundle bundle, List<TrustDomainBundle> federatedBundles,
    long revision) {

  public NodeSnapshot {
    entries = List.copyOf(entries);
    federatedBundles = List.copyOf(federatedBundles);
    if (bundle == null) {
      throw new IllegalArgumentException("snapshot " + revision + " has no trust bundle");
    }
  }
}
