package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.StringMatch;
import dev.lattice.policy.engine.AuthorizationEngine;
import dev.lattice.policy.engine.Decision;
import dev.lattice.policy.engine.RequestContext;
import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.ResourceEventMapper;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Istio-style traffic simulation (after {@code pilot/pkg/simulation}) over one node's compiled config:
 * an outbound call walks listener → route table → first matching rule → weighted clusters → endpoints;
 * an inbound call evaluates the workload's compiled authorization table with the shared
 * {@link AuthorizationEngine}. Test oracle only: route matching here is the documented semantics
 * (exact/prefix/regex URI, method, headers; first match wins), not the data plane's code.
 */
final class Simulation {

  /** An outbound request from a node. */
  record Call(String node, String host, int port, String method, String path, Map<String, String> headers) {}

  /** Where the request went. */
  record Routed(String listener, String rule, List<WeightedCluster> clusters, List<String> endpoints) {}

  private final Map<String, ConfigResource> config;

  Simulation(Map<String, ConfigResource> compacted) {
    this.config = compacted;
  }

  Routed route(Call call) {
    String listenerName = OutboundCompiler.listenerName(call.port(), call.host());
    ConfigResource listener = config.get(call.node() + "/LISTENER/" + listenerName);
    if (listener == null) return null;
    ListenerConfig l = (ListenerConfig) listener.getPayload();
    RouteConfig table = (RouteConfig) config.get(call.node() + "/ROUTE/" + l.getRouteConfig()).getPayload();
    for (VirtualHost vh : table.getVirtualHosts()) {
      if (!vh.getDomains().contains(call.host()) && !vh.getDomains().contains(call.host() + ":" + call.port())) continue;
      for (RouteRule rule : vh.getRoutes()) {
        if (matches(rule, call)) {
          // the heaviest cluster's endpoints (ties: the first), to keep the oracle deterministic
          WeightedCluster pick = rule.getClusters().stream()
              .reduce((a, b) -> b.getWeight() > a.getWeight() ? b : a).orElseThrow();
          ConfigResource cluster = config.get(call.node() + "/CLUSTER/" + pick.getCluster());
          List<String> endpoints = cluster == null ? List.of()
              : ((ClusterConfig) cluster.getPayload()).getEndpoints().stream().map(ClusterEndpoint::getAddress).toList();
          return new Routed(listenerName, rule.getName(), rule.getClusters(), endpoints);
        }
      }
    }
    return null;
  }

  private static boolean matches(RouteRule rule, Call call) {
    if (rule.getMatch().isEmpty()) return true;
    for (HttpMatchRequest m : rule.getMatch()) {
      if (m.getUri() != null && !matches(m.getUri(), call.path())) continue;
      if (m.getMethod() != null && !matches(m.getMethod(), call.method())) continue;
      boolean headers = true;
      for (Map.Entry<String, StringMatch> h : m.getHeaders().entrySet()) {
        String v = call.headers().get(h.getKey());
        headers &= v != null && matches(h.getValue(), v);
      }
      if (headers) return true;
    }
    return false;
  }

  private static boolean matches(StringMatch m, String value) {
    if (m.getExact() != null) return m.getExact().equals(value);
    if (m.getPrefix() != null) return value.startsWith(m.getPrefix());
    if (m.getRegex() != null) return Pattern.compile(m.getRegex()).matcher(value).matches();
    return true;
  }

  /** The authorization decision of the compiled table of {@code instanceKey} on {@code node}. */
  Decision authorize(String node, String instanceKey, RequestContext request) {
    AuthorizationConfig table = (AuthorizationConfig) config
        .get(node + "/AUTHORIZATION/" + InboundCompiler.inboundName(instanceKey)).getPayload();
    List<AuthorizationPolicy> policies = new ArrayList<>();
    for (CompiledAuthorizationPolicy p : table.getPolicies()) {
      ResourceEvent e = ResourceEvent.newBuilder()
          .setApiVersion("lattice.dev/v1alpha1").setKind("AuthorizationPolicy").setNamespace(p.getNamespace())
          .setName(p.getName()).setUid("sim").setResourceVersion(1).setGeneration(1)
          .setCreationTimestamp(Instant.EPOCH).setAuthor("sim").setSource(ResourceSource.KAFKA)
          // the model reads dry-run from the annotation (ResourceEventMapper.toResource ignores spec.dryRun)
          .setAnnotations(p.getDryRun() ? Map.of(InboundCompiler.DRY_RUN_ANNOTATION, "true") : Map.of())
          .setSpec(AuthorizationPolicySpec.newBuilder().setAction(p.getAction()).setRules(p.getRules())
              .setDryRun(p.getDryRun()).build())
          .build();
      policies.add((AuthorizationPolicy) ResourceEventMapper.toResource(e));
    }
    return AuthorizationEngine.of(policies).evaluate(request);
  }
}
