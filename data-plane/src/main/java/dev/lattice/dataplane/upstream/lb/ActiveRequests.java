package dev.lattice.dataplane.upstream.lb;

import java.net.InetSocketAddress;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Requests in flight per endpoint of one cluster, for the least-request balancer (Envoy's
 * {@code rq_active}). Shared across event loops, so one atomic counter per endpoint; carried from one
 * config snapshot to the next for the endpoints that stay, so a push does not forget the load.
 */
public final class ActiveRequests {
  private final Map<InetSocketAddress, AtomicInteger> counts = new ConcurrentHashMap<>();

  /** Counters for {@code endpoints}, keeping {@code previous}'s for those it already tracks. */
  public static ActiveRequests of(Collection<InetSocketAddress> endpoints, ActiveRequests previous) {
    ActiveRequests a = new ActiveRequests();
    for (InetSocketAddress e : endpoints) {
      AtomicInteger old = previous == null ? null : previous.counts.get(e);
      a.counts.put(e, old != null ? old : new AtomicInteger());
    }
    return a;
  }

  /** A request to {@code endpoint} started. */
  public void started(InetSocketAddress endpoint) {
    AtomicInteger c = counts.get(endpoint);
    if (c != null) {
      c.incrementAndGet();
    }
  }

  /** A request to {@code endpoint} ended (exactly once per {@link #started}). */
  public void ended(InetSocketAddress endpoint) {
    AtomicInteger c = counts.get(endpoint);
    if (c != null) {
      c.decrementAndGet();
    }
  }

  /** Requests in flight to {@code endpoint}. */
  public int count(InetSocketAddress endpoint) {
    AtomicInteger c = counts.get(endpoint);
    return c == null ? 0 : c.get();
  }
}
