package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfigFile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Routing through the proxy on real loopback sockets: weighted canary splits and their live change
 * (issue 10 acceptance: 90/10 over 2,000 requests within ±3 points, 50/50 and 0/100 after a live
 * config change with zero failed requests during the switch), the header canary, and the match
 * fields a request is judged on (query parameters, method, regex and case-insensitive uri, scheme,
 * source labels), with {@code NR} when nothing matches.
 */
class TrafficRoutingTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend v1;
  private EchoBackend v2;

  @BeforeEach
  void backends() throws Exception {
    v1 = new EchoBackend(fx.vertx, "v1");
    v2 = new EchoBackend(fx.vertx, "v2");
  }

  @AfterEach
  void tearDown() throws Exception {
    v1.close();
    v2.close();
    fx.close();
  }

  /** reviews.default: x-canary: 1 → v2, else split v1/v2 by the weights; the other routes exercise each match field. */
  private String config(String version, int w1, int w2) {
    return """
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: reviews
                domains: ["reviews.default"]
                routes:
                  - name: default/reviews-canary
                    match: [{headers: {x-canary: {exact: "1"}}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: default/reviews
                    clusters:
                      - {cluster: "outbound|9080|v1|reviews.default", weight: %d}
                      - {cluster: "outbound|9080|v2|reviews.default", weight: %d}
              - name: matches
                domains: ["match.default"]
                routes:
                  - name: query
                    match: [{uri: {prefix: /q}, queryParams: {user: {exact: jason}}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: query-present
                    match: [{uri: {prefix: /q}, queryParams: {debug: {}}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: delete
                    match: [{method: {exact: DELETE}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: regex
                    match: [{uri: {regex: "/items/[0-9]+"}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: nocase
                    match: [{uri: {exact: /Admin}, ignoreUriCase: true}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: from-frontend
                    match: [{uri: {prefix: /src}, sourceLabels: {app: frontend}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: from-other
                    match: [{uri: {prefix: /other}, sourceLabels: {app: other}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: https-only
                    match: [{uri: {prefix: /secure}, scheme: {exact: https}}]
                    clusters: [{cluster: "outbound|9080|v2|reviews.default"}]
                  - name: fallback
                    match: [{uri: {prefix: /}, withoutHeaders: {x-block: {}}}]
                    clusters: [{cluster: "outbound|9080|v1|reviews.default"}]
        clusters:
          - name: "outbound|9080|v1|reviews.default"
            host: reviews.default
            port: 9080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY, labels: {app: reviews, version: v1}}]
          - name: "outbound|9080|v2|reviews.default"
            host: reviews.default
            port: 9080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY, labels: {app: reviews, version: v2}}]
          - name: "outbound|8080||frontend.default"
            host: frontend.default
            port: 8080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: 1, health: HEALTHY, labels: {app: frontend}}]
        """.formatted(w1, w2, v1.port(), v2.port());
  }

  /** Sends {@code n} requests on one keep-alive connection; counts the answering backend; every answer must be 200. */
  private Map<String, Integer> split(int n, String extraHeaders) throws Exception {
    Map<String, Integer> by = new ConcurrentHashMap<>();
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < n; i++) {
        c.send("GET /reviews/" + i + " HTTP/1.1\r\nHost: reviews.default\r\n" + extraHeaders + "\r\n");
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).as("request %d", i).isEqualTo(200);
        by.merge(r.header("x-backend"), 1, Integer::sum);
      }
    }
    return by;
  }

  @Test
  void canarySplitHoldsWithinThreePointsAndFollowsLiveChangesWithZeroFailedRequests() throws Exception {
    fx.start(config("1", 90, 10));
    Map<String, Integer> first = split(2000, "");
    assertThat(first.getOrDefault("v2", 0) / 20.0).isBetween(7.0, 13.0);
    assertThat(first.get("v1") + first.getOrDefault("v2", 0)).isEqualTo(2000);

    switchUnderLoad(config("2", 50, 50));
    Map<String, Integer> half = split(2000, "");
    assertThat(half.get("v2") / 20.0).isBetween(47.0, 53.0);

    switchUnderLoad(config("3", 0, 100));
    Map<String, Integer> all = split(2000, "");
    assertThat(all).containsOnlyKeys("v2");
    assertThat(all.get("v2")).isEqualTo(2000);
  }

  /**
   * Applies {@code yaml} while two keep-alive clients keep sending to the split route; none of their
   * requests may fail (status other than 200 or a broken connection) before, during or after the swap.
   */
  private void switchUnderLoad(String yaml) throws Exception {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicInteger sent = new AtomicInteger();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Thread> clients = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      Thread th = new Thread(() -> {
        try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
          // bounded in count as well as by the stop flag
          for (int i = 0; i < 20_000 && !stop.get(); i++) {
            RawHttpClient.Response r = c.get("/load/" + i, "reviews.default");
            if (r.status() != 200) {
              failures.add(new AssertionError("status " + r.status() + " " + r.body()));
            }
            sent.incrementAndGet();
          }
        } catch (Throwable e) {
          failures.add(e);
        }
      }, "switch-load-" + t);
      clients.add(th);
      th.start();
    }
    try {
      awaitCount(sent, 50);
      fx.server.apply(ProxyConfigFile.parse(yaml)).await(30, TimeUnit.SECONDS);
      int atSwap = sent.get();
      awaitCount(sent, atSwap + 50);
    } finally {
      stop.set(true);
      for (Thread th : clients) {
        th.join(30_000);
      }
    }
    assertThat(failures).isEmpty();
    assertThat(sent.get()).isGreaterThanOrEqualTo(100);
  }

  private static void awaitCount(AtomicInteger count, int atLeast) throws InterruptedException {
    for (int i = 0; i < 3000 && count.get() < atLeast; i++) {
      Thread.sleep(10);
    }
    assertThat(count.get()).as("requests sent").isGreaterThanOrEqualTo(atLeast);
  }

  @Test
  void headerCanarySendsEveryMarkedRequestToV2() throws Exception {
    fx.start(config("1", 100, 0));
    assertThat(split(200, "x-canary: 1\r\n")).containsOnly(Map.entry("v2", 200));
    assertThat(split(200, "x-canary: 2\r\n")).containsOnly(Map.entry("v1", 200));
    assertThat(split(50, "")).containsOnly(Map.entry("v1", 50));
  }

  @Test
  void eachMatchFieldSelectsItsRouteAndNothingMatchingAnswers404NR() throws Exception {
    fx.start(config("1", 100, 0));
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertRoute(c, "GET /q?a=1&user=jason HTTP/1.1\r\nHost: match.default\r\n\r\n", "query", "v2");
      assertRoute(c, "GET /q?user=jasonx HTTP/1.1\r\nHost: match.default\r\n\r\n", "fallback", "v1");
      assertRoute(c, "GET /q?debug HTTP/1.1\r\nHost: match.default\r\n\r\n", "query-present", "v2");
      assertRoute(c, "GET /q?debugx=1 HTTP/1.1\r\nHost: match.default\r\n\r\n", "fallback", "v1");
      assertRoute(c, "DELETE /anything HTTP/1.1\r\nHost: match.default\r\n\r\n", "delete", "v2");
      assertRoute(c, "GET /items/42 HTTP/1.1\r\nHost: match.default\r\n\r\n", "regex", "v2");
      assertRoute(c, "GET /items/42x HTTP/1.1\r\nHost: match.default\r\n\r\n", "fallback", "v1");
      assertRoute(c, "GET /aDMIN HTTP/1.1\r\nHost: match.default\r\n\r\n", "nocase", "v2");
      // the caller is 127.0.0.1, which the config knows as an endpoint labelled app=frontend
      assertRoute(c, "GET /src HTTP/1.1\r\nHost: match.default\r\n\r\n", "from-frontend", "v2");
      assertRoute(c, "GET /other HTTP/1.1\r\nHost: match.default\r\n\r\n", "fallback", "v1");
      // plaintext listener: scheme http
      assertRoute(c, "GET /secure HTTP/1.1\r\nHost: match.default\r\n\r\n", "fallback", "v1");

      c.send("GET /x HTTP/1.1\r\nHost: match.default\r\nx-block: yes\r\n\r\n");
      RawHttpClient.Response nr = c.read();
      assertThat(nr.status()).isEqualTo(404);
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.flags()).isEqualTo("NR");
      assertThat(seen.route()).isNull();
      assertThat(seen.cluster()).isNull();

      c.send("GET /x HTTP/1.1\r\nHost: unknown.default\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(404);
      assertThat(fx.nextCompleted().flags()).isEqualTo("NR");
    }
  }

  private void assertRoute(RawHttpClient c, String raw, String route, String backend) throws Exception {
    c.send(raw);
    RawHttpClient.Response r = c.read();
    assertThat(r.status()).as(raw).isEqualTo(200);
    assertThat(r.header("x-backend")).as(raw).isEqualTo(backend);
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(seen.route()).as(raw).isEqualTo(route);
  }

  @Test
  void aBadRegexIsRefusedAtApplyNamingTheRouteAndTheOldConfigKeepsServing() throws Exception {
    fx.start(config("1", 100, 0));
    String bad = config("2", 100, 0).replace("\"/items/[0-9]+\"", "\"/items/[0-9\"");
    Throwable refused = null;
    try {
      fx.server.apply(ProxyConfigFile.parse(bad)).await(30, TimeUnit.SECONDS);
    } catch (Throwable e) {
      refused = e;
    }
    assertThat(refused).isNotNull();
    assertThat(refused.toString()).contains("route regex").contains("bad regex");
    assertThat(split(10, "")).containsOnly(Map.entry("v1", 10));
  }
}
