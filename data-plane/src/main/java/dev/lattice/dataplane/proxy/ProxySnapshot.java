package dev.lattice.dataplane.proxy;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.dataplane.config.ConfigFileException;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.dataplane.route.RouteTable;
import dev.lattice.dataplane.route.SourceLabels;
import dev.lattice.dataplane.route.UpstreamCluster;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.TrafficDirection;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import dev.lattice.dataplane.tls.ServerTlsContexts;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.policy.MtlsMode;
import io.netty.handler.ssl.SslContext;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link ProxyConfig} compiled for serving: clusters with resolved endpoints and, per listener, the
 * route table and filter chain. Built off the event loop's hot path once per snapshot; immutable.
 */
final class ProxySnapshot {
  /** The listener name of the explicit HTTP proxy port ({@code settings.httpProxyPort}). */
  static final String HTTP_PROXY_LISTENER = "http-proxy";
  final ProxyConfig config;
  final Map<String, UpstreamCluster> clusters;
  final Map<String, ListenerRuntime> listeners;

  private ProxySnapshot(ProxyConfig config, Map<String, UpstreamCluster> clusters, Map<String, ListenerRuntime> listeners) {
    this.config = config;
    this.clusters = clusters;
    this.listeners = listeners;
  }

  /** Compiles {@code config}; a filter that cannot configure itself fails the whole snapshot (the old one keeps serving). */
  static ProxySnapshot compile(ProxyConfig config, List<HttpFilterFactory> factories, boolean meshIdentity) {
    return compile(config, factories, meshIdentity, java.time.Clock.systemUTC(), null);
  }

