package dev.lattice.dataplane.upstream.lb;

import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.events.policy.ConsistentHashLoadBalancer;
import dev.lattice.events.policy.HttpCookie;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.SimpleLoadBalancer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

/**
 * Picks an endpoint of one cluster, as Istio's {@code LoadBalancerSettings} ask: weighted round robin
 * (also for unset and {@code PASSTHROUGH}), {@code RANDOM}, {@code LEAST_REQUEST} (Envoy's power of two
 * choices: two endpoints drawn by weight, the one with fewer requests in flight wins) or
 * {@code consistentHash} on a header, a cookie, the source IP or a query parameter over a
 * {@link HashRing}. A hash request without its key falls back to round robin. Endpoints the cluster's
 * {@link OutlierDetector} ejected are skipped by every kind (the ring walks on to the next endpoint's
 * point, where the key would land in a ring without the ejected one); while nothing is ejected a pick
 * costs one volatile read more than without outlier detection. Built once per cluster and snapshot;
 * thread-safe.
 */
public final class LoadBalancer {
  /** What the balancer does. */
  public enum Kind { ROUND_ROBIN, RANDOM, LEAST_REQUEST, RING_HASH }

  private final Kind kind;
  /** Endpoints repeated by weight: round robin, random and the two choices draw from it. */
  private final List<InetSocketAddress> weighted;
  private final AtomicInteger next = new AtomicInteger();
  private final ActiveRequests active;
  private final HashRing ring;
  private final ConsistentHashLoadBalancer hashKey;
  /** Outlier state per entry of {@link #weighted}, or null without outlier detection. */
  private final OutlierDetector outlier;
  private final OutlierDetector.Host[] hosts;
  private final Predicate<InetSocketAddress> notEjected;
  private volatile InService inService;

  private LoadBalancer(Kind kind, List<InetSocketAddress> weighted, ActiveRequests active, HashRing ring,
      ConsistentHashLoadBalancer hashKey, OutlierDetector outlier) {
    this.kind = kind;
    this.weighted = weighted;
    this.active = active;
    this.ring = ring;
    this.hashKey = hashKey;
    this.outlier = outlier;
    if (outlier == null) {
      this.hosts = null;
      this.notEjected = null;
    } else {
      this.hosts = new OutlierDetector.Host[weighted.size()];
      for (int i = 0; i < hosts.length; i++) {
        hosts[i] = outlier.host(weighted.get(i));
      }
      this.notEjected = a -> !outlier.isEjected(a);
    }
  }

  /**
   * The balancer {@code settings} ask for (null: round robin) over the healthy {@code endpoints};
   * {@code active} counts requests in flight (least request reads it). A bad setting fails naming it.
   */
  public static LoadBalancer of(LoadBalancerSettings settings, List<WeightedEndpoint> endpoints, ActiveRequests active) {
    return of(settings, endpoints, active, null);
  }

