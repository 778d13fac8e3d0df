package dev.lattice.dataplane.config;

import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * One consistent snapshot of the compiled model a proxy serves: listeners, route tables, clusters,
 * authorization and peer authentication, by name. Immutable once built ({@link #of} checks every
 * reference, so a listener never names a missing route table and a route never a missing cluster).
 * The Avro records inside must not be mutated by holders.
 */
public final class ProxyConfig {
  private final ProxySettings settings;
  private final Map<String, ListenerConfig> listeners;
  private final Map<String, RouteConfig> routes;
  private final Map<String, ClusterConfig> clusters;
  private final Map<String, AuthorizationConfig> authorizations;
  private final Map<String, PeerAuthenticationConfig> peerAuthentications;
  private final Map<String, RateLimitConfig> rateLimits;
  private final String version;

  private ProxyConfig(String version, ProxySettings settings, Map<String, ListenerConfig> listeners, Map<String, RouteConfig> routes,
      Map<String, ClusterConfig> clusters, Map<String, AuthorizationConfig> authorizations,
      Map<String, PeerAuthenticationConfig> peerAuthentications, Map<String, RateLimitConfig> rateLimits) {
    this.version = version;
    this.rateLimits = rateLimits;
    this.settings = settings;
    this.listeners = listeners;
    this.routes = routes;
    this.clusters = clusters;
    this.authorizations = authorizations;
    this.peerAuthentications = peerAuthentications;
  }

  /** A snapshot of these resources, after checking names are unique and every reference resolves. */
  public static ProxyConfig of(String version, ProxySettings settings, List<ListenerConfig> listeners, List<RouteConfig> routes,
      List<ClusterConfig> clusters, List<AuthorizationConfig> authorizations, List<PeerAuthenticationConfig> peerAuthentications) {
    return of(version, settings, listeners, routes, clusters, authorizations, peerAuthentications, List.of());
  }

  /** As {@link #of(String, ProxySettings, List, List, List, List, List)}, with local rate limit configs. */
  public static ProxyConfig of(String version, ProxySettings settings, List<ListenerConfig> listeners, List<RouteConfig> routes,
      List<ClusterConfig> clusters, List<AuthorizationConfig> authorizations, List<PeerAuthenticationConfig> peerAuthentications,
      List<RateLimitConfig> rateLimits) {
    ProxyConfig c = new ProxyConfig(version, settings,
        byName("listeners", listeners, ListenerConfig::getName),
        byName("routes", routes, RouteConfig::getName),
        byName("clusters", clusters, ClusterConfig::getName),
        byName("authorization", authorizations, AuthorizationConfig::getName),
        byName("peerAuthentication", peerAuthentications, PeerAuthenticationConfig::getName),
        byName("rateLimits", rateLimits, RateLimitConfig::getName));
    c.ensureConsistent();
    return c;
  }

  private static <T> Map<String, T> byName(String kind, List<T> items, Function<T, String> name) {
    Map<String, T> map = new LinkedHashMap<>();
    for (T item : items) {
      if (map.putIfAbsent(name.apply(item), item) != null) {
        throw new ConfigFileException(kind + ": name " + name.apply(item) + " appears twice (expected: unique names)");
      }
    }
    return Map.copyOf(map);
  }

  private void ensureConsistent() {
    List<String> problems = new ArrayList<>();
    Map<String, String> bound = new LinkedHashMap<>();
    for (ListenerConfig l : listeners.values()) {
      String where = "listener " + l.getName();
      String addr = l.getAddress() + ":" + l.getPort();
      String other = bound.put(addr, l.getName());
      if (other != null && l.getPort() != 0) {
        problems.add(where + ": address " + addr + " is also bound by listener " + other);
      }
      if (l.getPort() < 0 || l.getPort() > 65535) {
        problems.add(where + ": port " + l.getPort() + " (expected: 0..65535)");
      }
      if (l.getRouteConfig() != null && !routes.containsKey(l.getRouteConfig())) {
        problems.add(where + ": routeConfig " + l.getRouteConfig() + " is not among routes " + routes.keySet());
      }
      if (l.getRouteConfig() == null && l.getTcpClusters().isEmpty()) {
        problems.add(where + ": neither routeConfig nor tcpClusters (expected: one of them)");
      }
      if (l.getRateLimit() != null && !rateLimits.containsKey(l.getRateLimit())) {
        problems.add(where + ": rateLimit " + l.getRateLimit() + " is not among rateLimits " + rateLimits.keySet());
      }
      for (WeightedCluster wc : l.getTcpClusters()) {
        if (!clusters.containsKey(wc.getCluster())) {
          problems.add(where + ": tcp cluster " + wc.getCluster() + " is not among clusters " + clusters.keySet());
        }
      }
      if (l.getAuthorization() != null && !authorizations.containsKey(l.getAuthorization())) {
        problems.add(where + ": authorization " + l.getAuthorization() + " is not among " + authorizations.keySet());
      }
      if (l.getPeerAuthentication() != null && !peerAuthentications.containsKey(l.getPeerAuthentication())) {
        problems.add(where + ": peerAuthentication " + l.getPeerAuthentication() + " is not among " + peerAuthentications.keySet());
      }
    }
    for (RouteConfig r : routes.values()) {
      for (VirtualHost vh : r.getVirtualHosts()) {
        for (RouteRule rule : vh.getRoutes()) {
          int sum = 0;
          for (WeightedCluster wc : rule.getClusters()) {
            sum += wc.getWeight();
            if (!clusters.containsKey(wc.getCluster())) {
              problems.add("route " + r.getName() + " / " + vh.getName() + " / " + rule.getName() + ": cluster " + wc.getCluster()
                  + " is not among clusters " + clusters.keySet());
            }
            if (wc.getWeight() < 0 || wc.getWeight() > 100) {
              problems.add("route " + r.getName() + " / " + rule.getName() + ": weight " + wc.getWeight() + " (expected: 0..100)");
            }
          }
          if (!rule.getClusters().isEmpty() && sum != 100 && rule.getClusters().size() > 1) {
            problems.add("route " + r.getName() + " / " + rule.getName() + ": weights sum to " + sum + " (expected: 100)");
          }
        }
      }
    }
    if (!problems.isEmpty()) {
      throw new ConfigFileException(String.join("; ", problems));
    }
  }

  /** Version of this snapshot (a hash of the file's bytes in file mode, the distributor's version otherwise). */
  public String version() { return version; }

  public ProxySettings settings() { return settings; }

  public Map<String, ListenerConfig> listeners() { return listeners; }

  public Map<String, RouteConfig> routes() { return routes; }

  public Map<String, ClusterConfig> clusters() { return clusters; }

  public Map<String, AuthorizationConfig> authorizations() { return authorizations; }

  public Map<String, PeerAuthenticationConfig> peerAuthentications() { return peerAuthentications; }

  /** Local rate limit configs by name (what {@code ListenerConfig.rateLimit} names). */
  public Map<String, RateLimitConfig> rateLimits() { return rateLimits; }
}
