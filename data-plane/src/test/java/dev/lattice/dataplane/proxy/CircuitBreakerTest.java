package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.upstream.resilience.CircuitBreaker;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Circuit breaking from DestinationPolicy {@code connectionPool} (Envoy's cluster circuit breakers) through
 * the proxy on real sockets: past a limit the proxy answers 503 {@code UO} at once, a request waiting for
 * a connection at maxConnections gets the next one released or opened, and a retry past maxRetries is not
 * made. The tests wait on the breaker's counters, not on elapsed time; the only timed parts are upstream
 * answers held 1.5 s so the next requests arrive while they are in flight.
 */
class CircuitBreakerTest {
  private final ProxyFixture fx = new ProxyFixture();
  private FlakyBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  private void start(String connectionPool, String routeExtra) throws Exception {
    backend = new FlakyBackend(fx.vertx, "b1");
    fx.start("""
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: cb
                domains: ["cb.default"]
                routes:
                  - {name: default/cb, clusters: [{cluster: cb}]%s}
        clusters:
          - name: cb
            host: cb.default
            port: 8080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
            trafficPolicy: {connectionPool: %s}
        """.formatted(routeExtra == null ? "" : ", " + routeExtra, backend.port(), connectionPool));
  }

  private CircuitBreaker breaker() {
    return fx.server.cluster("cb").breaker();
  }

  private static void await(IntSupplier value, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (value.getAsInt() != expected) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("expected " + expected + ", still " + value.getAsInt() + " after 10 s");
      }
      Thread.sleep(5);
    }
  }

  private static String get(String path) {
    return "GET " + path + " HTTP/1.1\r\nHost: cb.default\r\n\r\n";
  }

  @Test
  void maxRequestsRefusesTheNextRequestWith503UOAndRecoversWhenOneEnds() throws Exception {
    start("{http: {http2MaxRequests: 2}}", null);
    RawHttpClient a = new RawHttpClient(fx.address("out")).send(get("/hang"));
    RawHttpClient b = new RawHttpClient(fx.address("out")).send(get("/hang"));
    await(backend.requests::get, 2);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.get("/ok", "cb.default");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).isEqualTo(Exchange.UPSTREAM_OVERFLOW);
      assertThat(fx.nextCompleted().flags()).isEqualTo("UO");
      assertThat(breaker().overflows()).isEqualTo(1);
      a.close(); // the caller gives up: its slot is released
      await(breaker()::requests, 1);
      assertThat(c.get("/ok", "cb.default").status()).isEqualTo(200);
    } finally {
      b.close();
    }
    assertThat(backend.requests.get()).isEqualTo(3); // the refused request never reached the upstream
  }

  @Test
  void atMaxConnectionsARequestWaitsAsPendingAndTheOneAfterOverflows() throws Exception {
    start("{tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}", null);
    try (RawHttpClient a = new RawHttpClient(fx.address("out"));
         RawHttpClient b = new RawHttpClient(fx.address("out"));
         RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      a.send(get("/delay-1500/a/1"));
      await(backend.requests::get, 1);
      b.send(get("/ok"));
      await(breaker()::pending, 1); // b waits for the only connection
      RawHttpClient.Response overflow = c.send(get("/ok")).read();
      assertThat(overflow.status()).isEqualTo(503);
      assertThat(overflow.body()).isEqualTo(Exchange.UPSTREAM_OVERFLOW);
      assertThat(a.read().status()).isEqualTo(200);
      RawHttpClient.Response rb = b.read();
      assertThat(rb.status()).isEqualTo(200); // on the connection a released
      assertThat(rb.body()).startsWith("ok b1");
    }
    // b took a's connection when both ran on one event loop, else a's closed and b opened its own:
    // never more than one at a time either way
    assertThat(backend.connections.get()).isBetween(1, 2);
    assertThat(breaker().pending()).isZero();
    await(breaker()::connections, 1);
  }

  @Test
  void aRequestWaitingAtMaxConnectionsConnectsWhenTheConnectionCloses() throws Exception {
    start("{tcp: {maxConnections: 1}}", null);
    try (RawHttpClient a = new RawHttpClient(fx.address("out"));
         RawHttpClient b = new RawHttpClient(fx.address("out"))) {
      a.send(get("/slowreset-1000/a/1"));
      await(backend.requests::get, 1);
      b.send(get("/ok"));
      await(breaker()::pending, 1);
      assertThat(a.read().status()).isEqualTo(503); // the upstream closed on a: UC
      assertThat(b.read().status()).isEqualTo(200); // b opened a new connection once the count dropped
    }
    assertThat(backend.connections.get()).isEqualTo(2);
    await(breaker()::connections, 1);
  }

  @Test
  void maxRetriesStopsRetriesWithUO() throws Exception {
    start("{http: {maxRetries: 0}}", "retries: {attempts: 2, retryOn: 5xx, backoffBaseInterval: 1}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/status-503/r/1", "cb.default").status()).isEqualTo(503);
    }
    ProxyFixture.Seen s = fx.nextCompleted();
    assertThat(s.flags()).isEqualTo("UO");
    assertThat(s.retries()).isZero();
    assertThat(backend.tries("r")).isEqualTo(1);
  }

  @Test
  void maxRequestsPerConnectionClosesTheUpstreamConnectionAfterItsShare() throws Exception {
    start("{http: {maxRequestsPerConnection: 2}}", null);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 6; i++) {
        assertThat(c.get("/ok", "cb.default").status()).isEqualTo(200);
      }
    }
    assertThat(backend.connections.get()).isEqualTo(3);
  }

  @Test
  void tcpConnectTimeoutReplacesTheProxysDefault() throws Exception {
    // a listener whose accept queue is full: the kernel drops further SYNs, so a connect hangs until its timeout
    try (java.net.ServerSocket full = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      List<java.net.Socket> fillers = new ArrayList<>();
      try {
        boolean hung = false;
        for (int i = 0; i < 16 && !hung; i++) {
          java.net.Socket f = new java.net.Socket();
          try {
            f.connect(new java.net.InetSocketAddress(full.getInetAddress(), full.getLocalPort()), 300);
            fillers.add(f);
          } catch (java.net.SocketTimeoutException e) {
            f.close();
            hung = true;
          }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(hung, "this kernel does not drop SYNs on a full accept queue");
        fx.start("""
            settings: {node: node-a, connectTimeout: 60s}
            listeners:
              - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
            routes:
              - name: r1
                virtualHosts:
                  - {name: cb, domains: ["cb.default"], routes: [{name: default/cb, clusters: [{cluster: cb}]}]}
            clusters:
              - name: cb
                host: cb.default
                port: 8080
                mtls: false
                endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
                trafficPolicy: {connectionPool: {tcp: {connectTimeout: 250}}}
            """.formatted(full.getLocalPort()));
        assertThat(fx.server.cluster("cb").connectTimeoutMillis()).isEqualTo(250);
        try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
          long t0 = System.nanoTime();
          RawHttpClient.Response r = c.get("/ok", "cb.default");
          long ms = (System.nanoTime() - t0) / 1_000_000;
          assertThat(r.status()).isEqualTo(503);
          assertThat(r.body()).isEqualTo(Exchange.UPSTREAM_CONNECT_FAILED);
          // the cluster's 250 ms, not the proxy's 60 s (bound generous for a loaded machine)
          assertThat(ms).isLessThan(20_000);
        }
        assertThat(fx.nextCompleted().flags()).isEqualTo("UF");
      } finally {
        for (java.net.Socket f : fillers) {
          f.close();
        }
      }
    }
  }

  @Test
  void unsetLimitsAreUnlimitedAndBadOnesAreRefusedNamingTheCluster() throws Exception {
    assertThatThrownBy(() -> start("{tcp: {maxConnections: 0}}", null))
        .hasMessageContaining("cluster cb: trafficPolicy.connectionPool.tcp.maxConnections: 0 (expected: >= 1)");
    assertThat(CircuitBreaker.Limits.of(null).unlimited()).isTrue();
  }
}
