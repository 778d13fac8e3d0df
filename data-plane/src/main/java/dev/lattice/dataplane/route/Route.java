package dev.lattice.dataplane.route;

import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A matched route: its name (for flow records) and its weighted clusters. Immutable.
 *
 * @param timeoutMillis total request timeout, or 0 for none
 */
public record Route(String name, List<UpstreamCluster> clusters, int[] cumulativeWeights, long timeoutMillis) {

  /** The cluster for this request, by weight (a single cluster needs no random number). */
  public UpstreamCluster pickCluster() {
    if (clusters.size() == 1) {
      return clusters.get(0);
    }
    int total = cumulativeWeights[cumulativeWeights.length - 1];
    if (total <= 0) {
      return clusters.get(0);
    }
    int r = ThreadLocalRandom.current().nextInt(total);
    for (int i = 0; i < cumulativeWeights.length; i++) {
      if (r < cumulativeWeights[i]) {
        return clusters.get(i);
      }
    }
    return clusters.get(clusters.size() - 1);
  }
}
