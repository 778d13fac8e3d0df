package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Destination;
import dev.lattice.events.policy.DestinationPolicySpec;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.HttpRoute;
import dev.lattice.events.policy.HttpRouteDestination;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.Operation;
import dev.lattice.events.policy.OutlierDetection;
import dev.lattice.events.policy.PeerAuthenticationMtls;
import dev.lattice.events.policy.PeerAuthenticationSpec;
import dev.lattice.events.policy.RateLimit;
import dev.lattice.events.policy.RateLimitPolicySpec;
import dev.lattice.events.policy.RuleFrom;
import dev.lattice.events.policy.RuleTo;
import dev.lattice.events.policy.SimpleLoadBalancer;
import dev.lattice.events.policy.Source;
import dev.lattice.events.policy.StringMatch;
import dev.lattice.events.policy.Subset;
import dev.lattice.events.policy.TrafficPolicy;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.events.policy.WorkloadSelector;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Builders of resource and registry events for compiler tests and the benchmark. */
public final class MeshFixtures {

  public static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  private MeshFixtures() {}

  public static String key(ResourceEvent e) {
    return MeshState.key(e);
  }

  public static ResourceEvent resource(String kind, String ns, String name, Object spec, Instant created) {
    return ResourceEvent.newBuilder()
        .setApiVersion("lattice.dev/v1alpha1").setKind(kind).setNamespace(ns).setName(name)
        .setUid(kind + "-" + ns + "-" + name).setResourceVersion(1).setGeneration(1)
        .setCreationTimestamp(created).setAuthor("test").setSource(ResourceSource.KAFKA)
        .setSpec(spec).build();
  }

  public static WorkloadEndpoint workload(String ns, String workload, String instance, String service,
      String address, int port, String protocol, String node, Map<String, String> labels) {
    return WorkloadEndpoint.newBuilder()
        .setNamespace(ns).setWorkload(workload).setInstance(instance)
        .setServices(List.of(service + "." + ns)).setAddress(address)
        .setPorts(List.of(WorkloadPort.newBuilder().setName("http").setPort(port).setProtocol(protocol).build()))
        .setLabels(labels).setNode(node)
        .setSpiffeId("spiffe://lattice.local/ns/" + ns + "/sa/" + workload)
        .setHealth(WorkloadHealth.HEALTHY).setUpdatedAt(T0).build();
  }

  public static String registryKey(WorkloadEndpoint w) {
    return w.getNamespace() + "/" + w.getWorkload() + "/" + w.getInstance();
  }

  /** A TrafficRoute splitting {@code host} between two subsets by weight. */
  public static ResourceEvent split(String ns, String name, String host, String subsetA, int weightA,
      String subsetB, int weightB, Instant created) {
    HttpRoute route = HttpRoute.newBuilder().setName("split")
        .setRoute(List.of(
            HttpRouteDestination.newBuilder().setDestination(dest(host, subsetA)).setWeight(weightA).build(),
            HttpRouteDestination.newBuilder().setDestination(dest(host, subsetB)).setWeight(weightB).build()))
        .setTimeout(2000L)
        .setRetries(dev.lattice.events.policy.HttpRetry.newBuilder().setAttempts(2).setPerTryTimeout(500L).setRetryOn("5xx")
            .setBackoffBaseInterval(10L).setBackoffMaxInterval(100L).build())
        .build();
    return resource("TrafficRoute", ns, name,
        TrafficRouteSpec.newBuilder().setHosts(List.of(host)).setHttp(List.of(route)).build(), created);
  }

  /** A TrafficRoute sending {@code prefix} to {@code target} and everything else to {@code host}. */
  public static ResourceEvent prefixRoute(String ns, String name, String host, String prefix, String target,
      Instant created) {
    HttpRoute byPrefix = HttpRoute.newBuilder().setName("by-prefix")
        .setMatch(List.of(HttpMatchRequest.newBuilder()
            .setUri(StringMatch.newBuilder().setPrefix(prefix).build()).build()))
        .setRoute(List.of(HttpRouteDestination.newBuilder().setDestination(dest(target, null)).build()))
        .build();
    HttpRoute rest = HttpRoute.newBuilder().setName("rest")
        .setRoute(List.of(HttpRouteDestination.newBuilder().setDestination(dest(host, null)).build()))
        .build();
    return resource("TrafficRoute", ns, name, TrafficRouteSpec.newBuilder().setHosts(List.of(host))
        .setHttp(List.of(byPrefix, rest)).build(), created);
  }

