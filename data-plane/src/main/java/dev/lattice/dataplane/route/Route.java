package dev.lattice.dataplane.route;

import dev.lattice.dataplane.upstream.resilience.RetryPolicy;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A matched route: its name (for flow records) and its weighted clusters. Immutable but for the split
 * counter.
 *
 * <p>The weighted split walks the golden-ratio (Weyl) sequence {@code frac(k·φ)} instead of drawing a
 * random number: it is equidistributed with a discrepancy of O(log n / n), so every window of requests
 * honours the weights to within a fraction of a point (90/10 over 2,000 requests is 1,800/200 ± 1) while
 * consecutive requests still interleave (no run of 90 to one cluster). One atomic increment per request,
 * no allocation; a config swap builds a new Route and so starts a new sequence.
 *
 * @param timeoutMillis total request timeout, or 0 for none
 * @param retryPolicy   retries and per-try timeout, or null for none
 * @param action        rewrite, redirect, direct response and header operations of the matched alternative
 */
public record Route(String name, List<UpstreamCluster> clusters, int[] cumulativeWeights, long timeoutMillis,
                    AtomicLong splitCounter, RetryPolicy retryPolicy, RouteAction action) {
  /** 2^64 / φ, the increment of the Weyl sequence in 64-bit fixed point. */
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;

  public Route(String name, List<UpstreamCluster> clusters, int[] cumulativeWeights, long timeoutMillis) {
    this(name, clusters, cumulativeWeights, timeoutMillis, new AtomicLong(), null);
  }

  public Route(String name, List<UpstreamCluster> clusters, int[] cumulativeWeights, long timeoutMillis, RetryPolicy retryPolicy) {
    this(name, clusters, cumulativeWeights, timeoutMillis, new AtomicLong(), retryPolicy);
  }

  public Route(String name, List<UpstreamCluster> clusters, int[] cumulativeWeights, long timeoutMillis, AtomicLong splitCounter,
      RetryPolicy retryPolicy) {
    this(name, clusters, cumulativeWeights, timeoutMillis, splitCounter, retryPolicy, RouteAction.forward());
  }

  /** This route with another action (one per match alternative), sharing the split sequence. */
  Route withAction(RouteAction a) {
    return a == action ? this : new Route(name, clusters, cumulativeWeights, timeoutMillis, splitCounter, retryPolicy, a);
  }

  /** The cluster for this request, by weight (a single cluster needs no counter). */
  public UpstreamCluster pickCluster() {
    return clusters.get(pickIndex());
  }

  /** The index in {@link #clusters()} of the cluster for this request, by weight; -1 when the route has none. */
  public int pickIndex() {
    if (clusters.size() <= 1) {
      return clusters.isEmpty() ? -1 : 0;
    }
    int total = cumulativeWeights[cumulativeWeights.length - 1];
    if (total <= 0) {
      return 0;
    }
    long fraction = splitCounter.getAndIncrement() * GOLDEN; // frac(k·φ) as an unsigned 64-bit fraction
    int r = (int) Math.multiplyHigh(fraction >>> 1, (long) total << 1);
    for (int i = 0; i < cumulativeWeights.length; i++) {
      if (r < cumulativeWeights[i]) {
        return i;
      }
    }
    return clusters.size() - 1;
  }
}
