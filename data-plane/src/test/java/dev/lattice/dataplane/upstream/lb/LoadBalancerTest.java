package dev.lattice.dataplane.upstream.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.events.policy.ConsistentHashLoadBalancer;
import dev.lattice.events.policy.HttpCookie;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.SimpleLoadBalancer;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The balancers without sockets: ring-hash stability and ~1/N movement, least request, random, round robin, keys. */
class LoadBalancerTest {

  private static List<WeightedEndpoint> endpoints(int n) {
    List<WeightedEndpoint> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(new WeightedEndpoint(new InetSocketAddress("10.0.0." + (i + 1), 9080), 1));
    }
    return out;
  }

  private static List<InetSocketAddress> addresses(List<WeightedEndpoint> eps) {
    return eps.stream().map(WeightedEndpoint::address).toList();
  }

  /** A request view with one header, query and source. */
  private record Req(Map<String, String> headers, String query, InetSocketAddress source, Map<String, String> added)
      implements LbRequest {
    Req(Map<String, String> headers) {
      this(headers, null, null, new HashMap<>());
    }

    @Override
    public String header(String name) {
      return headers.get(name);
    }

    @Override
    public InetSocketAddress sourceAddress() {
      return source;
    }

    @Override
    public void addResponseHeader(String name, String value) {
      added.put(name, value);
    }
  }

  private static LoadBalancerSettings hashOnHeader(String header) {
    return LoadBalancerSettings.newBuilder()
        .setConsistentHash(ConsistentHashLoadBalancer.newBuilder().setHttpHeaderName(header).build()).build();
  }

  private static LoadBalancer balancer(LoadBalancerSettings s, List<WeightedEndpoint> eps) {
    return LoadBalancer.of(s, eps, ActiveRequests.of(addresses(eps), null));
  }

  @Test
  void sameKeyAlwaysReachesTheSameEndpointAndOnlyTheLeavingEndpointsKeysMove() {
    List<WeightedEndpoint> ten = endpoints(10);
    LoadBalancer lb = balancer(hashOnHeader("x-user"), ten);
    Map<String, InetSocketAddress> before = new HashMap<>();
    for (int k = 0; k < 10_000; k++) {
      String key = "user-" + k;
      InetSocketAddress a = lb.pick(new Req(Map.of("x-user", key)), null);
      before.put(key, a);
      // the same key again, and on a ring rebuilt from the same endpoints (another snapshot): the same endpoint
      assertThat(lb.pick(new Req(Map.of("x-user", key)), null)).isEqualTo(a);
    }
    LoadBalancer rebuilt = balancer(hashOnHeader("x-user"), ten);
    before.forEach((key, a) -> assertThat(rebuilt.pick(new Req(Map.of("x-user", key)), null)).isEqualTo(a));

    InetSocketAddress leaving = ten.get(3).address();
    List<WeightedEndpoint> nine = new ArrayList<>(ten);
    nine.remove(3);
    LoadBalancer after = balancer(hashOnHeader("x-user"), nine);
    int moved = 0;
    for (Map.Entry<String, InetSocketAddress> e : before.entrySet()) {
      InetSocketAddress now = after.pick(new Req(Map.of("x-user", e.getKey())), null);
      if (!now.equals(e.getValue())) {
        moved++;
        assertThat(e.getValue()).as("only keys of the leaving endpoint move").isEqualTo(leaving);
      }
    }
    // ~1/N of the keys (each endpoint owns about a tenth of the ring)
    assertThat(moved / 10_000.0).isBetween(0.05, 0.15);
    // each endpoint holds a fair share: none more than twice its 10 %
    Map<InetSocketAddress, Integer> load = new HashMap<>();
    before.values().forEach(a -> load.merge(a, 1, Integer::sum));
    assertThat(load.values()).allSatisfy(c -> assertThat(c).isBetween(500, 2000));
  }

  @Test
  void ringHashHonoursWeightsAndARetryWalksToTheNextEndpoint() {
    List<WeightedEndpoint> eps = List.of(new WeightedEndpoint(new InetSocketAddress("10.0.0.1", 1), 3),
        new WeightedEndpoint(new InetSocketAddress("10.0.0.2", 1), 1));
    LoadBalancer lb = balancer(hashOnHeader("x-user"), eps);
    int first = 0;
    for (int k = 0; k < 4000; k++) {
      InetSocketAddress a = lb.pick(new Req(Map.of("x-user", "u" + k)), null);
      if (a.equals(eps.get(0).address())) {
        first++;
      }
      InetSocketAddress retry = lb.pick(new Req(Map.of("x-user", "u" + k)), x -> !x.equals(a));
      assertThat(retry).isNotEqualTo(a);
    }
    assertThat(first / 4000.0).isBetween(0.68, 0.82);
  }

  @Test
  void hashKeysComeFromHeaderCookieSourceIpOrQueryAndAMissingKeyFallsBackToRoundRobin() {
    List<WeightedEndpoint> eps = endpoints(8);
    InetSocketAddress src = new InetSocketAddress("192.168.7.9", 40000);
    LoadBalancer byIp = balancer(LoadBalancerSettings.newBuilder().setConsistentHash(
        ConsistentHashLoadBalancer.newBuilder().setUseSourceIp(true).build()).build(), eps);
    InetSocketAddress a = byIp.pick(new Req(Map.of(), null, src, new HashMap<>()), null);
    // another source port of the same IP: same endpoint
    assertThat(byIp.pick(new Req(Map.of(), null, new InetSocketAddress("192.168.7.9", 40001), new HashMap<>()), null)).isEqualTo(a);

    LoadBalancer byQuery = balancer(LoadBalancerSettings.newBuilder().setConsistentHash(
        ConsistentHashLoadBalancer.newBuilder().setHttpQueryParameterName("session").build()).build(), eps);
    InetSocketAddress q = byQuery.pick(new Req(Map.of(), "a=1&session=s42&b", null, new HashMap<>()), null);
    for (int i = 0; i < 20; i++) {
      assertThat(byQuery.pick(new Req(Map.of(), "session=s42", null, new HashMap<>()), null)).isEqualTo(q);
    }
    // no key: round robin over all endpoints
    List<InetSocketAddress> seen = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      seen.add(byQuery.pick(new Req(Map.of(), "other=1", null, new HashMap<>()), null));
    }
    assertThat(seen).containsExactlyInAnyOrderElementsOf(addresses(eps));

    LoadBalancer byCookie = balancer(LoadBalancerSettings.newBuilder().setConsistentHash(ConsistentHashLoadBalancer.newBuilder()
        .setHttpCookie(HttpCookie.newBuilder().setName("affinity").setPath("/").setTtl(60_000L).build()).build()).build(), eps);
    InetSocketAddress c = byCookie.pick(new Req(Map.of("cookie", "theme=dark; affinity=abc")), null);
    assertThat(byCookie.pick(new Req(Map.of("cookie", "affinity=abc")), null)).isEqualTo(c);
    // absent with a ttl: generated, sent back, and the request is hashed by it
    Req fresh = new Req(Map.of());
    InetSocketAddress g = byCookie.pick(fresh, null);
    String setCookie = fresh.added().get("set-cookie");
    assertThat(setCookie).startsWith("affinity=").contains("; Max-Age=60").contains("; Path=/").contains("HttpOnly");
    String value = setCookie.substring("affinity=".length(), setCookie.indexOf(';'));
    assertThat(byCookie.pick(new Req(Map.of("cookie", "affinity=" + value)), null)).isEqualTo(g);
  }

  @Test
  void leastRequestPrefersTheEndpointWithFewerRequestsInFlight() {
    List<WeightedEndpoint> eps = endpoints(2);
    ActiveRequests active = ActiveRequests.of(addresses(eps), null);
    LoadBalancer lb = LoadBalancer.of(LoadBalancerSettings.newBuilder().setSimple(SimpleLoadBalancer.LEAST_REQUEST).build(), eps, active);
    active.started(eps.get(0).address());
    for (int i = 0; i < 200; i++) {
      assertThat(lb.pick(null, null)).isEqualTo(eps.get(1).address());
    }
    active.started(eps.get(1).address());
    active.started(eps.get(1).address());
    for (int i = 0; i < 200; i++) {
      assertThat(lb.pick(null, null)).isEqualTo(eps.get(0).address());
    }
    // a new snapshot keeps the counts of endpoints that stay
    ActiveRequests carried = ActiveRequests.of(addresses(eps), active);
    assertThat(carried.count(eps.get(1).address())).isEqualTo(2);

    // with 10 endpoints and one loaded, the loaded one is picked only when drawn twice (~1 %)
    List<WeightedEndpoint> many = endpoints(10);
    ActiveRequests a10 = ActiveRequests.of(addresses(many), null);
    for (int i = 0; i < 50; i++) {
      a10.started(many.get(0).address());
    }
    LoadBalancer lb10 = LoadBalancer.of(LoadBalancerSettings.newBuilder().setSimple(SimpleLoadBalancer.LEAST_REQUEST).build(), many, a10);
    int loaded = 0;
    for (int i = 0; i < 5000; i++) {
      if (lb10.pick(null, null).equals(many.get(0).address())) {
        loaded++;
      }
    }
    assertThat(loaded).isLessThan(100);
  }

  @Test
  void randomSpreadsEvenlyAndRoundRobinCyclesByWeight() {
    List<WeightedEndpoint> eps = endpoints(4);
    LoadBalancer random = balancer(LoadBalancerSettings.newBuilder().setSimple(SimpleLoadBalancer.RANDOM).build(), eps);
    Map<InetSocketAddress, Integer> by = new HashMap<>();
    for (int i = 0; i < 4000; i++) {
      by.merge(random.pick(null, null), 1, Integer::sum);
    }
    assertThat(by).hasSize(4);
    assertThat(by.values()).allSatisfy(c -> assertThat(c).isBetween(850, 1150));

    List<WeightedEndpoint> weighted = List.of(new WeightedEndpoint(new InetSocketAddress("10.0.0.1", 1), 2),
        new WeightedEndpoint(new InetSocketAddress("10.0.0.2", 1), 1));
    LoadBalancer rr = balancer(null, weighted);
    assertThat(rr.kind()).isEqualTo(LoadBalancer.Kind.ROUND_ROBIN);
    Map<InetSocketAddress, Integer> rrBy = new HashMap<>();
    for (int i = 0; i < 300; i++) {
      rrBy.merge(rr.pick(null, null), 1, Integer::sum);
    }
    assertThat(rrBy.get(weighted.get(0).address())).isEqualTo(200);
    assertThat(balancer(null, List.of()).pick(null, null)).isNull();
  }

  @Test
  void badSettingsAreRefusedNamingTheField() {
    List<WeightedEndpoint> eps = endpoints(2);
    assertThatThrownBy(() -> balancer(LoadBalancerSettings.newBuilder().setConsistentHash(ConsistentHashLoadBalancer.newBuilder()
        .setHttpHeaderName("x").setUseSourceIp(true).build()).build(), eps))
        .hasMessageContaining("consistentHash: 2 hash keys (expected: exactly one of");
    assertThatThrownBy(() -> balancer(LoadBalancerSettings.newBuilder().setSimple(SimpleLoadBalancer.RANDOM)
        .setConsistentHash(ConsistentHashLoadBalancer.newBuilder().setHttpHeaderName("x").build()).build(), eps))
        .hasMessageContaining("both simple RANDOM and consistentHash");
    assertThatThrownBy(() -> balancer(LoadBalancerSettings.newBuilder().setConsistentHash(ConsistentHashLoadBalancer.newBuilder()
        .setHttpHeaderName("x").setMinimumRingSize(0L).build()).build(), eps))
        .hasMessageContaining("consistentHash.minimumRingSize 0 (expected: 1..");
  }
}