  public static Destination dest(String host, String subset) {
    return Destination.newBuilder().setHost(host).setSubset(subset).build();
  }

  public static ResourceEvent subsets(String ns, String name, String host, Instant created) {
    return resource("DestinationPolicy", ns, name, DestinationPolicySpec.newBuilder().setHost(host)
        .setTrafficPolicy(TrafficPolicy.newBuilder()
            .setLoadBalancer(LoadBalancerSettings.newBuilder().setSimple(SimpleLoadBalancer.LEAST_REQUEST).build())
            .setOutlierDetection(OutlierDetection.newBuilder().setConsecutive5xxErrors(5)
                .setInterval(10_000L).setBaseEjectionTime(30_000L).setMaxEjectionPercent(50).build())
            .setRetryBudget(dev.lattice.events.policy.RetryBudget.newBuilder().setRetryRatio(0.1).build())
            .build())
        .setSubsets(List.of(
            Subset.newBuilder().setName("v1").setLabels(Map.of("version", "v1")).build(),
            Subset.newBuilder().setName("v2").setLabels(Map.of("version", "v2")).build()))
        .build(), created);
  }

  public static ResourceEvent allowFrom(String ns, String name, Map<String, String> selector,
      String principal, String method, Instant created) {
    AuthorizationRule rule = AuthorizationRule.newBuilder()
        .setFrom(List.of(RuleFrom.newBuilder().setSource(Source.newBuilder()
            .setPrincipals(List.of(principal)).build()).build()))
        .setTo(List.of(RuleTo.newBuilder().setOperation(Operation.newBuilder()
            .setMethods(List.of(method)).build()).build()))
        .build();
    return resource("AuthorizationPolicy", ns, name, AuthorizationPolicySpec.newBuilder()
        .setSelector(WorkloadSelector.newBuilder().setMatchLabels(selector).build())
        .setAction(AuthorizationAction.ALLOW).setRules(List.of(rule)).build(), created);
  }

  public static ResourceEvent denyPath(String ns, String name, Map<String, String> selector, String path,
      Instant created) {
    AuthorizationRule rule = AuthorizationRule.newBuilder()
        .setTo(List.of(RuleTo.newBuilder().setOperation(Operation.newBuilder()
            .setPaths(List.of(path)).build()).build()))
        .build();
    return resource("AuthorizationPolicy", ns, name, AuthorizationPolicySpec.newBuilder()
        .setSelector(WorkloadSelector.newBuilder().setMatchLabels(selector).build())
        .setAction(AuthorizationAction.DENY).setRules(List.of(rule)).build(), created);
  }

  public static ResourceEvent mtls(String ns, String name, Map<String, String> selector, MtlsMode mode,
      Instant created) {
    return resource("PeerAuthentication", ns, name, PeerAuthenticationSpec.newBuilder()
        .setSelector(selector == null ? null : WorkloadSelector.newBuilder().setMatchLabels(selector).build())
        .setMtls(PeerAuthenticationMtls.newBuilder().setMode(mode).build()).build(), created);
  }

  public static ResourceEvent rateLimit(String ns, String name, Map<String, String> selector,
      long perSecond, Instant created) {
    return resource("RateLimitPolicy", ns, name, RateLimitPolicySpec.newBuilder()
        .setSelector(WorkloadSelector.newBuilder().setMatchLabels(selector).build())
        .setLimits(List.of(RateLimit.newBuilder().setName("per-second").setRequestsPerUnit(perSecond).setUnit(dev.lattice.events.policy.RateLimitUnit.SECOND)
            .setBurst(perSecond * 2).build()))
        .build(), created);
  }
}
