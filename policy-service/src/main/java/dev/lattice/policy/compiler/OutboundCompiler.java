package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ClusterSubset;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.policy.Destination;
import dev.lattice.events.policy.DestinationPolicySpec;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.HttpRoute;
import dev.lattice.events.policy.HttpRouteDestination;
import dev.lattice.events.policy.L4MatchAttributes;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.RouteDestination;
import dev.lattice.events.policy.Subset;
import dev.lattice.events.policy.TcpRoute;
import dev.lattice.events.policy.TrafficPolicy;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.policy.model.ServiceHost;
import dev.lattice.policy.registry.RegisteredWorkload;
import dev.lattice.policy.registry.RegisteredWorkload.ServicePort;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Compiles the outbound side of one mesh service (one canonical host): per service port a listener
 * {@code outbound|<port>|<host>}, for HTTP-family ports a route table of the same name, a cluster
 * {@code outbound|<port>||<host>} with every endpoint, and one cluster {@code outbound|<port>|<subset>|<host>}
 * per DestinationPolicy subset. The result does not depend on the node, so it is compiled once and fanned
 * out to every node.
 *
 * <p>Conflicts: of several TrafficRoutes (or DestinationPolicies) for one host, the oldest
 * ({@code creationTimestamp}, then key) wins; the others are reported in {@link Unit#conflicts()}.
 *
 * <p>Stateless; pure functions of {@link MeshState}.
 */
public final class OutboundCompiler {

  private OutboundCompiler() {}

  /**
   * The compiled unit of one host.
   *
   * @param host canonical host
   * @param resources compiled resources by {@code TYPE/name}, sorted
   * @param dependsOn other hosts whose registry entries this unit read (route destinations, mirrors)
   * @param conflicts losing resource key → warning text
   */
  public record Unit(String host, Map<String, CompiledResource> resources, Set<String> dependsOn,
      Map<String, String> conflicts) {}

  /** Name of the listener and route table of {@code host} on {@code port}. */
  public static String listenerName(int port, String host) {
    return "outbound|" + port + "|" + host;
  }

  /** Name of the cluster of {@code host} on {@code port}, optionally restricted to {@code subset}. */
  public static String clusterName(int port, String subset, String host) {
    return "outbound|" + port + "|" + (subset == null ? "" : subset) + "|" + host;
  }

  /** Compiles {@code host}; an unknown host (no endpoints) yields an empty unit. */
  public static Unit compile(MeshState state, String host) {
    Map<String, CompiledResource> out = new TreeMap<>();
    Set<String> dependsOn = new TreeSet<>();
    Map<String, String> conflicts = new TreeMap<>();
    List<RegisteredWorkload> endpoints = state.endpointsOf(host);
    if (endpoints.isEmpty()) return new Unit(host, out, dependsOn, conflicts);

    ResourceEvent route = winner(state.routesFor(host), host, "TrafficRoute", conflicts);
    ResourceEvent destination = winner(state.destinationPoliciesFor(host), host, "DestinationPolicy",
        conflicts);
    List<String> routeSources = route == null ? List.of() : List.of(MeshState.key(route));
    List<String> clusterSources = destination == null ? List.of() : List.of(MeshState.key(destination));
    DestinationPolicySpec dp = destination == null ? null : (DestinationPolicySpec) destination.getSpec();

    for (ServicePort port : ports(endpoints)) {
      int p = port.port();
      List<ClusterEndpoint> members = new ArrayList<>();
      boolean anyMtls = false;
      for (RegisteredWorkload w : endpoints) {
        ServicePort wp = w.ports().stream().filter(x -> x.port() == p).findFirst().orElse(null);
        if (wp == null) continue;
        anyMtls |= PeerAuthenticationResolution.resolve(state, w).modeOn(wp.targetPort()) != MtlsMode.DISABLE;
        members.add(ClusterEndpoint.newBuilder()
            .setAddress(w.address())
            .setPort(wp.targetPort())
            .setNode(w.node().isEmpty() ? null : w.node())
            .setSpiffeId(w.spiffeId().isEmpty() ? null : w.spiffeId())
            .setLabels(w.labels())
            .setHealth(WorkloadHealth.valueOf(w.health()))
            .setWeight(1)
            .build());
      }
      List<ClusterSubset> subsets = new ArrayList<>();
      if (dp != null) {
        for (Subset s : dp.getSubsets()) {
          subsets.add(ClusterSubset.newBuilder().setName(s.getName()).setLabels(s.getLabels())
              .setTrafficPolicy(s.getTrafficPolicy()).build());
        }
      }
      TrafficPolicy policy = dp == null ? null : dp.getTrafficPolicy();
      put(out, ConfigType.CLUSTER, clusterName(p, null, host), ClusterConfig.newBuilder()
          .setName(clusterName(p, null, host)).setHost(host).setPort(p)
          .setEndpoints(members).setSubsets(subsets).setTrafficPolicy(policy).setMtls(anyMtls)
          .build(), clusterSources);
      if (dp != null) {
        for (Subset s : dp.getSubsets()) {
          String name = clusterName(p, s.getName(), host);
          List<ClusterEndpoint> selected = members.stream()
              .filter(m -> s.getLabels().entrySet().stream()
                  .allMatch(l -> l.getValue().equals(m.getLabels().get(l.getKey()))))
              .toList();
          put(out, ConfigType.CLUSTER, name, ClusterConfig.newBuilder()
              .setName(name).setHost(host).setPort(p).setEndpoints(selected)
              .setTrafficPolicy(merge(policy, s.getTrafficPolicy())).setMtls(anyMtls).build(),
              clusterSources);
        }
      }

      String listener = listenerName(p, host);
      ListenerProtocol protocol = protocolOf(port.protocol());
      ListenerConfig.Builder lc = ListenerConfig.newBuilder().setName(listener).setPort(p)
          .setDirection(TrafficDirection.OUTBOUND).setProtocol(protocol);
      boolean http = protocol == ListenerProtocol.HTTP || protocol == ListenerProtocol.HTTP2
          || protocol == ListenerProtocol.GRPC;
      if (http) {
        List<RouteRule> rules = httpRules(state, route, host, p, dependsOn);
        put(out, ConfigType.ROUTE, listener, RouteConfig.newBuilder().setName(listener)
            .setVirtualHosts(List.of(VirtualHost.newBuilder().setName(host)
                .setDomains(domains(host, p)).setRoutes(rules).build()))
            .build(), routeSources);
        lc.setRouteConfig(listener);
      } else {
        lc.setTcpClusters(tcpClusters(state, route, host, p, dependsOn));
      }
      // An HTTP listener only names its route table; a TCP listener embeds the route's clusters.
      put(out, ConfigType.LISTENER, listener, lc.build(), http ? List.of() : routeSources);
    }
    dependsOn.remove(host);
    return new Unit(host, out, dependsOn, conflicts);
  }

  private static ResourceEvent winner(List<ResourceEvent> candidates, String host, String kind,
      Map<String, String> conflicts) {
    if (candidates.isEmpty()) return null;
    ResourceEvent winner = candidates.get(0);
    for (ResourceEvent loser : candidates.subList(1, candidates.size())) {
      conflicts.put(MeshState.key(loser), kind + " for host " + host + " ignored: "
          + MeshState.key(winner) + " (created " + winner.getCreationTimestamp()
          + ") already configures it; the oldest resource wins");
    }
    return winner;
  }

  private static List<RouteRule> httpRules(MeshState state, ResourceEvent route, String host, int port,
      Set<String> dependsOn) {
    List<RouteRule> rules = new ArrayList<>();
    if (route != null) {
      TrafficRouteSpec spec = (TrafficRouteSpec) route.getSpec();
      List<HttpRoute> http = spec.getHttp();
      for (int i = 0; i < http.size(); i++) {
        HttpRoute r = http.get(i);
        List<HttpMatchRequest> matches = r.getMatch().stream()
            .filter(m -> m.getPort() == null || m.getPort() == port).toList();
        if (!r.getMatch().isEmpty() && matches.isEmpty()) continue; // only for other ports
        List<WeightedCluster> clusters = new ArrayList<>();
        List<HttpRouteDestination> dests = r.getRoute();
        for (int d = 0; d < dests.size(); d++) {
          HttpRouteDestination dest = dests.get(d);
          WeightedCluster wc = weighted(state, route, dest.getDestination(), dest.getWeight(), host, port,
              dests.size(), d, dependsOn);
          wc.setHeaders(dest.getHeaders()); // Istio's per-destination headers apply when this one is picked
          clusters.add(wc);
        }
        String mirror = null;
        if (r.getMirror() != null) {
          mirror = clusterFor(state, route, r.getMirror(), host, port, dependsOn);
        }
        rules.add(RouteRule.newBuilder()
            .setName(route.getNamespace() + "/" + route.getName() + "/"
                + (r.getName() != null ? r.getName() : Integer.toString(i)))
            .setMatch(matches)
            .setClusters(clusters)
            .setRewrite(r.getRewrite())
            .setRedirect(r.getRedirect())
            .setDirectResponse(r.getDirectResponse())
            .setTimeout(r.getTimeout())
            .setRetries(r.getRetries())
            .setFault(r.getFault())
            .setMirrorCluster(mirror)
            .setMirrorPercentage(mirror == null ? null : r.getMirrorPercentage())
            .setCorsPolicy(r.getCorsPolicy())
            .setHeaders(r.getHeaders())
            .build());
      }
    }
    if (rules.isEmpty()) {
      rules.add(RouteRule.newBuilder().setName("default")
          .setClusters(List.of(new WeightedCluster(clusterName(port, null, host), 100, null))).build());
    }
    return rules;
  }

  private static List<WeightedCluster> tcpClusters(MeshState state, ResourceEvent route, String host,
      int port, Set<String> dependsOn) {
    if (route != null) {
      for (TcpRoute r : ((TrafficRouteSpec) route.getSpec()).getTcp()) {
        boolean applies = r.getMatch().isEmpty();
        for (L4MatchAttributes m : r.getMatch()) applies |= m.getPort() == null || m.getPort() == port;
        if (!applies) continue;
        List<WeightedCluster> clusters = new ArrayList<>();
        List<RouteDestination> dests = r.getRoute();
        for (int d = 0; d < dests.size(); d++) {
          clusters.add(weighted(state, route, dests.get(d).getDestination(), dests.get(d).getWeight(),
              host, port, dests.size(), d, dependsOn));
        }
        if (!clusters.isEmpty()) return clusters;
      }
    }
    return List.of(new WeightedCluster(clusterName(port, null, host), 100, null));
  }

  private static WeightedCluster weighted(MeshState state, ResourceEvent route, Destination dest,
      Integer weight, String host, int port, int count, int index, Set<String> dependsOn) {
    int w;
    if (weight != null) {
      w = weight;
    } else {
      // Unweighted destinations share 100 evenly; the first ones take the remainder.
      w = 100 / count + (index < 100 % count ? 1 : 0);
    }
    return new WeightedCluster(clusterFor(state, route, dest, host, port, dependsOn), w, null);
  }

  private static String clusterFor(MeshState state, ResourceEvent route, Destination dest, String host,
      int port, Set<String> dependsOn) {
    String target = ServiceHost.canonical(dest.getHost(), route.getNamespace());
    dependsOn.add(target);
    int targetPort;
    if (dest.getPort() != null) {
      targetPort = dest.getPort();
    } else if (target.equals(host)) {
      targetPort = port;
    } else {
      List<ServicePort> ports = ports(state.endpointsOf(target));
      targetPort = ports.size() == 1 ? ports.get(0).port() : port;
    }
    return clusterName(targetPort, dest.getSubset(), target);
  }

  /** Distinct service ports of the endpoints (the first instance by key decides name and protocol). */
  static List<ServicePort> ports(List<RegisteredWorkload> endpoints) {
    Map<Integer, ServicePort> ports = new TreeMap<>();
    for (RegisteredWorkload w : endpoints) {
      for (ServicePort p : w.ports()) ports.putIfAbsent(p.port(), p);
    }
    return List.copyOf(ports.values());
  }

  static ListenerProtocol protocolOf(String protocol) {
    try {
      return ListenerProtocol.valueOf(protocol.toUpperCase(java.util.Locale.ROOT));
    } catch (IllegalArgumentException e) {
      return ListenerProtocol.TCP;
    }
  }

  private static List<String> domains(String host, int port) {
    Set<String> d = new TreeSet<>();
    d.add(host);
    d.add(host + ":" + port);
    if (host.chars().filter(c -> c == '.').count() == 1) {
      String service = host.substring(0, host.indexOf('.'));
      d.add(service);
      d.add(service + ":" + port);
      d.add(host + ".svc.cluster.local");
      d.add(host + ".svc.cluster.local:" + port);
    }
    return List.copyOf(d);
  }

  /** Istio semantics: a subset's traffic policy overrides the host's per top-level field. */
  private static TrafficPolicy merge(TrafficPolicy base, TrafficPolicy subset) {
    if (subset == null) return base;
    if (base == null) return subset;
    return TrafficPolicy.newBuilder()
        .setLoadBalancer(subset.getLoadBalancer() != null ? subset.getLoadBalancer() : base.getLoadBalancer())
        .setConnectionPool(subset.getConnectionPool() != null ? subset.getConnectionPool() : base.getConnectionPool())
        .setOutlierDetection(subset.getOutlierDetection() != null
            ? subset.getOutlierDetection() : base.getOutlierDetection())
        .setRetryBudget(subset.getRetryBudget() != null ? subset.getRetryBudget() : base.getRetryBudget())
        .build();
  }

  static void put(Map<String, CompiledResource> out, ConfigType type, String name,
      org.apache.avro.specific.SpecificRecord payload, List<String> sources) {
    CompiledResource r = CompiledResource.of(type, name, payload, sources);
    out.put(r.typeAndName(), r);
  }
}