  /** As above; clusters carry their retry budgets over from {@code previous} (or null) while unchanged. */
  static ProxySnapshot compile(ProxyConfig config, List<HttpFilterFactory> factories, boolean meshIdentity, java.time.Clock clock,
      ProxySnapshot previous) {
    Map<String, UpstreamCluster> clusters = new LinkedHashMap<>();
    try {
      config.clusters().forEach((name, c) -> clusters.put(name, new UpstreamCluster(c, clock, previous == null ? null : previous.clusters.get(name))));
    } catch (IllegalArgumentException e) {
      throw new ConfigFileException(e.getMessage(), e);
    }
    Map<String, Map<InetSocketAddress, MeshTarget>> meshTargets = config.settings().originateMtls() ? meshTargets(config) : Map.of();
    if (!meshTargets.isEmpty() && !meshIdentity && config.listeners().values().stream()
        .anyMatch(l -> l.getDirection() == TrafficDirection.OUTBOUND)) {
      String cluster = meshTargets.keySet().iterator().next();
      throw new ConfigFileException("cluster " + cluster + ": mtls to endpoints on mesh nodes needs the node's SVIDs"
          + " (expected: an identity source, e.g. --svid/--bundle in file mode, mtls: false, or settings.originateMtls: false)");
    }
    SourceLabels sources = SourceLabels.of(config.clusters().values());
    List<HttpFilterFactory> ordered = new ArrayList<>(factories);
    ordered.sort(Comparator.comparingInt(HttpFilterFactory::order).thenComparing(HttpFilterFactory::name));
    Map<String, ListenerRuntime> listeners = new LinkedHashMap<>();
    List<ListenerConfig> all = new ArrayList<>(config.listeners().values());
    RouteConfig proxyRoutes = null;
    if (config.settings().httpProxy()) {
      if (config.listeners().containsKey(HTTP_PROXY_LISTENER)) {
        throw new ConfigFileException("listener " + HTTP_PROXY_LISTENER + ": the name is the explicit HTTP proxy port's"
            + " (expected: another name, or settings.httpProxyPort: -1)");
      }
      all.add(ListenerConfig.newBuilder().setName(HTTP_PROXY_LISTENER).setAddress(config.settings().httpProxyAddress())
          .setPort(config.settings().httpProxyPort()).setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP)
          .setRouteConfig(HTTP_PROXY_LISTENER).build());
      proxyRoutes = httpProxyRoutes(config);
    }
    // filters look the listener's route table up by name: they see the proxy port's too
    ProxyConfig filterView = proxyRoutes == null ? config : withHttpProxy(config, all.get(all.size() - 1), proxyRoutes);
    for (ListenerConfig l : all) {
      RouteConfig rc = l.getName().equals(HTTP_PROXY_LISTENER) && proxyRoutes != null ? proxyRoutes
          : l.getRouteConfig() == null ? null : config.routes().get(l.getRouteConfig());
      RouteTable routes = rc == null ? RouteTable.empty() : RouteTable.compile(rc, clusters::get, sources);
      List<HttpFilterConfig> filters = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (HttpFilterFactory f : ordered) {
        Optional<HttpFilterConfig> fc;
        try {
          fc = f.configure(filterView, l);
        } catch (RuntimeException e) {
          throw new ConfigFileException("listener " + l.getName() + ": filter " + f.name() + " rejected its config (" + e.getMessage() + ")", e);
        }
        fc.ifPresent(c -> {
          filters.add(c);
          names.add(f.name());
        });
      }
      SslContext tls = l.getTls() == null ? null : ServerTlsContexts.build(l.getName(), l.getTls(), config.settings().tlsEngine());
      MtlsMode peerMode = peerMode(config, l);
      if (peerMode != MtlsMode.DISABLE && !meshIdentity) {
        throw new ConfigFileException("listener " + l.getName() + ": peerAuthentication " + l.getPeerAuthentication() + " is "
            + peerMode + ", which needs the node's SVIDs (expected: an identity source, e.g. --svid/--bundle in file mode)");
      }
      listeners.put(l.getName(), new ListenerRuntime(config.version(), l, config.settings(), routes, filters, names,
          normalization(config, l), tls, peerMode,
          l.getDirection() == TrafficDirection.OUTBOUND ? meshTargets : Map.of(),
          l.getDirection() == TrafficDirection.INBOUND ? workload(config, l) : null, sources, tcpRoute(config, l, clusters)));
    }
    return new ProxySnapshot(config, Map.copyOf(clusters), listeners);
  }

  /**
   * A listener with {@code tcpClusters} and no route table is a TCP proxy (the compiler's form for TCP and TLS service
   * ports); its authorization, on an inbound listener, decides per connection on L4 attributes.
   */
  private static TcpRoute tcpRoute(ProxyConfig config, ListenerConfig l, Map<String, UpstreamCluster> clusters) {
    if (l.getRouteConfig() != null || l.getTcpClusters().isEmpty()) {
      return null;
    }
    if (l.getTls() != null) {
      throw new ConfigFileException("listener " + l.getName() + ": tls on a TCP listener (tcpClusters) is not served"
          + " (expected: a routeConfig for TLS termination, or peerAuthentication for the mesh's mTLS)");
    }
    List<UpstreamCluster> cs = new ArrayList<>();
    int[] cumulative = new int[l.getTcpClusters().size()];
    int sum = 0;
    for (int i = 0; i < cumulative.length; i++) {
      dev.lattice.events.config.WeightedCluster wc = l.getTcpClusters().get(i);
      cs.add(clusters.get(wc.getCluster()));
      sum += wc.getWeight();
      cumulative[i] = sum;
    }
    AuthorizationEngine authz = l.getDirection() == TrafficDirection.INBOUND && l.getAuthorization() != null
        ? AuthorizationEngine.of(config.authorizations().get(l.getAuthorization())) : null;
    return new TcpRoute(List.copyOf(cs), cumulative, authz);
  }

  private static ProxyConfig withHttpProxy(ProxyConfig config, ListenerConfig listener, RouteConfig routes) {
    List<ListenerConfig> listeners = new ArrayList<>(config.listeners().values());
    listeners.add(listener);
    List<RouteConfig> tables = new ArrayList<>(config.routes().values());
    tables.add(routes);
    return ProxyConfig.of(config.version(), config.settings(), listeners, tables, List.copyOf(config.clusters().values()),
        List.copyOf(config.authorizations().values()), List.copyOf(config.peerAuthentications().values()),
        List.copyOf(config.rateLimits().values()));
  }

  /**
   * The route table of the explicit HTTP proxy port: the virtual hosts of every outbound HTTP listener's route table,
   * in listener order (a domain two tables name goes to the first; the compiler's {@code host:port} forms are unique).
   */
  private static RouteConfig httpProxyRoutes(ProxyConfig config) {
    List<VirtualHost> hosts = new ArrayList<>();
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (ListenerConfig l : config.listeners().values()) {
      if (l.getDirection() == TrafficDirection.OUTBOUND && l.getRouteConfig() != null && seen.add(l.getRouteConfig())) {
        hosts.addAll(config.routes().get(l.getRouteConfig()).getVirtualHosts());
      }
    }
    return RouteConfig.newBuilder().setName(HTTP_PROXY_LISTENER).setVirtualHosts(hosts).build();
  }

  /**
   * The endpoints reached over the mesh's mTLS: those of clusters with {@code mtls} that name the node
   * hosting them (Istio's auto mTLS: an endpoint outside the mesh has no node and gets plaintext).
   */
  private static Map<String, Map<InetSocketAddress, MeshTarget>> meshTargets(ProxyConfig config) {
    Map<String, Map<InetSocketAddress, MeshTarget>> out = new LinkedHashMap<>();
    for (ClusterConfig c : config.clusters().values()) {
      if (!c.getMtls()) {
        continue;
      }
      Map<InetSocketAddress, MeshTarget> targets = new LinkedHashMap<>();
      for (ClusterEndpoint e : c.getEndpoints()) {
        if (e.getNode() == null || e.getNode().isEmpty()) {
          continue;
        }
        InetSocketAddress a = new InetSocketAddress(e.getAddress(), e.getPort());
        targets.put(a, new MeshTarget(a, e.getNode(), null, e.getSpiffeId() == null || e.getSpiffeId().isEmpty() ? null : e.getSpiffeId()));
      }
      if (!targets.isEmpty()) {
        out.put(c.getName(), Map.copyOf(targets));
      }
    }
    return out;
  }

  /**
   * The SPIFFE ID of the workload behind inbound listener {@code l}: the one its clusters' endpoints name (the
   * compiler's {@code inbound|port||instance} cluster names the instance's), or null when they name none or several.
   */
  private static String workload(ProxyConfig config, ListenerConfig l) {
    java.util.Set<String> ids = new java.util.TreeSet<>();
    List<String> names = new ArrayList<>();
    l.getTcpClusters().forEach(wc -> names.add(wc.getCluster()));
    if (l.getRouteConfig() != null) {
      config.routes().get(l.getRouteConfig()).getVirtualHosts().forEach(vh -> vh.getRoutes()
          .forEach(rule -> rule.getClusters().forEach(wc -> names.add(wc.getCluster()))));
    }
    for (String name : names) {
      for (ClusterEndpoint e : config.clusters().get(name).getEndpoints()) {
        if (e.getSpiffeId() != null && !e.getSpiffeId().isEmpty()) {
          ids.add(e.getSpiffeId());
        }
      }
    }
    return ids.size() == 1 ? ids.iterator().next() : null;
  }

  /** The effective mode of the listener's port: the port-level override, else the config's mode. */
  private static MtlsMode peerMode(ProxyConfig config, ListenerConfig l) {
    if (l.getPeerAuthentication() == null) {
      return MtlsMode.DISABLE;
    }
    PeerAuthenticationConfig pa = config.peerAuthentications().get(l.getPeerAuthentication());
    MtlsMode mode = pa.getPortModes().getOrDefault(Integer.toString(l.getPort()), pa.getMode());
    if (mode == MtlsMode.UNSET) {
      mode = MtlsMode.PERMISSIVE; // Istio's default when nothing decides
    }
    if (l.getTls() != null && mode != MtlsMode.DISABLE) {
      throw new ConfigFileException("listener " + l.getName() + ": both tls (" + l.getTls().getMode() + ") and peerAuthentication "
          + mode + " terminate TLS (expected: one of them, or peerAuthentication DISABLE)");
    }
    return mode;
  }

  private static PathNormalization normalization(ProxyConfig config, ListenerConfig l) {
    AuthorizationConfig a = l.getAuthorization() == null ? null : config.authorizations().get(l.getAuthorization());
    String name = a == null ? null : a.getPathNormalization();
    if (name == null || name.isEmpty()) {
      return PathNormalization.DEFAULT;
    }
    try {
      return PathNormalization.valueOf(name.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      // lattice-authz normalizes an unknown option as strictly as it can; routing must see the same path
      return PathNormalization.DECODE_AND_MERGE_SLASHES;
    }
  }
}
