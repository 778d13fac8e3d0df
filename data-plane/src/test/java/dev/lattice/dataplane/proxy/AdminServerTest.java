package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.admin.AdminServer;
import dev.lattice.dataplane.admin.ProxyAdminSources;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.telemetry.AccessLog;
import dev.lattice.dataplane.telemetry.IstioMetrics;
import dev.lattice.dataplane.telemetry.ProxyTelemetry;
import dev.lattice.kit.admin.AdminTokenFile;
import io.vertx.core.json.JsonObject;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The admin API of a real proxy on loopback: reads, token-protected writes, drain, Istio metrics, access log. */
class AdminServerTest {
  private final ProxyFixture fx = new ProxyFixture();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final LinkedBlockingQueue<String> accessLines = new LinkedBlockingQueue<>();
  private EchoBackend backend;
  private AccessLog accessLog;
  private AdminServer admin;
  private String token;

  @TempDir
  Path dir;

  @BeforeEach
  void start() throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    IstioMetrics metrics = new IstioMetrics();
    accessLog = new AccessLog(1024, accessLines::add);
    AtomicReference<ProxyServer> server = new AtomicReference<>();
    ProxyTelemetry telemetry = new ProxyTelemetry(() -> server.get() == null ? null : server.get().config(),
        List.of(metrics, accessLog));
    ProxyServerOptions opts = ProxyServerOptions.defaults().withFilterFactories(List.of())
        .withClock(Clock.fixed(ProxyFixture.NOW, ZoneOffset.UTC)).withExchangeListener(telemetry);
    fx.server = ProxyServer.start(fx.vertx, ProxyConfigFile.parse(ProxyFixture.singleRoute(backend.port(), "")), opts)
        .await(10, TimeUnit.SECONDS);
    server.set(fx.server);
    AdminTokenFile tokenFile = AdminTokenFile.at(dir.resolve("admin.token"));
    admin = AdminServer.start(fx.vertx, new AdminServer.Options("127.0.0.1", 0, tokenFile), metrics.registry(),
        new ProxyAdminSources(fx.server, metrics, null, accessLog, Duration.ofSeconds(30))).await(10, TimeUnit.SECONDS);
    token = tokenFile.tokens().get(0);
  }

  @AfterEach
  void stop() throws Exception {
    admin.close().await(10, TimeUnit.SECONDS);
    accessLog.close();
    backend.close();
    fx.close();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, String bearer) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + admin.port() + path))
        .POST(HttpRequest.BodyPublishers.noBody());
    if (bearer != null) {
      b.header("Authorization", "Bearer " + bearer);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void readsShowConfigClustersStatsAndIstioMetrics() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.send("GET /items/7?token=secret HTTP/1.1\r\nHost: echo.default\r\nx-request-id: r-1\r\n\r\n").read().status())
          .isEqualTo(200);
      assertThat(c.get("/", "empty.default").status()).isEqualTo(503);
    }
    JsonObject dump = new JsonObject(get("/config_dump").body());
    assertThat(dump.getString("node")).isEqualTo("node-a");
    assertThat(dump.getString("version")).isEqualTo(fx.server.config().version());
    assertThat(dump.getJsonArray("listeners").getJsonObject(0).getString("boundAddress")).startsWith("127.0.0.1:");
    assertThat(dump.getJsonArray("clusters")).hasSize(3);

    String clusters = get("/clusters").body();
    assertThat(clusters).contains("echo::127.0.0.1:" + backend.port() + "::health_flags::healthy")
        .contains("empty::127.0.0.1:" + backend.port() + "::health_flags::/failed_eds_health");
    assertThat(new JsonObject(get("/clusters?format=json").body()).getJsonArray("clusters")).hasSize(3);

    // the exchange listener runs after the response is written: wait for the access log rather than race it
    String line1 = accessLines.poll(10, TimeUnit.SECONDS);
    String line2 = accessLines.poll(10, TimeUnit.SECONDS);
    assertThat(line2).isNotNull();
    String stats = get("/stats").body();
    assertThat(stats).contains("http.downstream_rq_2xx: 1\n").contains("http.downstream_rq_5xx: 1\n")
        .contains("cluster.empty.membership_healthy: 0\n").contains("cluster.echo.membership_total: 1\n");
    assertThat(get("/stats?filter=%5Ecluster%5C.echo").body()).isEqualTo(
        "cluster.echo.membership_healthy: 1\ncluster.echo.membership_total: 1\n");
    HttpResponse<String> badFilter = get("/stats?filter=%28");
    assertThat(badFilter.statusCode()).isEqualTo(400);
    assertThat(badFilter.body()).startsWith("filter: invalid regular expression");

    HttpResponse<String> prom = get("/stats/prometheus");
    assertThat(prom.headers().firstValue("content-type")).hasValue("text/plain; version=0.0.4; charset=utf-8");
    assertThat(prom.body())
        .containsPattern("istio_requests_total\\{[^}]*destination_service=\"echo.default\"[^}]*reporter=\"source\""
            + "[^}]*response_code=\"200\",response_flags=\"-\"[^}]*} 1.0")
        .containsPattern("istio_requests_total\\{[^}]*response_code=\"503\",response_flags=\"UH\"[^}]*} 1.0")
        .contains("istio_request_duration_milliseconds_bucket{")
        .contains("lattice_dataplane_downstream_connections");

    JsonObject log = new JsonObject(line1);
    assertThat(log.getString("start_time")).isEqualTo("2026-12-03T10:00:00Z");
    assertThat(log.getString("method")).isEqualTo("GET");
    assertThat(log.getString("path")).isEqualTo("/items/7");
    assertThat(line1).doesNotContain("secret");
    assertThat(log.getInteger("response_code")).isEqualTo(200);
    assertThat(log.getString("response_flags")).isEqualTo("-");
    assertThat(log.getString("request_id")).isEqualTo("r-1");
    assertThat(log.getString("upstream_cluster")).isEqualTo("echo");
    assertThat(log.getString("upstream_host")).isEqualTo("127.0.0.1:" + backend.port());
    assertThat(log.getString("direction")).isEqualTo("outbound");
    assertThat(new JsonObject(line2).getString("response_flags")).isEqualTo("UH");

    assertThat(get("/ready").body()).isEqualTo("LIVE\n");
    assertThat(get("/").body()).contains("/config_dump");
  }

  @Test
  void writesNeedTheAdminToken() throws Exception {
    assertThat(post("/drain", null).statusCode()).isEqualTo(401);
    assertThat(post("/drain", "lat_wrong").statusCode()).isEqualTo(403);
    assertThat(post("/logging?level=debug", null).statusCode()).isEqualTo(401);
    assertThat(get("/ready").statusCode()).isEqualTo(200);

    HttpResponse<String> bad = post("/logging?level=loud", token);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("level \\\"loud\\\"").contains("expected: trace, debug, info, warn, error or off");
    assertThat(post("/logging", token).statusCode()).isEqualTo(400);
    assertThat(post("/logging?dev.lattice.dataplane.proxy=debug", token).statusCode()).isEqualTo(200);
    assertThat(new JsonObject(get("/logging").body()).getJsonObject("loggers").getString("dev.lattice.dataplane.proxy"))
        .isEqualTo("debug");
    assertThat(post("/logging?dev.lattice.dataplane.proxy=info", token).statusCode()).isEqualTo(200);
  }

  @Test
  void drainStopsAcceptingLetsTheRequestInFlightFinishThenCloses() throws Exception {
    java.net.InetSocketAddress listener = fx.address("out");
    try (RawHttpClient inFlight = new RawHttpClient(listener)) {
      // a request whose body is not complete yet
      inFlight.send("POST /upload HTTP/1.1\r\nHost: echo.default\r\nContent-Length: 5\r\n\r\nab");
      HttpResponse<String> drain = post("/drain", token);
      assertThat(drain.statusCode()).isEqualTo(202);
      HttpResponse<String> ready = get("/ready");
      assertThat(ready.statusCode()).isEqualTo(503);
      assertThat(ready.body()).isEqualTo("DRAINING\n");
      assertThat(admin.draining()).isTrue();
      assertThatThrownBy(() -> {
        try (Socket s = new Socket(listener.getAddress(), listener.getPort())) {
          s.getOutputStream().write(1);
        }
      }).isInstanceOf(ConnectException.class);

      RawHttpClient.Response done = inFlight.send("cde").read();
      assertThat(done.status()).isEqualTo(200);
      assertThat(done.body()).endsWith("\n\nabcde");
      assertThat(admin.drained().isComplete()).isFalse();
    }
    // the last connection went away: the proxy closes without waiting for the 30 s grace
    admin.drained().await(10, TimeUnit.SECONDS);
    assertThat(fx.server.apply(fx.server.config()).failed()).isTrue();
  }

}
