package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.ratelimit.LocalRateLimitFilterFactory;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Local rate limiting (RateLimitPolicy → RateLimitConfig) through the proxy on real sockets; the
 * buckets refill by a {@link ManualClock}, so rates are measured in simulated time.
 */
class LocalRateLimitTest {
  private final ProxyFixture fx = new ProxyFixture();
  private final ManualClock clock = new ManualClock(ProxyFixture.NOW);
  private EchoBackend backend;
  private String yaml;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  private void start(String limits) throws Exception {
    start(limits, "");
  }

  private void start(String limits, String extra) throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    yaml = """
        settings: {node: node-a}
        listeners:
          - {name: in, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r1, rateLimit: rl}
          - {name: free, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: echo
                domains: ["*"]
                routes:
                  - name: default/api
                    match: [{uri: {prefix: /api}}]
                    clusters: [{cluster: echo}]
                  - name: default/rest
                    clusters: [{cluster: echo}]
        clusters:
          - name: echo
            host: echo.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
        rateLimits:
          - name: rl
            %s
            limits: %s
        """.formatted(backend.port(), extra, limits);
    fx.start(yaml, List.of(new LocalRateLimitFilterFactory(clock)));
  }

  @Test
  void sustainedRateHoldsWithinTenPercentOfTheConfiguredRate() throws Exception {
    start("[{name: per-listener, requestsPerUnit: 20, unit: SECOND, burst: 5}]");
    int allowed = 0;
    int sent = 0;
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      // 10 simulated seconds, offered at 50 req/s (5 every 100 ms): 2.5× the limit
      for (int step = 0; step < 100; step++) {
        for (int i = 0; i < 5; i++) {
          RawHttpClient.Response r = c.get("/x", "echo.default");
          sent++;
          if (r.status() == 200) {
            allowed++;
          } else {
            assertThat(r.status()).isEqualTo(429);
          }
        }
        clock.advance(Duration.ofMillis(100));
      }
    }
    assertThat(sent).isEqualTo(500);
    // the burst, then 20/s for 10 s
    double expected = 5 + 20 * 10;
    assertThat((double) allowed).isBetween(expected * 0.9, expected * 1.1);
    assertThat(backend.requests.get()).isEqualTo(allowed);
  }

  @Test
  void limitedRequestGets429WithRetryAfterAndRateLimitHeadersAndFlagRL() throws Exception {
    start("[{requestsPerUnit: 2, unit: MINUTE}]");
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      RawHttpClient.Response first = c.get("/x", "echo.default");
      assertThat(first.status()).isEqualTo(200);
      assertThat(first.header("x-ratelimit-limit")).isEqualTo("2, 2;w=60");
      assertThat(first.header("x-ratelimit-remaining")).isEqualTo("1");
      assertThat(first.header("x-ratelimit-reset")).isEqualTo("30");
      assertThat(c.get("/x", "echo.default").header("x-ratelimit-remaining")).isEqualTo("0");
      RawHttpClient.Response limited = c.get("/x", "echo.default");
      assertThat(limited.status()).isEqualTo(429);
      assertThat(limited.body()).isEqualTo("local_rate_limited");
      assertThat(limited.header("retry-after")).isEqualTo("30"); // one token per 30 s
      assertThat(limited.header("x-ratelimit-remaining")).isEqualTo("0");
      assertThat(limited.header("x-ratelimit-limit")).isEqualTo("2, 2;w=60");
      // the connection stays usable; after retry-after the request passes
      clock.advance(Duration.ofSeconds(30));
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(200);
    }
    fx.nextCompleted();
    fx.nextCompleted();
    ProxyFixture.Seen limited = fx.nextCompleted();
    assertThat(limited.flags()).isEqualTo("RL");
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.local()).isTrue();
    // a listener without rateLimit is never limited
    try (RawHttpClient c = new RawHttpClient(fx.address("free"))) {
      for (int i = 0; i < 5; i++) {
        assertThat(c.get("/x", "echo.default").status()).isEqualTo(200);
      }
    }
  }

  @Test
  void routeAndMethodScopedLimitCountsOnlyItsRequests() throws Exception {
    start("[{requestsPerUnit: 1, unit: HOUR, match: {routes: [default/api], methods: [POST]}}]");
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      for (int i = 0; i < 3; i++) {
        assertThat(c.get("/api/x", "echo.default").status()).isEqualTo(200); // GET: not counted
        assertThat(c.get("/other", "echo.default").status()).isEqualTo(200); // other route
      }
      String post = "POST /api/x HTTP/1.1\r\nhost: echo.default\r\ncontent-length: 0\r\n\r\n";
      assertThat(c.send(post).read().status()).isEqualTo(200);
      assertThat(c.send(post).read().status()).isEqualTo(429);
    }
  }

  @Test
  void perConnectionScopeGivesEachConnectionItsOwnBucket() throws Exception {
    start("[{requestsPerUnit: 2, unit: HOUR, scope: CONNECTION}]");
    try (RawHttpClient a = new RawHttpClient(fx.address("in")); RawHttpClient b = new RawHttpClient(fx.address("in"))) {
      assertThat(a.get("/x", "h").status()).isEqualTo(200);
      assertThat(a.get("/x", "h").status()).isEqualTo(200);
      assertThat(a.get("/x", "h").status()).isEqualTo(429);
      assertThat(b.get("/x", "h").status()).isEqualTo(200);
      assertThat(b.get("/x", "h").status()).isEqualTo(200);
      assertThat(b.get("/x", "h").status()).isEqualTo(429);
    }
  }

  @Test
  void perNodeScopeIsSharedByAllConnections() throws Exception {
    start("[{requestsPerUnit: 2, unit: HOUR}]");
    try (RawHttpClient a = new RawHttpClient(fx.address("in")); RawHttpClient b = new RawHttpClient(fx.address("in"))) {
      assertThat(a.get("/x", "h").status()).isEqualTo(200);
      assertThat(b.get("/x", "h").status()).isEqualTo(200);
      assertThat(a.get("/x", "h").status()).isEqualTo(429);
      assertThat(b.get("/x", "h").status()).isEqualTo(429);
    }
  }

  @Test
  void descriptorHeaderKeepsABucketPerValueAndSkipsRequestsWithoutIt() throws Exception {
    start("[{requestsPerUnit: 1, unit: HOUR, perHeader: x-tenant}]");
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      String tenant = "GET /x HTTP/1.1\r\nhost: h\r\nx-tenant: %s\r\n\r\n";
      assertThat(c.send(tenant.formatted("a")).read().status()).isEqualTo(200);
      assertThat(c.send(tenant.formatted("a")).read().status()).isEqualTo(429);
      assertThat(c.send(tenant.formatted("b")).read().status()).isEqualTo(200);
      assertThat(c.get("/x", "h").status()).isEqualTo(200);
      assertThat(c.get("/x", "h").status()).isEqualTo(200);
    }
  }

  @Test
  void configuredResponseStatusIsUsed() throws Exception {
    start("[{requestsPerUnit: 1, unit: HOUR}]", "responseStatus: 503");
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      assertThat(c.get("/x", "h").status()).isEqualTo(200);
      RawHttpClient.Response r = c.get("/x", "h");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.header("retry-after")).isEqualTo("3600");
    }
  }

  @Test
  void bucketsSurviveAConfigPushThatLeavesTheLimitUnchangedAndResetWhenItChanges() throws Exception {
    start("[{requestsPerUnit: 1, unit: HOUR}]");
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      assertThat(c.get("/x", "h").status()).isEqualTo(200);
      assertThat(c.get("/x", "h").status()).isEqualTo(429);
    }
    fx.server.apply(dev.lattice.dataplane.config.ProxyConfigFile.parse(yaml + "# another version\n"))
        .await(10, java.util.concurrent.TimeUnit.SECONDS);
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      assertThat(c.get("/x", "h").status()).isEqualTo(429);
    }
    fx.server.apply(dev.lattice.dataplane.config.ProxyConfigFile.parse(yaml.replace("requestsPerUnit: 1,", "requestsPerUnit: 2,")))
        .await(10, java.util.concurrent.TimeUnit.SECONDS);
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      assertThat(c.get("/x", "h").status()).isEqualTo(200);
    }
  }

  @Test
  void badLimitsAreRejectedNamingTheLimit() {
    assertThatThrownBy(() -> start("[{requestsPerUnit: 0, unit: SECOND}]"))
        .hasMessageContaining("rateLimit rl limits[0]: requestsPerUnit 0 (expected: > 0)");
  }

  @Test
  void badBurstIsRejected() {
    assertThatThrownBy(() -> start("[{requestsPerUnit: 5, unit: SECOND, burst: -1}]"))
        .hasMessageContaining("rateLimit rl limits[0]: burst -1");
  }

  @Test
  void badRegexIsRejected() {
    assertThatThrownBy(() -> start("[{requestsPerUnit: 5, unit: SECOND, match: {uri: {regex: '('}}}]"))
        .hasMessageContaining("rateLimit rl limits[0]: match.uri: regex ( does not compile");
  }

  @Test
  void aListenerNamingAMissingRateLimitConfigIsRejected() throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    assertThatThrownBy(() -> fx.start("""
        listeners:
          - {name: in, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r1, rateLimit: nope}
        routes:
          - {name: r1, virtualHosts: []}
        """, List.of(new LocalRateLimitFilterFactory(clock))))
        .hasMessageContaining("listener in: rateLimit nope is not among rateLimits []");
  }
}
