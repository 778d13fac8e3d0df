package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Route retries ({@code retryOn}, attempts, backoff, per-try timeout, retry budget) and the route timeout
 * through the proxy on real sockets, against {@link FlakyBackend}. Backoff bases are 1 ms so the runs are
 * short; the budget runs on the fixture's fixed clock, so its bound is exact.
 */
class RetryAndTimeoutTest {
  private final ProxyFixture fx = new ProxyFixture();
  private FlakyBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  /** Listener {@code out}; host flaky.default → route default/flaky with {@code routeExtra} (YAML flow fields) → cluster flaky. */
  private void start(String routeExtra, String clusterExtra, String endpoints) throws Exception {
    backend = new FlakyBackend(fx.vertx, "b1");
    String eps = endpoints != null ? endpoints : "[{address: 127.0.0.1, port: " + backend.port() + ", health: HEALTHY}]";
    fx.start("""
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: flaky
                domains: ["flaky.default"]
                routes:
                  - {name: default/flaky, clusters: [{cluster: flaky}], %s}
        clusters:
          - {name: flaky, host: flaky.default, port: 8080, mtls: false, endpoints: %s, %s}
        """.formatted(routeExtra, eps, clusterExtra == null ? "port: 8080" : clusterExtra));
  }

  private RawHttpClient.Response get(String path) throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      return c.get(path, "flaky.default");
    }
  }

  @Test
  void upstreamFailingTwoOfThreeTimesSucceedsWithThreeRetriesAndTheFlowRecordCountsThem() throws Exception {
    start("retries: {attempts: 3, retryOn: 5xx, backoffBaseInterval: 1}", null, null);
    RawHttpClient.Response r = get("/status-503/a/2");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("ok a try 3");
    assertThat(backend.tries("a")).isEqualTo(3);
    ProxyFixture.Seen s = fx.nextCompleted();
    assertThat(s.status()).isEqualTo(200);
    assertThat(s.retries()).isEqualTo(2);
    assertThat(s.flags()).isEmpty();
  }

  @Test
  void aRequestBodyIsReplayedOnEachTry() throws Exception {
    start("retries: {attempts: 2, retryOn: 'reset,5xx', backoffBaseInterval: 1}", null, null);
    String body = "x".repeat(20_000) + "end";
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("POST /reset/body/1 HTTP/1.1\r\nHost: flaky.default\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok body try 2 body " + body.length() + " " + Integer.toHexString(body.hashCode()));
      // chunked, too: the replay keeps the chunks and the last one
      c.send("POST /status-500/chunked/1 HTTP/1.1\r\nHost: flaky.default\r\nTransfer-Encoding: chunked\r\n\r\n"
          + "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
      r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok chunked try 2 body 11 " + Integer.toHexString("hello world".hashCode()));
    }
    assertThat(fx.nextCompleted().retries()).isEqualTo(1);
    assertThat(fx.nextCompleted().retries()).isEqualTo(1);
  }

  @Test
  void aBodyLargerThan64KiBIsNotRetried() throws Exception {
    start("retries: {attempts: 2, retryOn: 5xx, backoffBaseInterval: 1}", null, null);
    String body = "y".repeat(Exchange.MAX_REPLAY + 1);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("POST /status-503/big/1 HTTP/1.1\r\nHost: flaky.default\r\nContent-Length: " + body.length() + "\r\n\r\n" + body);
      assertThat(c.read().status()).isEqualTo(503);
    }
    assertThat(backend.tries("big")).isEqualTo(1);
    assertThat(fx.nextCompleted().retries()).isZero();
  }

  @Test
  void exhaustedRetriesForwardTheLastAnswerWithURX() throws Exception {
    start("retries: {attempts: 2, retryOn: gateway-error, backoffBaseInterval: 1}", null, null);
    RawHttpClient.Response r = get("/status-502/b/10");
    assertThat(r.status()).isEqualTo(502);
    assertThat(r.body()).isEqualTo("failing b try 3");
    assertThat(backend.tries("b")).isEqualTo(3);
    ProxyFixture.Seen s = fx.nextCompleted();
    assertThat(s.flags()).isEqualTo("URX");
    assertThat(s.retries()).isEqualTo(2);
  }

  @Test
  void onlyTheConditionsInRetryOnAreRetried() throws Exception {
    start("retries: {attempts: 2, retryOn: 'connect-failure,503', backoffBaseInterval: 1}", null, null);
    assertThat(get("/status-500/c/1").status()).isEqualTo(500); // 500 is not in the list
    assertThat(backend.tries("c")).isEqualTo(1);
    assertThat(get("/status-503/d/1").status()).isEqualTo(200); // a numeric code is a retriable status (Istio)
    assertThat(backend.tries("d")).isEqualTo(2);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      // a reset is neither a connect failure nor a 503 answer (a POST with a body: not the pooled-connection resend)
      c.send("POST /reset/e/1 HTTP/1.1\r\nHost: flaky.default\r\nContent-Length: 2\r\n\r\nhi");
      assertThat(c.read().status()).isEqualTo(503);
    }
    assertThat(backend.tries("e")).isEqualTo(1);
    assertThat(fx.nextCompleted().flags()).isEmpty();
    assertThat(fx.nextCompleted().retries()).isEqualTo(1);
    assertThat(fx.nextCompleted().flags()).isEqualTo("UC");
  }

  @Test
  void grpcStatusesInRetryOnAreRetried() throws Exception {
    start("retries: {attempts: 1, retryOn: 'unavailable', backoffBaseInterval: 1}", null, null);
    RawHttpClient.Response r = get("/grpc-14/g/1");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("ok g try 2");
    assertThat(get("/grpc-13/h/1").header("grpc-status")).isEqualTo("13"); // internal is not in the list
  }

  @Test
  void aConnectFailureIsRetriedOnAnotherEndpoint() throws Exception {
    backend = null;
    FlakyBackend b = new FlakyBackend(fx.vertx, "live");
    try {
      backend = b;
      int dead = ProxyFixture.closedPort();
      backend = null;
      startWith(b, "retries: {attempts: 1, retryOn: connect-failure, backoffBaseInterval: 1}",
          "[{address: 127.0.0.1, port: " + dead + ", health: HEALTHY}, {address: 127.0.0.1, port: " + b.port() + ", health: HEALTHY}]");
      int retried = 0;
      for (int i = 0; i < 10; i++) {
        assertThat(get("/ok").status()).isEqualTo(200);
        retried += fx.nextCompleted().retries();
      }
      // round robin: a request meets the dead endpoint first at least every other time, and one retry always suffices
      assertThat(retried).isBetween(5, 10);
      assertThat(b.requests.get()).isEqualTo(10);
    } finally {
      b.close();
    }
  }

  private void startWith(FlakyBackend b, String routeExtra, String endpoints) throws Exception {
    fx.start("""
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: flaky
                domains: ["flaky.default"]
                routes:
                  - {name: default/flaky, clusters: [{cluster: flaky}], %s}
        clusters:
          - {name: flaky, host: flaky.default, port: 8080, mtls: false, endpoints: %s}
        """.formatted(routeExtra, endpoints));
  }

  @Test
  void aPerTryTimeoutAbandonsTheTryAndRetries() throws Exception {
    start("retries: {attempts: 2, perTryTimeout: 200, retryOn: 5xx, backoffBaseInterval: 1}", null, null);
    long t0 = System.nanoTime();
    RawHttpClient.Response r = get("/hang/slow/1");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("ok slow try 2");
    assertThat(ms).isGreaterThanOrEqualTo(200);
    assertThat(fx.nextCompleted().retries()).isEqualTo(1);
  }

  @Test
  void aPerTryTimeoutWithoutRetriesAnswers504UT() throws Exception {
    start("retries: {attempts: 0, perTryTimeout: 150}", null, null);
    RawHttpClient.Response r = get("/hang");
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    assertThat(fx.nextCompleted().flags()).isEqualTo("UT");
  }

  @Test
  void perTryTimeoutsExhaustingTheRetriesAnswer504WithUTAndURX() throws Exception {
    start("retries: {attempts: 1, perTryTimeout: 100, retryOn: gateway-error, backoffBaseInterval: 1}", null, null);
    assertThat(get("/hang").status()).isEqualTo(504);
    ProxyFixture.Seen s = fx.nextCompleted();
    assertThat(s.flags()).isEqualTo("UT,URX");
    assertThat(s.retries()).isEqualTo(1);
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void theRouteTimeoutBoundsEveryTryTogether() throws Exception {
    // each try may take 250 ms, but the route gives the whole request 400 ms: the second try is cut short
    start("timeout: 400, retries: {attempts: 5, perTryTimeout: 250, retryOn: 5xx, backoffBaseInterval: 1}", null, null);
    long t0 = System.nanoTime();
    RawHttpClient.Response r = get("/hang");
    long ms = (System.nanoTime() - t0) / 1_000_000;
    assertThat(r.status()).isEqualTo(504);
    assertThat(r.body()).isEqualTo("upstream request timeout");
    assertThat(ms).isBetween(400L, 5_000L);
    ProxyFixture.Seen s = fx.nextCompleted();
    assertThat(s.flags()).isEqualTo("UT");
    assertThat(s.retries()).isEqualTo(1);
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  /** Two routes on one virtual host: {@code /ok} with {@code longRoute}, everything else with {@code shortRoute}. */
  private void startTwoRoutes(String longRoute, String shortRoute) throws Exception {
    backend = new FlakyBackend(fx.vertx, "b1");
    startWith(backend, "match: [{uri: {exact: /ok}}], " + longRoute + "}\n"
        + "          - {name: default/other, clusters: [{cluster: flaky}], " + shortRoute,
        "[{address: 127.0.0.1, port: " + backend.port() + ", health: HEALTHY}]");
  }

  @Test
  void anEarlierDeadlineOnAKeptAliveConnectionIsNotHeldUpByTheTimerOfAnEarlierRequest() throws Exception {
    // the connection's one deadline timer is armed 60 s out by the first request; the second needs it at 150 ms
    startTwoRoutes("timeout: 60000", "retries: {attempts: 0, perTryTimeout: 150}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/ok", "flaky.default").status()).isEqualTo(200);
      long t0 = System.nanoTime();
      RawHttpClient.Response r = c.get("/hang", "flaky.default");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.status()).isEqualTo(504);
      assertThat(ms).isBetween(150L, 5_000L);
      assertThat(c.get("/ok", "flaky.default").status()).isEqualTo(200); // the connection keeps serving
    }
    assertThat(fx.nextCompleted().flags()).isEmpty();
    assertThat(fx.nextCompleted().flags()).isEqualTo("UT");
  }

  @Test
  void aTimerArmedForAnEarlierRequestReArmsForTheDeadlineOfTheCurrentOne() throws Exception {
    // the first request arms the timer 300 ms out and completes at once; when it fires, the second request's
    // route deadline (600 ms after it started) is still ahead: neither early nor missed
    startTwoRoutes("retries: {attempts: 0, perTryTimeout: 300}", "timeout: 600");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/ok", "flaky.default").status()).isEqualTo(200);
      long t0 = System.nanoTime();
      RawHttpClient.Response r = c.get("/hang", "flaky.default");
      long ms = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.status()).isEqualTo(504);
      assertThat(r.body()).isEqualTo("upstream request timeout");
      assertThat(ms).isBetween(600L, 5_000L);
    }
    fx.nextCompleted();
    assertThat(fx.nextCompleted().flags()).isEqualTo("UT");
  }

  @Test
  void theRouteTimeoutAloneAnswers504AndClosesTheUpstreamRequest() throws Exception {
    start("timeout: 200", null, null);
    assertThat(get("/hang").status()).isEqualTo(504);
    assertThat(fx.nextCompleted().flags()).isEqualTo("UT");
    long deadline = System.nanoTime() + 5_000_000_000L;
    while (backend.hanging.get() > 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertThat(backend.hanging.get()).isZero(); // the proxy closed the abandoned upstream connection
    assertThat(get("/ok").status()).isEqualTo(200); // and the route still serves
  }

  @Test
  void theRetryBudgetCapsRetriesUnderAFullOutage() throws Exception {
    // 300 requests, every try fails, 3 retries each: without a budget 1,200 tries; with ratio 0.2 and
    // 10 retries/s over a 1 s window (the clock is fixed) at most 300 + 0.2 x 300 + 10 = 370
    start("retries: {attempts: 3, retryOn: 5xx, backoffBaseInterval: 1, backoffMaxInterval: 2}",
        "trafficPolicy: {retryBudget: {retryRatio: 0.2, minRetriesPerSecond: 10, ttl: 1000}}", null);
    int overflowed = 0;
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 300; i++) {
        assertThat(c.get("/status-503/outage/1000000", "flaky.default").status()).isEqualTo(503);
      }
    }
    for (int i = 0; i < 300; i++) {
      String flags = fx.nextCompleted().flags();
      if (flags.equals("UO")) {
        overflowed++;
      } else {
        assertThat(flags).isEqualTo("URX");
      }
    }
    assertThat(backend.tries("outage")).isEqualTo(370);
    assertThat(overflowed).isGreaterThan(250);
  }

  @Test
  void withoutABudgetEveryRequestMakesAllItsTries() throws Exception {
    start("retries: {attempts: 3, retryOn: 5xx, backoffBaseInterval: 1, backoffMaxInterval: 2}", null, null);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 300; i++) {
        assertThat(c.get("/status-503/outage/1000000", "flaky.default").status()).isEqualTo(503);
      }
    }
    assertThat(backend.tries("outage")).isEqualTo(1200);
  }

  @Test
  void badRetrySettingsAreRefusedNamingTheRouteOrCluster() throws Exception {
    assertThatThrownBy(() -> start("retries: {attempts: 2, retryOn: 'bogus'}", null, null))
        .hasMessageContaining("route default/flaky: retries.retryOn: \"bogus\"");
    ProxyFixture fx2 = fx;
    {
      FlakyBackend b = backend;
      assertThatThrownBy(() -> fx2.start("""
          settings: {node: node-a}
          listeners: [{name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}]
          routes: [{name: r1, virtualHosts: [{name: v, domains: ["*"], routes: [{name: r, clusters: [{cluster: c}],
            retries: {attempts: 1, backoffBaseInterval: 100, backoffMaxInterval: 10}}]}]}]
          clusters: [{name: c, host: c, port: 1, endpoints: [{address: 127.0.0.1, port: %d}]}]
          """.formatted(b.port()))).hasMessageContaining("route r: retries.backoffMaxInterval");
      assertThatThrownBy(() -> fx2.start("""
          settings: {node: node-a}
          listeners: [{name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}]
          routes: [{name: r1, virtualHosts: [{name: v, domains: ["*"], routes: [{name: r, clusters: [{cluster: c}]}]}]}]
          clusters: [{name: c, host: c, port: 1, endpoints: [{address: 127.0.0.1, port: %d}],
            trafficPolicy: {retryBudget: {retryRatio: -1}}}]
          """.formatted(b.port()))).hasMessageContaining("cluster c: trafficPolicy.retryBudget.retryRatio: -1.0");
    }
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }
}
