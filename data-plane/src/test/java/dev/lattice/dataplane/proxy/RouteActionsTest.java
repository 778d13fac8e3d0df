package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfigFile;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The route actions beyond cluster choice on real loopback sockets (issue 10 item 1): uri and authority
 * rewrite, redirects, direct responses, and request/response header operations per route and per
 * destination. The echo backend answers with the request it received, so each assertion reads what the
 * proxy actually forwarded.
 */
class RouteActionsTest {
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

  private String config() {
    return """
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: actions
                domains: ["actions.default", "actions.default:8080"]
                routes:
                  - name: prefix-rewrite
                    match: [{uri: {prefix: /api/}}, {uri: {exact: /old}}]
                    rewrite: {uri: /v2/, authority: reviews.internal}
                    clusters: [{cluster: v1}]
                  - name: moved
                    match: [{uri: {prefix: /moved}}]
                    redirect: {uri: /new}
                  - name: to-https
                    match: [{uri: {prefix: /secure}}]
                    redirect: {scheme: https, redirectCode: 308}
                  - name: elsewhere
                    match: [{uri: {prefix: /elsewhere}}]
                    redirect: {authority: docs.example.com, port: 8443, uri: "/docs?from=mesh", redirectCode: 302}
                  - name: gone
                    match: [{uri: {prefix: /gone}}]
                    directResponse: {status: 410, body: "gone for good"}
                    headers: {response: {set: {x-served-by: mesh}}}
                  - name: headers
                    match: [{uri: {prefix: /h}}]
                    headers:
                      request: {set: {x-set: route, x-both: route}, add: {x-add: route}, remove: [x-drop]}
                      response: {set: {x-resp-set: route}, add: {x-resp-add: route}, remove: [x-backend]}
                    clusters:
                      - cluster: v1
                        weight: 50
                      - cluster: v2
                        weight: 50
                        headers:
                          request: {set: {x-dest: v2, x-both: destination}, remove: [x-add]}
                          response: {add: {x-dest-resp: v2}}
              - name: whole
                domains: ["whole.default"]
                routes:
                  - name: no-match-rewrite
                    rewrite: {uri: /v2}
                    clusters: [{cluster: v2}]
        clusters:
          - {name: v1, host: reviews.default, port: 9080, mtls: false, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: v2, host: reviews.default, port: 9080, mtls: false, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
        """.formatted(v1.port(), v2.port());
  }

  /** The request line the echo backend saw (first line of its body). */
  private static String requestLine(RawHttpClient.Response r) {
    return r.body().substring(0, r.body().indexOf('\n'));
  }

  /** The headers the echo backend saw, name → comma-joined values. */
  private static Map<String, String> forwarded(RawHttpClient.Response r) {
    Map<String, String> out = new HashMap<>();
    String[] lines = r.body().split("\n");
    for (int i = 1; i < lines.length && !lines[i].isEmpty(); i++) {
      int c = lines[i].indexOf(": ");
      out.merge(lines[i].substring(0, c), lines[i].substring(c + 2), (a, b) -> a + "," + b);
    }
    return out;
  }

