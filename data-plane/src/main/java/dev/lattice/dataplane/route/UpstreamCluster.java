package dev.lattice.dataplane.route;

import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.dataplane.upstream.resilience.CircuitBreaker;
import dev.lattice.dataplane.upstream.resilience.RetryBudget;
import dev.lattice.events.policy.TrafficPolicy;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster of one config snapshot with its endpoints resolved to socket addresses. Endpoint pick is
 * weighted round robin over the endpoints not marked UNHEALTHY or DRAINING. Thread-safe (one atomic
 * counter); immutable otherwise. The state that must outlive a config push — the retry budget — is
 * carried over from the previous snapshot's cluster of the same name while its settings are unchanged.
 */
public final class UpstreamCluster {
  private final String name;
  private final List<InetSocketAddress> endpoints;
  private final List<InetSocketAddress> all;
  private final AtomicInteger next = new AtomicInteger();
  private final dev.lattice.events.policy.RetryBudget budgetConfig;
  private final RetryBudget retryBudget;
  private final CircuitBreaker breaker;
  private final long connectTimeoutMillis;

  public UpstreamCluster(ClusterConfig config) {
    this(config, Clock.systemUTC(), null);
  }

  /** {@code previous}: the cluster of the same name in the snapshot being replaced, or null. */
  public UpstreamCluster(ClusterConfig config, Clock clock, UpstreamCluster previous) {
    this.name = config.getName();
    TrafficPolicy tp = config.getTrafficPolicy();
    CircuitBreaker.Limits limits;
    try {
      limits = CircuitBreaker.Limits.of(tp == null ? null : tp.getConnectionPool());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cluster " + name + ": " + e.getMessage(), e);
    }
    if (previous != null) {
      this.breaker = previous.breaker; // in-flight requests release into the counters they took from
      this.breaker.limits(limits);
    } else {
      this.breaker = new CircuitBreaker(limits);
    }
    Long ct = tp == null || tp.getConnectionPool() == null || tp.getConnectionPool().getTcp() == null ? null
        : tp.getConnectionPool().getTcp().getConnectTimeout();
    if (ct != null && ct <= 0) {
      throw new IllegalArgumentException("cluster " + name + ": trafficPolicy.connectionPool.tcp.connectTimeout: " + ct + " (expected: > 0 ms)");
    }
    this.connectTimeoutMillis = ct == null ? 0 : ct;
    this.budgetConfig = tp == null ? null : tp.getRetryBudget();
    if (budgetConfig == null) {
      this.retryBudget = null;
    } else if (previous != null && Objects.equals(previous.budgetConfig, budgetConfig) && previous.retryBudget != null) {
      this.retryBudget = previous.retryBudget; // a push does not reset what retries have spent
    } else {
      try {
        this.retryBudget = new RetryBudget(budgetConfig.getRetryRatio(), budgetConfig.getMinRetriesPerSecond(),
            Duration.ofMillis(budgetConfig.getTtl()), clock);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("cluster " + name + ": trafficPolicy.retryBudget." + e.getMessage(), e);
      }
    }
    List<ClusterEndpoint> eps = config.getEndpoints();
    this.all = eps.stream().map(e -> new InetSocketAddress(e.getAddress(), e.getPort())).toList();
    // weight expands into repeated entries: the weights here are small integers (1..100)
    this.endpoints = eps.stream()
        .filter(e -> e.getHealth() != WorkloadHealth.UNHEALTHY && e.getHealth() != WorkloadHealth.DRAINING)
        .flatMap(e -> java.util.Collections.nCopies(Math.max(1, Math.min(e.getWeight(), 100)),
            new InetSocketAddress(e.getAddress(), e.getPort())).stream())
        .toList();
  }

  public String name() { return name; }

  /** Every endpoint, healthy or not (for /clusters). */
  public List<InetSocketAddress> endpoints() { return all; }

  /** The cluster's circuit breakers (connectionPool limits); never null, unlimited when unset. */
  public CircuitBreaker breaker() { return breaker; }

  /** {@code connectionPool.tcp.connectTimeout} in ms, or 0 for the proxy's default. */
  public long connectTimeoutMillis() { return connectTimeoutMillis; }

  /** The cluster's retry budget, or null when it has none (retries are bounded by attempts only). */
  public RetryBudget retryBudget() { return retryBudget; }

  /**
   * The next endpoint that {@code acceptable} accepts (a retry avoiding the endpoint that just failed, as
   * Istio's {@code previous_hosts} predicate), else the next one anyway; null when none is healthy.
   */
  public InetSocketAddress pick(Predicate<InetSocketAddress> acceptable) {
    int n = endpoints.size();
    InetSocketAddress a = pick();
    for (int i = 1; i < n && a != null && !acceptable.test(a); i++) {
      a = pick();
    }
    return a;
  }

  /** The next endpoint to use, or null when none is healthy (the request fails with 503 UH). */
  public InetSocketAddress pick() {
    int n = endpoints.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return endpoints.get(0);
    }
    return endpoints.get(Math.floorMod(next.getAndIncrement(), n));
  }
}
