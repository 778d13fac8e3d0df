package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfigFile;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Istio's {@code HTTPRewrite.uriRegexRewrite} on real loopback sockets: what the upstream receives (the echo
 * backend answers with its request line), the query kept, every match replaced, RE2's {@code \N} groups, a
 * backtracking expression on a hostile path refused per request within its step budget, and expressions or
 * replacements RE2 would refuse rejected at apply with the old config serving.
 */
class UriRegexRewriteTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;

  @BeforeEach
  void start() throws Exception {
    backend = new EchoBackend(fx.vertx, "b");
  }

  @AfterEach
  void tearDown() throws Exception {
    backend.close();
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
              - name: rx
                domains: ["rx.default"]
                routes:
                  - name: istio-example
                    match: [{uri: {prefix: /service/}}]
                    rewrite: {uriRegexRewrite: {match: '^/service/([^/]+)(/.*)$', rewrite: '\\2/instance/\\1'}}
                    clusters: [{cluster: b}]
                  - name: every-match
                    match: [{uri: {prefix: /dash/}}]
                    rewrite: {uriRegexRewrite: {match: '-', rewrite: '_'}, authority: dash.internal}
                    clusters: [{cluster: b}]
                  - name: literals
                    match: [{uri: {prefix: /lit/}}]
                    rewrite: {uriRegexRewrite: {match: '^/lit/(.*)$', rewrite: '/cost/$5\\\\\\0'}}
                    clusters: [{cluster: b}]
                  - name: relative
                    match: [{uri: {prefix: /rel/}}]
                    rewrite: {uriRegexRewrite: {match: '^/rel/', rewrite: ''}}
                    clusters: [{cluster: b}]
                  - name: backtracking
                    match: [{uri: {prefix: /bt/}}]
                    rewrite: {uriRegexRewrite: {match: '^/bt/(.*a){12}$', rewrite: '/x'}}
                    clusters: [{cluster: b}]
        clusters:
          - name: b
            host: b.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
        """.formatted(backend.port());
  }

  /** The request line and host the backend received for {@code path}. */
  private String forwarded(RawHttpClient c, String path) throws Exception {
    RawHttpClient.Response r = c.get(path, "rx.default");
    assertThat(r.status()).as(path).isEqualTo(200);
    String[] lines = r.body().split("\n");
    String host = java.util.Arrays.stream(lines).filter(l -> l.startsWith("host: ")).findFirst().orElse("host: ?");
    return lines[0] + " " + host;
  }

  @Test
  void thePathIsRewrittenByTheExpressionAndTheQueryKept() throws Exception {
    fx.start(config());
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(forwarded(c, "/service/catalog/v1/items?page=2&q=a-b"))
          .isEqualTo("GET /v1/items/instance/catalog?page=2&q=a-b host: rx.default");
      // every match, not only the first; the query (which has one too) untouched; authority with it
      assertThat(forwarded(c, "/dash/a-b-c?x=1-2")).isEqualTo("GET /dash/a_b_c?x=1-2 host: dash.internal");
      // '$' is literal, '\\' a backslash, '\0' the whole match
      assertThat(forwarded(c, "/lit/z")).isEqualTo("GET /cost/$5\\/lit/z host: rx.default");
      // a result without a leading slash gets one
      assertThat(forwarded(c, "/rel/abc")).isEqualTo("GET /abc host: rx.default");
      // no match: the path goes as it came
      assertThat(forwarded(c, "/service/only")).isEqualTo("GET /service/only host: rx.default");
      assertThat(fx.completed).allSatisfy(s -> assertThat(s.status()).isEqualTo(200));
    }
  }

  @Test
  void aBacktrackingExpressionOnAHostilePathFailsThatRequestWithinItsBudget() throws Exception {
    fx.start(config());
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      // a short path fails the expression within the budget and goes unchanged
      assertThat(forwarded(c, "/bt/aaa")).isEqualTo("GET /bt/aaa host: rx.default");
    }
    assertThat(fx.nextCompleted().status()).isEqualTo(200);
    // (.*a){12}$ tries every way to cut 40 a's in 12 (~10^10 in java.util.regex; RE2 is linear); 28 took 1.7 s unbudgeted
    String hostile = "/bt/" + "a".repeat(40) + "!";
    long start = System.nanoTime();
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.get(hostile, "rx.default");
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.body()).contains("uri rewrite");
    }
    assertThat((System.nanoTime() - start) / 1_000_000).as("ms for the refused request").isLessThan(2_000);
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(seen.status()).isEqualTo(400);
    assertThat(seen.local()).isTrue();
    assertThat(backend.requests.get()).isEqualTo(1);
    // the event loop is free: the next request is served
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(forwarded(c, "/dash/x-y")).isEqualTo("GET /dash/x_y host: dash.internal");
    }
  }

  @Test
  void expressionsAndReplacementsRe2WouldRefuseAreRejectedAtApplyAndTheOldConfigKeepsServing() throws Exception {
    fx.start(config());
    Map<String, String> bad = new LinkedHashMap<>();
    bad.put("match: '-', rewrite: '_'", "match: '-(?=b)', rewrite: '_'");
    bad.put("match: '^/rel/', rewrite: ''", "match: '^/(r)el/\\1', rewrite: ''");
    bad.put("rewrite: '\\2/instance/\\1'", "rewrite: '\\3/instance/\\1'");
    bad.put("rewrite: '_'}", "rewrite: '\\x'}");
    bad.put("match: '^/bt/(.*a){12}$'", "match: '^/bt/(.*a++){12}$'");
    bad.put("rewrite: '/x'}", "rewrite: '/x'}, uri: /y");
    bad.put("match: '^/lit/(.*)$'", "match: '^/lit/(.*$'");
    Map<String, String> expected = Map.of(
        "match: '-', rewrite: '_'", "route every-match: rewrite.uriRegexRewrite.match \"-(?=b)\": \"(?=\" at index 1 is not RE2 syntax",
        "match: '^/rel/', rewrite: ''", "route relative: rewrite.uriRegexRewrite.match \"^/(r)el/\\1\": \"\\1\" at index 8 is not RE2 syntax",
        "rewrite: '\\2/instance/\\1'", "route istio-example: rewrite.uriRegexRewrite.rewrite \"\\3/instance/\\1\": \\3 names a group the match does not have (expected: \\0..\\2)",
        "rewrite: '_'}", "route every-match: rewrite.uriRegexRewrite.rewrite \"\\x\": a backslash not followed by a digit or a backslash",
        "match: '^/bt/(.*a){12}$'", "route backtracking: rewrite.uriRegexRewrite.match \"^/bt/(.*a++){12}$\": \"++\" at index 9 is not RE2 syntax",
        "rewrite: '/x'}", "route backtracking: rewrite.uriRegexRewrite set with rewrite.uri (expected: one of uri, uriRegexRewrite)",
        "match: '^/lit/(.*)$'", "route literals: rewrite.uriRegexRewrite.match \"^/lit/(.*$\": Unclosed group");
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
      assertThat(forwarded(c, "/dash/a-b")).isEqualTo("GET /dash/a_b host: dash.internal");
    }
  }
}