  @Test
  void uriAndAuthorityRewriteReplaceTheMatchedPrefixOrTheWholePathAndKeepTheQuery() throws Exception {
    fx.start(config());
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.get("/api/items/7?x=1", "actions.default");
      assertThat(r.status()).isEqualTo(200);
      assertThat(requestLine(r)).isEqualTo("GET /v2/items/7?x=1");
      assertThat(forwarded(r)).containsEntry("host", "reviews.internal");
      assertThat(fx.nextCompleted().route()).isEqualTo("prefix-rewrite");

      // the exact alternative of the same route: the whole path is replaced, the query kept
      r = c.get("/old?q=2", "actions.default");
      assertThat(requestLine(r)).isEqualTo("GET /v2/?q=2");
      fx.nextCompleted();

      // no uri condition: Istio's prefix "/" is what is replaced
      r = c.get("/foo", "whole.default");
      assertThat(requestLine(r)).isEqualTo("GET /v2foo");
      assertThat(forwarded(r)).containsEntry("host", "whole.default");
      assertThat(r.header("x-backend")).isEqualTo("v2");
      fx.nextCompleted();
    }
  }

  @Test
  void redirectsAnswerWithLocationAndNeverReachAnUpstream() throws Exception {
    fx.start(config());
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.get("/moved/here?x=1", "actions.default:8080");
      assertThat(r.status()).isEqualTo(301);
      assertThat(r.header("location")).isEqualTo("http://actions.default:8080/new?x=1");
      assertThat(r.body()).isEmpty();
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.route()).isEqualTo("moved");
      assertThat(seen.cluster()).isNull();
      assertThat(seen.local()).isTrue();

      // scheme change keeps the path and query; 308 as configured
      r = c.get("/secure/area?y=2", "actions.default");
      assertThat(r.status()).isEqualTo(308);
      assertThat(r.header("location")).isEqualTo("https://actions.default/secure/area?y=2");
      fx.nextCompleted();

      // authority + port + a uri with its own query (which replaces the request's)
      r = c.get("/elsewhere?z=3", "actions.default:8080");
      assertThat(r.status()).isEqualTo(302);
      assertThat(r.header("location")).isEqualTo("http://docs.example.com:8443/docs?from=mesh");
      fx.nextCompleted();
    }
    assertThat(v1.requests.get() + v2.requests.get()).isZero();
  }

  @Test
  void directResponseAnswersWithStatusBodyAndTheRoutesResponseHeaders() throws Exception {
    fx.start(config());
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.get("/gone/x", "actions.default");
      assertThat(r.status()).isEqualTo(410);
      assertThat(r.body()).isEqualTo("gone for good");
      assertThat(r.header("content-type")).isEqualTo("text/plain");
      assertThat(r.header("x-served-by")).isEqualTo("mesh");
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.route()).isEqualTo("gone");
      assertThat(seen.status()).isEqualTo(410);
      // the connection stays usable
      assertThat(c.get("/gone/y", "actions.default").status()).isEqualTo(410);
    }
    assertThat(v1.requests.get() + v2.requests.get()).isZero();
  }

  @Test
  void headerOperationsApplyPerRouteAndPerChosenDestinationWithTheRouteWinning() throws Exception {
    fx.start(config());
    Map<String, Integer> by = new HashMap<>();
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 40; i++) {
        c.send("GET /h/" + i + " HTTP/1.1\r\nHost: actions.default\r\nx-set: client\r\nx-add: client\r\nx-drop: secret\r\n\r\n");
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).isEqualTo(200);
        String backend = fx.nextCompleted().cluster();
        by.merge(backend, 1, Integer::sum);
        Map<String, String> seen = forwarded(r);
        assertThat(seen).containsEntry("x-set", "route").doesNotContainKey("x-drop");
        // route-level operations run after the destination's: the route's set wins
        assertThat(seen).containsEntry("x-both", "route");
        assertThat(r.header("x-resp-set")).isEqualTo("route");
        assertThat(r.header("x-resp-add")).isEqualTo("route");
        assertThat(r.header("x-backend")).isNull();
        if (backend.equals("v2")) {
          assertThat(seen).containsEntry("x-dest", "v2");
          // v2 removed the client's x-add before the route added its own
          assertThat(seen).containsEntry("x-add", "route");
          assertThat(r.header("x-dest-resp")).isEqualTo("v2");
        } else {
          assertThat(seen).doesNotContainKey("x-dest").containsEntry("x-add", "client,route");
          assertThat(r.header("x-dest-resp")).isNull();
        }
      }
    }
    assertThat(by).containsOnlyKeys("v1", "v2");
    assertThat(by.get("v2")).isBetween(18, 22);
  }

  @Test
  void badActionsAreRefusedAtApplyNamingTheRouteAndTheOldConfigKeepsServing() throws Exception {
    fx.start(config());
    Map<String, String> bad = Map.of(
        "redirect: {uri: /new}", "redirect: {uri: /new}\n            clusters: [{cluster: v1}]",
        "redirectCode: 308}", "redirectCode: 200}",
        "x-resp-set: route}", "content-length: \"5\"}",
        "remove: [x-drop]", "remove: [host]",
        "status: 410,", "status: 99,");
    Map<String, String> expected = Map.of(
        "redirect: {uri: /new}", "route moved: clusters with redirect",
        "redirectCode: 308}", "route to-https: redirect.redirectCode 200 (expected: 301, 302, 303, 307 or 308)",
        "x-resp-set: route}", "route headers: headers.response.set: header content-length frames the message",
        "remove: [x-drop]", "route headers: headers.request.remove: host",
        "status: 410,", "route gone: directResponse.status 99 (expected: 200..599)");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      String yaml = config().replace(e.getKey(), e.getValue());
      assertThat(yaml).as(e.getKey()).isNotEqualTo(config());
      Throwable refused = null;
      try {
        fx.server.apply(ProxyConfigFile.parse(yaml)).await(30, TimeUnit.SECONDS);
      } catch (Throwable t) {
        refused = t;
      }
      assertThat(refused).as(e.getKey()).isNotNull();
      assertThat(refused.toString()).as(e.getKey()).contains(expected.get(e.getKey()));
    }
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/moved", "actions.default").status()).isEqualTo(301);
    }
  }
}
