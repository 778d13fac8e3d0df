package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.StringMatch;
import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.Decision;
import dev.lattice.policy.explain.Explainer;
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

  /**
   * The authorization decision of the compiled table of {@code instanceKey} on {@code node}, by the data
   * plane's engine on the compiled config itself (request checks and normalization included).
   */
  Decision authorize(String node, String instanceKey, Explainer.Request request) {
    AuthorizationConfig table = (AuthorizationConfig) config
        .get(node + "/AUTHORIZATION/" + InboundCompiler.inboundName(instanceKey)).getPayload();
    return Explainer.authorize(AuthorizationEngine.of(table), request);
  }
}