  /** As above, skipping the endpoints {@code outlier} (null: none) ejects; it must already know {@code endpoints}. */
  public static LoadBalancer of(LoadBalancerSettings settings, List<WeightedEndpoint> endpoints, ActiveRequests active,
      OutlierDetector outlier) {
    List<InetSocketAddress> weighted = new ArrayList<>();
    for (WeightedEndpoint e : endpoints) {
      for (int i = 0; i < e.weight(); i++) {
        weighted.add(e.address());
      }
    }
    weighted = List.copyOf(weighted);
    ConsistentHashLoadBalancer ch = settings == null ? null : settings.getConsistentHash();
    if (ch != null) {
      if (settings.getSimple() != null && settings.getSimple() != SimpleLoadBalancer.UNSPECIFIED) {
        throw new IllegalArgumentException("loadBalancer: both simple " + settings.getSimple() + " and consistentHash (expected: one of them)");
      }
      int keys = (ch.getHttpHeaderName() != null ? 1 : 0) + (ch.getHttpCookie() != null ? 1 : 0) + (ch.getUseSourceIp() ? 1 : 0)
          + (ch.getHttpQueryParameterName() != null ? 1 : 0);
      if (keys != 1) {
        throw new IllegalArgumentException("loadBalancer.consistentHash: " + keys
            + " hash keys (expected: exactly one of httpHeaderName, httpCookie, useSourceIp, httpQueryParameterName)");
      }
      if (ch.getHttpCookie() != null && (ch.getHttpCookie().getName() == null || ch.getHttpCookie().getName().isEmpty())) {
        throw new IllegalArgumentException("loadBalancer.consistentHash.httpCookie.name: empty (expected: a cookie name)");
      }
      long min = ch.getMinimumRingSize() == null ? HashRing.DEFAULT_MIN_RING_SIZE : ch.getMinimumRingSize();
      HashRing ring;
      try {
        ring = HashRing.of(endpoints, min);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("loadBalancer.consistentHash." + e.getMessage(), e);
      }
      return new LoadBalancer(Kind.RING_HASH, weighted, active, ring, ch, outlier);
    }
    SimpleLoadBalancer simple = settings == null || settings.getSimple() == null ? SimpleLoadBalancer.UNSPECIFIED : settings.getSimple();
    Kind kind = switch (simple) {
      case RANDOM -> Kind.RANDOM;
      case LEAST_REQUEST -> Kind.LEAST_REQUEST;
      default -> Kind.ROUND_ROBIN;
    };
    return new LoadBalancer(kind, weighted, active, null, null, outlier);
  }

  public Kind kind() {
    return kind;
  }

  /**
   * The endpoint for {@code request} (null: no request view, hash keys unavailable) that
   * {@code acceptable} takes if one does (a retry avoiding the endpoint that just failed), else any
   * not ejected; null when the cluster has no healthy endpoint or every one is ejected.
   */
  public InetSocketAddress pick(LbRequest request, Predicate<InetSocketAddress> acceptable) {
    int n = weighted.size();
    if (n == 0) {
      return null;
    }
    boolean skip = outlier != null && outlier.ejecting();
    if (kind == Kind.RING_HASH) {
      String key = request == null ? null : key(request);
      if (key != null) {
        return skip ? ring.lookup(HashRing.hash(key), acceptable, notEjected) : ring.lookup(HashRing.hash(key), acceptable);
      }
    }
    if (skip) {
      return pickSkippingEjected(acceptable);
    }
    if (n == 1) {
      return weighted.get(0);
    }
    InetSocketAddress a = weighted.get(pickOnce(null));
    for (int i = 1; i < n && acceptable != null && !acceptable.test(a); i++) {
      a = weighted.get(pickOnce(null));
    }
    return a;
  }

  /**
   * While endpoints are ejected: the balancer's draws over the entries in service only (as Envoy, which
   * rebuilds its balancer over the healthy hosts), so round robin does not hand an ejected endpoint's
   * turns to its neighbour.
   */
  private InetSocketAddress pickSkippingEjected(Predicate<InetSocketAddress> acceptable) {
    int[] in = inService();
    int m = in.length;
    if (m == 0) {
      return null;
    }
    InetSocketAddress a = weighted.get(in[pickOnce(in)]);
    for (int i = 1; i < m && acceptable != null && !acceptable.test(a); i++) {
      a = weighted.get(in[pickOnce(in)]);
    }
    if (acceptable != null && !acceptable.test(a)) {
      // random draws can miss the one a retry wants among the few left in service: look at each once
      int start = ThreadLocalRandom.current().nextInt(m);
      for (int i = 0; i < m; i++) {
        InetSocketAddress b = weighted.get(in[(start + i) % m]);
        if (acceptable.test(b)) {
          return b;
        }
      }
    }
    return a;
  }

