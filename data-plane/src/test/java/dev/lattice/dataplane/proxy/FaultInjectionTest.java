package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.fault.FaultFilterFactory;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Route fault injection (Istio HTTPFaultInjection) through the proxy on real sockets. The dice are a
 * seeded {@link Random}, so the percentage runs are deterministic; the bound is the issue's ±3 points.
 */
class FaultInjectionTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  /** Listener {@code out}: host faulty.default → route default/faulty with {@code fault}; echo.default → no fault. */
  private void start(String fault) throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    String yaml = """
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: faulty
                domains: ["faulty.default"]
                routes:
                  - name: default/faulty
                    clusters: [{cluster: echo}]
                    fault: %s
              - name: echo
                domains: ["echo.default"]
                routes:
                  - name: default/echo
                    clusters: [{cluster: echo}]
        clusters:
          - name: echo
            host: echo.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
        """.formatted(fault, backend.port());
    Random seeded = new Random(20261203L);
    fx.start(yaml, List.of(new FaultFilterFactory(() -> seeded.nextDouble() * 100)));
  }

  @Test
  void abortPercentageHoldsWithinThreePointsOver2000Requests() throws Exception {
    start("{abort: {httpStatus: 503, percentage: 25.0}}");
    int aborted = 0;
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 2000; i++) {
        RawHttpClient.Response r = c.get("/x", "faulty.default");
        if (r.status() == 503) {
          assertThat(r.body()).isEqualTo("fault filter abort");
          aborted++;
        } else {
          assertThat(r.status()).isEqualTo(200);
        }
      }
    }
    assertThat(aborted / 20.0).isBetween(22.0, 28.0);
    assertThat(backend.requests.get()).isEqualTo(2000 - aborted);
    int flagged = 0;
    for (int i = 0; i < 2000; i++) {
      ProxyFixture.Seen s = fx.nextCompleted();
      assertThat(s.route()).isEqualTo("default/faulty");
      if (s.flags().equals("FI")) {
        flagged++;
        assertThat(s.status()).isEqualTo(503);
        assertThat(s.local()).isTrue();
      }
    }
    assertThat(flagged).isEqualTo(aborted);
  }

  @Test
  void delayPercentageHoldsWithinThreePointsAndDelayedRequestsStillReachTheUpstream() throws Exception {
    start("{delay: {fixedDelay: 1, percentage: 40.0}}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 2000; i++) {
        assertThat(c.get("/x", "faulty.default").status()).isEqualTo(200);
      }
    }
    assertThat(backend.requests.get()).isEqualTo(2000);
    int delayed = 0;
    for (int i = 0; i < 2000; i++) {
      if (fx.nextCompleted().flags().equals("DI")) {
        delayed++;
      }
    }
    assertThat(delayed / 20.0).isBetween(37.0, 43.0);
  }

  @Test
  void delayHoldsTheRequestAtLeastTheFixedDelayThenForwardsIt() throws Exception {
    start("{delay: {fixedDelay: 300}}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      long t0 = System.nanoTime();
      RawHttpClient.Response r = c.get("/slow", "faulty.default");
      long elapsedMillis = (System.nanoTime() - t0) / 1_000_000;
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("GET /slow");
      assertThat(elapsedMillis).isGreaterThanOrEqualTo(300); // a lower bound only: a loaded machine can only make it later
      assertThat(fx.nextCompleted().flags()).isEqualTo("DI");
      // the same connection keeps working, and a route without fault is untouched
      assertThat(c.get("/fast", "echo.default").status()).isEqualTo(200);
      assertThat(fx.nextCompleted().flags()).isEmpty();
    }
  }

  @Test
  void delayThenAbortFlagsBoth() throws Exception {
    start("{delay: {fixedDelay: 20}, abort: {httpStatus: 418}}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/x", "faulty.default").status()).isEqualTo(418);
    }
    assertThat(fx.nextCompleted().flags()).isEqualTo("DI,FI");
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void grpcAbortAnswersATrailersOnlyGrpcStatus() throws Exception {
    start("{abort: {grpcStatus: UNAVAILABLE}}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.send("POST /pkg.Svc/Call HTTP/1.1\r\nhost: faulty.default\r\ncontent-type: application/grpc\r\n"
          + "te: trailers\r\ncontent-length: 0\r\n\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("content-type")).isEqualTo("application/grpc");
      assertThat(r.header("grpc-status")).isEqualTo("14");
      assertThat(r.header("grpc-message")).isEqualTo("fault filter abort");
    }
    assertThat(fx.nextCompleted().flags()).isEqualTo("FI");
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void invalidFaultsAreRejectedNamingTheRouteAndField() {
    assertThatThrownBy(() -> start("{abort: {httpStatus: 99}}"))
        .hasMessageContaining("route default/faulty: fault.abort.httpStatus 99 (expected: 200..599)");
  }

  @Test
  void outOfRangePercentageIsRejected() {
    assertThatThrownBy(() -> start("{delay: {fixedDelay: 10, percentage: 150.0}}"))
        .hasMessageContaining("fault.delay.percentage 150.0 (expected: 0.0..100.0)");
  }

  @Test
  void unknownGrpcStatusIsRejected() {
    assertThatThrownBy(() -> start("{abort: {grpcStatus: NOT_A_STATUS}}"))
        .hasMessageContaining("fault.abort.grpcStatus NOT_A_STATUS (expected one of [OK, CANCELLED");
  }

  @Test
  void abortWithBothStatusesIsRejected() {
    assertThatThrownBy(() -> start("{abort: {httpStatus: 503, grpcStatus: UNAVAILABLE}}"))
        .hasMessageContaining("sets both httpStatus and grpcStatus");
  }
}
