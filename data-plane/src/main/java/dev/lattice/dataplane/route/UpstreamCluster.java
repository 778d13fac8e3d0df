package dev.lattice.dataplane.route;

import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.dataplane.upstream.resilience.CircuitBreaker;
import dev.lattice.dataplane.upstream.lb.ActiveRequests;
import dev.lattice.dataplane.upstream.lb.LbRequest;
import dev.lattice.dataplane.upstream.lb.LoadBalancer;
import dev.lattice.dataplane.upstream.lb.WeightedEndpoint;
import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.dataplane.upstream.resilience.RetryBudget;
import dev.lattice.events.policy.TrafficPolicy;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * A cluster of one config snapshot with its endpoints resolved to socket addresses. Endpoint pick is
 * the cluster's {@link LoadBalancer} ({@code trafficPolicy.loadBalancer}; weighted round robin when unset)
 * over the endpoints not marked UNHEALTHY or DRAINING. Thread-safe. The state that must outlive a config
 * push — the retry budget, requests in flight per endpoint, outlier ejections — is carried over from the
 * previous snapshot's cluster of the same name (the budget while its settings are unchanged, the outlier
 * state of the endpoints that stay while the cluster keeps {@code outlierDetection}).
 */
public final class UpstreamCluster {
  private final String name;
  private final List<InetSocketAddress> all;
  private final ActiveRequests active;
  private final LoadBalancer lb;
  private final dev.lattice.events.policy.RetryBudget budgetConfig;
  private final RetryBudget retryBudget;
  private final CircuitBreaker breaker;
  private final OutlierDetector outlier;
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
    List<WeightedEndpoint> healthy = eps.stream()
        .filter(e -> e.getHealth() != WorkloadHealth.UNHEALTHY && e.getHealth() != WorkloadHealth.DRAINING)
        .map(e -> new WeightedEndpoint(new InetSocketAddress(e.getAddress(), e.getPort()), e.getWeight()))
        .toList();
    this.active = ActiveRequests.of(all, previous == null ? null : previous.active);
    OutlierDetector.Settings od;
    try {
      od = tp == null || tp.getOutlierDetection() == null ? null : OutlierDetector.Settings.of(tp.getOutlierDetection());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cluster " + name + ": trafficPolicy." + e.getMessage(), e);
    }
    OutlierDetector before = previous == null ? null : previous.outlier;
    if (od == null) {
      if (before != null) {
        before.disable(); // outlierDetection removed: whatever it ejected returns
      }
      this.outlier = null;
    } else {
      this.outlier = before != null ? before : new OutlierDetector(od, clock);
      this.outlier.configure(od, all, healthy.stream().map(WeightedEndpoint::address).toList());
    }
    try {
      this.lb = LoadBalancer.of(tp == null ? null : tp.getLoadBalancer(), healthy, active, outlier);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("cluster " + name + ": trafficPolicy." + e.getMessage(), e);
    }
  }

  public String name() { return name; }

  /** Every endpoint, healthy or not (for /clusters). */
  public List<InetSocketAddress> endpoints() { return all; }

  /** The cluster's circuit breakers (connectionPool limits); never null, unlimited when unset. */
  public CircuitBreaker breaker() { return breaker; }

  /** {@code connectionPool.tcp.connectTimeout} in ms, or 0 for the proxy's default. */
  public long connectTimeoutMillis() { return connectTimeoutMillis; }

  /** The cluster's outlier detection ({@code trafficPolicy.outlierDetection}), or null when it has none. */
  public OutlierDetector outlier() { return outlier; }

  /** The cluster's retry budget, or null when it has none (retries are bounded by attempts only). */
  public RetryBudget retryBudget() { return retryBudget; }

  /** Requests in flight per endpoint: the proxy reports each try's start and end here (least request reads it). */
  public ActiveRequests activeRequests() { return active; }

  /** The balancer's kind (for /clusters and tests). */
  public LoadBalancer.Kind loadBalancer() { return lb.kind(); }

  /**
   * The endpoint for {@code request} (its hash key when the balancer hashes) that {@code acceptable}
   * accepts (a retry avoiding the endpoint that just failed, as Istio's {@code previous_hosts}
   * predicate), else one anyway; null when none is healthy (the request fails with 503 UH).
   */
  public InetSocketAddress pick(LbRequest request, Predicate<InetSocketAddress> acceptable) {
    return lb.pick(request, acceptable);
  }

  /** As {@link #pick(LbRequest, Predicate)} without a request view (hash balancers fall back to round robin). */
  public InetSocketAddress pick(Predicate<InetSocketAddress> acceptable) {
    return lb.pick(null, acceptable);
  }

  /** The next endpoint to use, or null when none is healthy (the request fails with 503 UH). */
  public InetSocketAddress pick() {
    return lb.pick(null, null);
  }
}