  /** The entries of {@link #weighted} not ejected, rebuilt once per change of the detector's ejections. */
  private int[] inService() {
    int v = outlier.version();
    InService s = inService;
    if (s == null || s.version != v) {
      int[] tmp = new int[hosts.length];
      int m = 0;
      for (int i = 0; i < hosts.length; i++) {
        if (hosts[i] == null || !hosts[i].ejected()) {
          tmp[m++] = i;
        }
      }
      s = new InService(v, java.util.Arrays.copyOf(tmp, m));
      inService = s; // racing rebuilds build the same thing
    }
    return s.entries;
  }

  private record InService(int version, int[] entries) {}

  /** One draw: an index into {@link #weighted} ({@code among} null), or into {@code among}. */
  private int pickOnce(int[] among) {
    int n = among == null ? weighted.size() : among.length;
    if (n == 1) {
      return 0;
    }
    switch (kind) {
      case RANDOM:
        return ThreadLocalRandom.current().nextInt(n);
      case LEAST_REQUEST: {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        // two distinct draws (Envoy draws with replacement, which sends a quarter of a two-endpoint
        // cluster's requests to the busier one)
        int i = r.nextInt(n);
        int j = r.nextInt(n - 1);
        if (j >= i) {
          j++;
        }
        InetSocketAddress a = weighted.get(among == null ? i : among[i]);
        InetSocketAddress b = weighted.get(among == null ? j : among[j]);
        return active.count(b) < active.count(a) ? j : i;
      }
      default:
        return Math.floorMod(next.getAndIncrement(), n);
    }
  }

  /** The hash key of {@code r}, or null when it lacks it (a generated cookie when httpCookie has a ttl). */
  private String key(LbRequest r) {
    if (hashKey.getHttpHeaderName() != null) {
      return r.header(hashKey.getHttpHeaderName().toLowerCase(Locale.ROOT));
    }
    if (hashKey.getUseSourceIp()) {
      InetSocketAddress src = r.sourceAddress();
      return src == null || src.getAddress() == null ? null : src.getAddress().getHostAddress();
    }
    if (hashKey.getHttpQueryParameterName() != null) {
      return queryParam(r.query(), hashKey.getHttpQueryParameterName());
    }
    HttpCookie c = hashKey.getHttpCookie();
    String v = cookie(r.header("cookie"), c.getName());
    if (v == null && c.getTtl() != null) {
      // Envoy generates the cookie from the caller's address and hashes this request by it, so the
      // caller's next requests (carrying it) land on the same endpoint
      InetSocketAddress src = r.sourceAddress();
      v = Long.toHexString(HashRing.hash((src == null ? "" : src.toString()) + "/" + System.nanoTime()));
      StringBuilder sc = new StringBuilder(c.getName()).append('=').append(v);
      if (c.getTtl() > 0) {
        sc.append("; Max-Age=").append(Math.max(1, c.getTtl() / 1000));
      }
      if (c.getPath() != null) {
        sc.append("; Path=").append(c.getPath());
      }
      sc.append("; HttpOnly");
      r.addResponseHeader("set-cookie", sc.toString());
    }
    return v;
  }

  /** The value of cookie {@code name} in a {@code Cookie} header, or null. */
  static String cookie(String header, String name) {
    if (header == null) {
      return null;
    }
    for (String part : header.split(";")) {
      String p = part.trim();
      int eq = p.indexOf('=');
      if (eq == name.length() && p.regionMatches(0, name, 0, eq)) {
        String v = p.substring(eq + 1);
        return v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"") ? v.substring(1, v.length() - 1) : v;
      }
    }
    return null;
  }

  /** The first value of {@code name} in a raw query string ({@code ""} for a bare name), or null. */
  static String queryParam(String query, String name) {
    if (query == null || query.isEmpty()) {
      return null;
    }
    for (String part : query.split("&")) {
      int eq = part.indexOf('=');
      String k = eq < 0 ? part : part.substring(0, eq);
      if (k.equals(name)) {
        return eq < 0 ? "" : part.substring(eq + 1);
      }
    }
    return null;
  }
}
