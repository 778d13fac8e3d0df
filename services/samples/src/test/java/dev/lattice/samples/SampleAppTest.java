package dev.lattice.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The sample workloads on their own loopback addresses, talking over real sockets. */
class SampleAppTest {
  private final Vertx vertx = Vertx.vertx();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private SampleApp app;

  @AfterEach
  void tearDown() throws Exception {
    if (app != null) {
      app.close().await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private static SampleWorkload.Spec spec(SampleWorkload.Role role, String version, String host, SampleWorkload.Upstream up) {
    return new SampleWorkload.Spec(role, version, host, 0, up);
  }

  private SampleWorkload start(SampleWorkload.Spec s) throws Exception {
    return SampleWorkload.start(vertx, s).await(10, TimeUnit.SECONDS);
  }

  private HttpResponse<String> get(String host, int port, String path, String... headers) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + host + ":" + port + path));
    for (int i = 0; i < headers.length; i += 2) {
      b.header(headers[i], headers[i + 1]);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void frontendCatalogRatingsChainCallsFromTheirOwnAddressesAndCarryTheTrace() throws Exception {
    // a spy in front of ratings: what the catalog sends, and from where
    LinkedBlockingQueue<String> seen = new LinkedBlockingQueue<>();
    SampleWorkload ratings = start(spec(SampleWorkload.Role.RATINGS, "v2", SampleApp.RATINGS_V2, null));
    HttpServer spy = vertx.createHttpServer().requestHandler(req -> {
      seen.add(req.remoteAddress().hostAddress() + " " + req.getHeader("host") + " " + req.getHeader("traceparent")
          + " " + req.getHeader("x-request-id"));
      vertx.createHttpClient().request(io.vertx.core.http.HttpMethod.GET, ratings.port(), SampleApp.RATINGS_V2, req.uri())
          .compose(r -> r.send()).compose(r -> r.body()).onSuccess(b -> req.response().end(b));
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    SampleWorkload catalog = start(spec(SampleWorkload.Role.CATALOG, "v1", SampleApp.CATALOG,
        new SampleWorkload.Upstream("127.0.0.1", spy.actualPort(), "ratings.shop:9080")));
    SampleWorkload frontend = start(spec(SampleWorkload.Role.FRONTEND, "v1", SampleApp.FRONTEND,
        new SampleWorkload.Upstream(SampleApp.CATALOG, catalog.port(), "catalog.shop:9080")));

    String traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    HttpResponse<String> page = get(SampleApp.FRONTEND, frontend.port(), "/", "traceparent", traceparent, "x-request-id", "req-7");
    assertThat(page.statusCode()).isEqualTo(200);
    JsonObject items = new JsonObject(page.body()).getJsonObject("catalog");
    assertThat(items.getJsonArray("items")).hasSize(3);
    assertThat(items.getJsonArray("items").getJsonObject(0).getJsonObject("rating").getString("version")).isEqualTo("v2");
    assertThat(items.getJsonArray("items").getJsonObject(0).getJsonObject("rating").getString("color")).isNotNull();
    for (int i = 0; i < 3; i++) {
      assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(SampleApp.CATALOG + " ratings.shop:9080 " + traceparent + " req-7");
    }
    spy.close();
    frontend.close();
    catalog.close();
    ratings.close();
  }

  @Test
  void badInputAndAMissingUpstreamGetClearAnswers() throws Exception {
    SampleWorkload ratings = start(spec(SampleWorkload.Role.RATINGS, "v1", SampleApp.RATINGS_V1, null));
    HttpResponse<String> bad = get(SampleApp.RATINGS_V1, ratings.port(), "/ratings/abc");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("item id: abc (expected: a number)");
    assertThat(get(SampleApp.RATINGS_V1, ratings.port(), "/nope").statusCode()).isEqualTo(404);
    JsonObject v1 = new JsonObject(get(SampleApp.RATINGS_V1, ratings.port(), "/ratings/2").body());
    assertThat(v1.getString("version")).isEqualTo("v1");
    assertThat(v1.containsKey("color")).isFalse();

    int closed;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closed = s.getLocalPort();
    }
    SampleWorkload frontend = start(spec(SampleWorkload.Role.FRONTEND, "v1", SampleApp.FRONTEND,
        new SampleWorkload.Upstream("127.0.0.1", closed, "catalog.shop:9080")));
    HttpResponse<String> down = get(SampleApp.FRONTEND, frontend.port(), "/");
    assertThat(down.statusCode()).isEqualTo(502);
    assertThat(down.body()).contains("catalog:");
    frontend.close();
    ratings.close();

    assertThatThrownBy(() -> new SampleWorkload.Spec(SampleWorkload.Role.CATALOG, "v1", "127.0.0.12", 0, null))
        .hasMessageContaining("catalog: no upstream");
    assertThatThrownBy(() -> new TrafficGenerator.Plan("h", 1, "a", "/", 0, 1, 1, Duration.ofSeconds(1)))
        .hasMessage("requests: 0 (expected: 1..10000000)");
    assertThatThrownBy(() -> new TrafficGenerator.Plan("h", 1, "a", "/", 1, 0, 1, Duration.ofSeconds(1)))
        .hasMessage("rate: 0/s (expected: 1..10000)");
  }

  @Test
  void theGeneratorSendsExactlyItsCountAtItsRate() throws Exception {
    List<SampleWorkload.Spec> specs = List.of(spec(SampleWorkload.Role.RATINGS, "v1", SampleApp.RATINGS_V1, null));
    app = SampleApp.start(vertx, specs).await(10, TimeUnit.SECONDS);
    int port = app.workloads().get(0).port();
    TrafficGenerator.Report r = TrafficGenerator.run(vertx, new TrafficGenerator.Plan(SampleApp.RATINGS_V1, port,
        "ratings.shop:9080", "/ratings/1", 40, 200, 8, Duration.ofSeconds(30))).await(60, TimeUnit.SECONDS);
    assertThat(r.sent()).isEqualTo(40);
    assertThat(r.byStatus()).containsEntry(200, 40L);
    assertThat(r.ok()).isEqualTo(40);
    assertThat(r.failures()).isEmpty();
  }

  @Test
  void theGeneratorStopsAtItsDeadlineAgainstAnUpstreamThatNeverAnswers() throws Exception {
    // accepts connections, never answers: requests stay outstanding, concurrency caps them, the deadline ends the run
    HttpServer silent = vertx.createHttpServer().requestHandler(req -> { }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    TrafficGenerator.Report r = TrafficGenerator.run(vertx, new TrafficGenerator.Plan("127.0.0.1", silent.actualPort(),
        "x", "/", 1_000, 100, 4, Duration.ofSeconds(2))).await(60, TimeUnit.SECONDS);
    assertThat(r.sent()).isEqualTo(4);
    assertThat(r.failures().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(4);
    assertThat(r.skipped()).isPositive();
    silent.close();
  }

  @Test
  void theGeneratorStopsWhenToldAndReportsWhatWasInFlight() throws Exception {
    io.vertx.core.Promise<Void> stop = io.vertx.core.Promise.promise();
    int[] seen = {0};
    HttpServer counting = vertx.createHttpServer().requestHandler(req -> {
      if (++seen[0] == 5) {
        stop.tryComplete();
      }
      req.response().end("ok");
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    // planned: 1,000 requests over ten seconds, an hour's deadline; stopped after the fifth arrived
    TrafficGenerator.Report r = TrafficGenerator.run(vertx, new TrafficGenerator.Plan("127.0.0.1", counting.actualPort(),
        "x", "/", 1_000, 100, 4, Duration.ofHours(1)), stop.future()).await(60, TimeUnit.SECONDS);
    assertThat(r.sent()).isBetween(5L, 999L);
    assertThat(r.byStatus()).containsEntry(200, r.sent());
    assertThat(r.failures()).isEmpty();
    counting.close();
  }
}
