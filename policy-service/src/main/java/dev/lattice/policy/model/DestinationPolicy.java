package dev.lattice.policy.model;

import java.util.List;
import java.util.Map;

/**
 * What happens to traffic for a host after routing (≈ Istio {@code DestinationRule}): subsets, load
 * balancing, connection pool, outlier detection. Immutable value.
 */
public record DestinationPolicy(ObjectMeta metadata, Spec spec) implements Resource {

  @Override
  public ResourceKind kind() {
    return ResourceKind.DESTINATION_POLICY;
  }

  @Override
  public DestinationPolicy withMetadata(ObjectMeta m) {
    return new DestinationPolicy(m, spec);
  }

  /** The spec. */
  public record Spec(String host, TrafficPolicy trafficPolicy, List<Subset> subsets, List<String> exportTo) {
    public Spec {
      subsets = ModelCollections.list(subsets);
      exportTo = ModelCollections.list(exportTo);
    }
  }

  /** A named subset of the host's endpoints, as Istio's {@code Subset}. */
  public record Subset(String name, Map<String, String> labels, TrafficPolicy trafficPolicy) {
    public Subset {
      labels = ModelCollections.map(labels);
    }
  }

  /** As Istio's {@code TrafficPolicy}. */
  public record TrafficPolicy(
      LoadBalancerSettings loadBalancer, ConnectionPoolSettings connectionPool, OutlierDetection outlierDetection,
      RetryBudget retryBudget) {}

  /**
   * A Linkerd-style retry budget for the destination (not in Istio's DestinationRule): over {@code ttl},
   * retries ≤ {@code retryRatio} × requests + {@code minRetriesPerSecond} × ttl seconds. Unset fields take
   * Linkerd's defaults: 0.2, 10, 10s.
   */
  public record RetryBudget(Double retryRatio, Integer minRetriesPerSecond, String ttl) {}

  /** {@code simple} or {@code consistentHash}, as Istio's {@code LoadBalancerSettings}. */
  public record LoadBalancerSettings(SimpleLb simple, ConsistentHashLb consistentHash) {}

  /** Istio's {@code LoadBalancerSettings.SimpleLB}. */
  public enum SimpleLb { UNSPECIFIED, ROUND_ROBIN, LEAST_REQUEST, RANDOM, PASSTHROUGH }

  /** Istio's {@code ConsistentHashLB}: set exactly one key. */
  public record ConsistentHashLb(
      String httpHeaderName, HttpCookie httpCookie, Boolean useSourceIp, String httpQueryParameterName,
      Long minimumRingSize) {}

  /** Cookie hash key. */
  public record HttpCookie(String name, String path, String ttl) {}

  /** Istio's {@code ConnectionPoolSettings}. */
  public record ConnectionPoolSettings(TcpSettings tcp, HttpSettings http) {}

  /** TCP limits. */
  public record TcpSettings(Integer maxConnections, String connectTimeout) {}

  /** HTTP limits. */
  public record HttpSettings(
      Integer http1MaxPendingRequests, Integer http2MaxRequests, Integer maxRequestsPerConnection,
      Integer maxRetries, String idleTimeout) {}

  /** Istio's {@code OutlierDetection}. */
  public record OutlierDetection(
      Integer consecutive5xxErrors, Integer consecutiveGatewayErrors, String interval, String baseEjectionTime,
      Integer maxEjectionPercent, Integer minHealthPercent, Boolean splitExternalLocalOriginErrors,
      Integer consecutiveLocalOriginFailures) {}
}
