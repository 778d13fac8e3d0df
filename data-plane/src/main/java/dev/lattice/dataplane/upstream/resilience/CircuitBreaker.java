package dev.lattice.dataplane.upstream.resilience;

import dev.lattice.events.policy.ConnectionPoolSettings;
import dev.lattice.events.policy.HttpConnectionSettings;
import dev.lattice.events.policy.TcpConnectionSettings;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Envoy's cluster circuit breakers from Istio's {@code connectionPool}: open upstream connections,
 * requests waiting for a connection (pending), active requests and active retries of one cluster, each
 * against a limit; past it the request is refused with 503 {@code UO} (a retry is just not made). The
 * counters are shared by every event loop (atomics, no lock) and outlive config pushes — a request
 * releases what it took from the breaker it took it from — while the limits are those of the newest
 * snapshot. Unset limits are unlimited (Istio's defaults).
 */
public final class CircuitBreaker {
  /** The limits of one snapshot; {@link Integer#MAX_VALUE} = unlimited, {@code maxRequestsPerConnection} 0 = unlimited. */
  public record Limits(int maxConnections, int maxPendingRequests, int maxRequests, int maxRetries, int maxRequestsPerConnection) {
    public static final Limits NONE = new Limits(Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, Integer.MAX_VALUE, 0);

    public static Limits of(ConnectionPoolSettings cp) {
      if (cp == null) {
        return NONE;
      }
      TcpConnectionSettings tcp = cp.getTcp();
      HttpConnectionSettings http = cp.getHttp();
      Limits l = new Limits(
          limit("tcp.maxConnections", tcp == null ? null : tcp.getMaxConnections(), 1),
          limit("http.http1MaxPendingRequests", http == null ? null : http.getHttp1MaxPendingRequests(), 1),
          limit("http.http2MaxRequests", http == null ? null : http.getHttp2MaxRequests(), 1),
          limit("http.maxRetries", http == null ? null : http.getMaxRetries(), 0),
          http == null || http.getMaxRequestsPerConnection() == null ? 0 : http.getMaxRequestsPerConnection());
      if (l.maxRequestsPerConnection < 0) {
        throw new IllegalArgumentException("trafficPolicy.connectionPool.http.maxRequestsPerConnection: " + l.maxRequestsPerConnection
            + " (expected: >= 0, 0 = unlimited)");
      }
      return l;
    }

    private static int limit(String field, Integer v, int min) {
      if (v == null) {
        return Integer.MAX_VALUE;
      }
      if (v < min) {
        throw new IllegalArgumentException("trafficPolicy.connectionPool." + field + ": " + v + " (expected: >= " + min + ")");
      }
      return v;
    }

    public boolean unlimited() {
      return maxConnections == Integer.MAX_VALUE && maxPendingRequests == Integer.MAX_VALUE && maxRequests == Integer.MAX_VALUE
          && maxRetries == Integer.MAX_VALUE;
    }
  }

  private volatile Limits limits;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger pending = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicLong overflows = new AtomicLong();
  /** Wakers of event loops with requests queued for a connection of this cluster (run when one closes). */
  private final Set<Runnable> capacityListeners = ConcurrentHashMap.newKeySet();

  public CircuitBreaker(Limits limits) {
    this.limits = limits;
  }

  public Limits limits() {
    return limits;
  }

  /** A config push changed the limits; the counts carry on. */
  public void limits(Limits l) {
    this.limits = l;
  }

  /** Takes a request slot; false (nothing taken, an overflow counted) past maxRequests. */
  public boolean tryAcquireRequest() {
    return tryAcquire(requests, limits.maxRequests());
  }

  public void releaseRequest() {
    requests.decrementAndGet();
  }

  /** Takes a pending slot (a request waiting for a connection); false past http1MaxPendingRequests. */
  public boolean tryAcquirePending() {
    return tryAcquire(pending, limits.maxPendingRequests());
  }

  public void releasePending() {
    pending.decrementAndGet();
  }

  /** Takes a retry slot; false past maxRetries. */
  public boolean tryAcquireRetry() {
    return tryAcquire(retries, limits.maxRetries());
  }

  public void releaseRetry() {
    retries.decrementAndGet();
  }

  /** Counts a new connection; false (nothing counted) at maxConnections — the caller waits for one to close. */
  public boolean tryAcquireConnection() {
    int max = limits.maxConnections();
    while (true) {
      int n = connections.get();
      if (n >= max) {
        return false;
      }
      if (connections.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }

  /** A connection counted by {@link #tryAcquireConnection} closed: wakes the loops waiting for one. */
  public void releaseConnection() {
    connections.decrementAndGet();
    if (!capacityListeners.isEmpty()) {
      capacityListeners.forEach(Runnable::run);
    }
  }

  /** Whether some event loop has requests waiting for a connection of this cluster. */
  public boolean hasWaiters() {
    return !capacityListeners.isEmpty();
  }

  public void addCapacityListener(Runnable r) {
    capacityListeners.add(r);
  }

  public void removeCapacityListener(Runnable r) {
    capacityListeners.remove(r);
  }

  /** Counts a refusal (503 UO, or a retry not made) for metrics and {@code /clusters}. */
  public void countOverflow() {
    overflows.incrementAndGet();
  }

  public int connections() {
    return connections.get();
  }

  public int pending() {
    return pending.get();
  }

  public int requests() {
    return requests.get();
  }

  public int retries() {
    return retries.get();
  }

  public long overflows() {
    return overflows.get();
  }

  private boolean tryAcquire(AtomicInteger counter, int max) {
    if (max == Integer.MAX_VALUE) {
      counter.incrementAndGet(); // unlimited: still counted, so /clusters shows it and a later limit sees the truth
      return true;
    }
    while (true) {
      int n = counter.get();
      if (n >= max) {
        overflows.incrementAndGet();
        return false;
      }
      if (counter.compareAndSet(n, n + 1)) {
        return true;
      }
    }
  }
}
