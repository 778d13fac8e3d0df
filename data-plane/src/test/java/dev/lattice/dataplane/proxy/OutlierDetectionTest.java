package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.admin.AdminServer;
import dev.lattice.dataplane.admin.ProxyAdminSources;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.telemetry.IstioMetrics;
import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.kit.admin.AdminTokenFile;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outlier detection (Istio {@code outlierDetection}, Envoy's consecutive-error ejection) through the proxy
 * on real sockets: a backend that answers 503 is ejected after {@code consecutive5xxErrors} and gets no
 * traffic until the base ejection time is over on the proxy's clock — a {@link ManualClock} the test moves,
 * so no test waits for an ejection to expire; the proxy's sweep timer (real time, every 50 ms) notices the
 * moved clock and the test polls for it, bounded. maxEjectionPercent holds with 2 of 3 failing; connect
 * failures count as gateway errors; the state survives a config push; {@code /clusters} and {@code /stats}
 * show it.
 */
class OutlierDetectionTest {
  private final ProxyFixture fx = new ProxyFixture();
  private final ManualClock clock = new ManualClock(ProxyFixture.NOW);
  private final List<FlakyBackend> backends = new ArrayList<>();
  private final Map<Integer, FlakyBackend> byPort = new HashMap<>();
  private AdminServer admin;

  @TempDir
  Path dir;

  @AfterEach
  void tearDown() throws Exception {
    if (admin != null) {
      admin.close().await(10, TimeUnit.SECONDS);
    }
    for (FlakyBackend b : backends) {
      b.close();
    }
    fx.close();
  }

  private FlakyBackend backend(String name) throws Exception {
    FlakyBackend b = new FlakyBackend(fx.vertx, name);
    backends.add(b);
    byPort.put(b.port(), b);
    return b;
  }

  private static String config(String outlierDetection, List<Integer> ports) {
    StringBuilder eps = new StringBuilder();
    for (int p : ports) {
      eps.append(eps.length() == 0 ? "" : ", ").append("{address: 127.0.0.1, port: ").append(p).append(", health: HEALTHY}");
    }
    return """
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: od
                domains: ["od.default"]
                routes:
                  - {name: default/od, clusters: [{cluster: od}]}
        clusters:
          - name: od
            host: od.default
            port: 8080
            mtls: false
            endpoints: [%s]
            trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}%s}
        """.formatted(eps, outlierDetection == null ? "" : ", outlierDetection: " + outlierDetection);
  }

  private OutlierDetector detector() {
    return fx.server.cluster("od").outlier();
  }

  private static InetSocketAddress addr(FlakyBackend b) {
    return new InetSocketAddress("127.0.0.1", b.port());
  }

  private static void await(String what, BooleanSupplier cond) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not within 10 s: " + what);
      }
      Thread.sleep(10);
    }
  }

  /** {@code n} sequential requests on one connection; the statuses seen. */
  private List<Integer> send(int n) throws Exception {
    List<Integer> statuses = new ArrayList<>();
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < n; i++) {
        statuses.add(c.get("/ok", "od.default").status());
      }
    }
    return statuses;
  }

  @Test
  void aBackendAnswering503IsEjectedAndReturnsAfterTheBaseEjectionTime() throws Exception {
    FlakyBackend bad = backend("bad");
    FlakyBackend good = backend("good");
    bad.failWith = 503;
    fx.clock = clock;
    fx.start(config("{consecutive5xxErrors: 3, interval: 1000, baseEjectionTime: 30000, maxEjectionPercent: 100}",
        List.of(bad.port(), good.port())));

    // round robin alternates: bad's third 503 comes with the fifth request, then only good answers
    List<Integer> first = send(5);
    assertThat(first).containsExactly(503, 200, 503, 200, 503);
    assertThat(detector().isEjected(addr(bad))).isTrue();
    assertThat(send(20)).containsOnly(200);
    assertThat(bad.requests.get()).isEqualTo(3);
    assertThat(good.requests.get()).isEqualTo(22);

    // the backend recovers, but stays out until the base ejection time is over on the proxy's clock
    bad.failWith = 0;
    clock.advance(Duration.ofMillis(29_000));
    fx.server.sweepOutliers(); // the interval is over: a sweep runs, and must not return it yet
    assertThat(detector().isEjected(addr(bad))).isTrue();
    assertThat(send(4)).containsOnly(200);
    assertThat(bad.requests.get()).isEqualTo(3);

    clock.advance(Duration.ofMillis(1_000));
    await("the bad backend returns", () -> !detector().isEjected(addr(bad)));
    assertThat(send(10)).containsOnly(200);
    assertThat(bad.requests.get()).isEqualTo(3 + 5);
    assertThat(detector().host(addr(bad)).ejections()).isEqualTo(1);
  }

  @Test
  void maxEjectionPercentHoldsWithTwoOfThreeFailing() throws Exception {
    FlakyBackend b1 = backend("b1");
    FlakyBackend b2 = backend("b2");
    FlakyBackend b3 = backend("b3");
    b1.failWith = 503;
    b2.failWith = 503;
    fx.clock = clock;
    fx.start(config("{consecutive5xxErrors: 2, interval: 1000, baseEjectionTime: 30000, maxEjectionPercent: 50}",
        List.of(b1.port(), b2.port(), b3.port())));

    send(30);
    // one of three is 33 % <= 50 %; a second would be 67 %: refused, and the other failing one keeps its traffic
    assertThat(detector().ejected()).hasSize(1);
    assertThat(detector().ejectionsOverflow()).isPositive();
    FlakyBackend ejected = detector().isEjected(addr(b1)) ? b1 : b2;
    FlakyBackend kept = ejected == b1 ? b2 : b1;
    int ejectedBefore = ejected.requests.get();
    int keptBefore = kept.requests.get();
    List<Integer> statuses = send(30);
    assertThat(ejected.requests.get()).isEqualTo(ejectedBefore);
    assertThat(kept.requests.get() - keptBefore).isEqualTo(15); // round robin over the two in service
    assertThat(statuses.stream().filter(s -> s == 503).count()).isEqualTo(15);
  }

  @Test
  void connectFailuresCountAsGatewayErrors() throws Exception {
    FlakyBackend good = backend("good");
    int closed = ProxyFixture.closedPort();
    fx.clock = clock;
    fx.start(config("{consecutive5xxErrors: 0, consecutiveGatewayErrors: 2, maxEjectionPercent: 100}",
        List.of(closed, good.port())));
    assertThat(send(4)).containsExactly(503, 200, 503, 200);
    assertThat(detector().isEjected(new InetSocketAddress("127.0.0.1", closed))).isTrue();
    assertThat(detector().ejectionsEnforcedConsecutiveGatewayFailure()).isEqualTo(1);
    assertThat(send(10)).containsOnly(200);
  }

  @Test
  void ejectionSurvivesAConfigPushAndEndsWhenOutlierDetectionIsRemoved() throws Exception {
    FlakyBackend bad = backend("bad");
    FlakyBackend good = backend("good");
    FlakyBackend added = backend("added");
    bad.failWith = 500;
    fx.clock = clock;
    String od = "{consecutive5xxErrors: 1, baseEjectionTime: 600000, maxEjectionPercent: 100}";
    fx.start(config(od, List.of(bad.port(), good.port())));
    send(2);
    assertThat(detector().isEjected(addr(bad))).isTrue();
    OutlierDetector before = detector();

    // a push that adds an endpoint keeps bad's ejection
    fx.server.apply(ProxyConfigFile.parse(config(od, List.of(bad.port(), good.port(), added.port())))).await(10, TimeUnit.SECONDS);
    assertThat(detector()).isSameAs(before);
    assertThat(detector().isEjected(addr(bad))).isTrue();
    assertThat(send(10)).containsOnly(200);
    assertThat(bad.requests.get()).isEqualTo(1);
    assertThat(added.requests.get()).isEqualTo(5);

    // without outlierDetection every endpoint is balanced again
    fx.server.apply(ProxyConfigFile.parse(config(null, List.of(bad.port(), good.port(), added.port())))).await(10, TimeUnit.SECONDS);
    assertThat(fx.server.cluster("od").outlier()).isNull();
    send(9);
    assertThat(bad.requests.get()).isEqualTo(1 + 3);
  }

  @Test
  void aRequestWaitingAtMaxConnectionsDoesNotTakeAConnectionToAnEjectedEndpoint() throws Exception {
    FlakyBackend bad = backend("bad");
    FlakyBackend good = backend("good");
    bad.failWith = 503;
    bad.failDelayMs = 500; // in flight long enough for the second request to queue behind it
    fx.clock = clock;
    fx.start(config("{consecutive5xxErrors: 1, maxEjectionPercent: 100}", List.of(bad.port(), good.port()))
        .replace("trafficPolicy: {", "trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}, "));
    // a, an idle connection, then b: the acceptor deals connections to the two event loops in turn, so a and b
    // share a loop and bad's connection, released as its 503 ejects bad, is offered to b first
    try (RawHttpClient a = new RawHttpClient(fx.address("out"));
         RawHttpClient idle = new RawHttpClient(fx.address("out"));
         RawHttpClient b = new RawHttpClient(fx.address("out"))) {
      a.send("GET /ok HTTP/1.1\r\nHost: od.default\r\n\r\n");
      await("a reached bad", () -> bad.requests.get() == 1);
      b.send("GET /ok HTTP/1.1\r\nHost: od.default\r\n\r\n");
      await("b waits for the cluster's only connection", () -> fx.server.cluster("od").breaker().pending() == 1);
      assertThat(a.read().status()).isEqualTo(503);
      RawHttpClient.Response rb = b.read();
      assertThat(rb.status()).isEqualTo(200);
      assertThat(rb.header("x-backend")).isEqualTo("good");
    }
    assertThat(bad.requests.get()).isEqualTo(1);
    assertThat(detector().isEjected(addr(bad))).isTrue();
  }

  @Test
  void clustersAndStatsShowTheEjection() throws Exception {
    FlakyBackend bad = backend("bad");
    FlakyBackend good = backend("good");
    bad.failWith = 503;
    fx.clock = clock;
    fx.start(config("{consecutive5xxErrors: 2, interval: 1000, baseEjectionTime: 30000, maxEjectionPercent: 100}",
        List.of(bad.port(), good.port())));
    IstioMetrics metrics = new IstioMetrics();
    AdminTokenFile tokenFile = AdminTokenFile.at(dir.resolve("admin.token"));
    admin = AdminServer.start(fx.vertx, new AdminServer.Options("127.0.0.1", 0, tokenFile), metrics.registry(),
        new ProxyAdminSources(fx.server, metrics, null, null, Duration.ofSeconds(30))).await(10, TimeUnit.SECONDS);
    send(4);

    String text = adminGet("/clusters");
    String badPrefix = "od::127.0.0.1:" + bad.port() + "::";
    String goodPrefix = "od::127.0.0.1:" + good.port() + "::";
    assertThat(text).contains(badPrefix + "health_flags::/failed_outlier_check\n", badPrefix + "outlier_ejections::1\n",
        goodPrefix + "health_flags::healthy\n", goodPrefix + "outlier_ejections::0\n");
    JsonArray eps = new JsonObject(adminGet("/clusters?format=json")).getJsonArray("clusters").getJsonObject(0).getJsonArray("endpoints");
    JsonObject badJson = eps.getJsonObject(0).getInteger("port") == bad.port() ? eps.getJsonObject(0) : eps.getJsonObject(1);
    assertThat(badJson.getJsonObject("outlier").getBoolean("ejected")).isTrue();
    assertThat(badJson.getJsonObject("outlier").getInteger("ejections")).isEqualTo(1);
    assertThat(badJson.getString("healthFlags")).isEqualTo("/failed_outlier_check");

    String stats = adminGet("/stats");
    assertThat(stats).contains("cluster.od.outlier_detection.ejections_active: 1", "cluster.od.outlier_detection.ejections_enforced_total: 1",
        "cluster.od.membership_healthy: 1", "cluster.od.membership_total: 2");
    String prom = adminGet("/stats/prometheus");
    assertThat(prom).contains("lattice_dataplane_outlier_ejections_active{cluster=\"od\"} 1.0",
        "lattice_dataplane_outlier_ejections_total{cause=\"consecutive_5xx\",cluster=\"od\"} 1.0");

    clock.advance(Duration.ofMillis(30_000));
    await("the bad backend returns", () -> !detector().isEjected(addr(bad)));
    assertThat(adminGet("/clusters")).contains(badPrefix + "health_flags::healthy\n", badPrefix + "outlier_ejections::1\n");
    assertThat(adminGet("/stats/prometheus")).contains("lattice_dataplane_outlier_ejections_active{cluster=\"od\"} 0.0");
  }

  private String adminGet(String path) throws Exception {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path).isEqualTo(200);
    return r.body();
  }
}
