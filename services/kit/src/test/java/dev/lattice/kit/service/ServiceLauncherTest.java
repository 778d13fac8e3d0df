package dev.lattice.kit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.kit.config.LatticeConfig;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Drives the launcher over real sockets with small in-test services. */
class ServiceLauncherTest {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private ServiceLauncher launcher;

  @AfterEach
  void stopLauncher() {
    if (launcher != null) launcher.close();
  }

  /** A service whose readiness is a switch the test flips; counts hits on its one route. */
  static class FlippingService implements LatticeService {
    final AtomicBoolean ready = new AtomicBoolean();
    final AtomicBoolean stopped = new AtomicBoolean();
    final String name;

    FlippingService(String name) {
      this.name = name;
    }

    @Override public String name() { return name; }
    @Override public int defaultHttpPort() { return 0; }

    @Override
    public Future<Void> start(ServiceContext context) {
      Counter hits = Counter.builder("lattice.test.hits").register(context.meters());
      context.router().get("/hello").handler(rc -> {
        hits.increment();
        rc.response().end("hello from " + name);
      });
      context.readiness().registerCondition("switch", ready::get, "switch is off");
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> stop() {
      stopped.set(true);
      return Future.succeededFuture();
    }
  }

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void readyzFlipsFrom503To200AndMetricsShowsTheServiceMeter() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.empty());
    FlippingService service = new FlippingService("flip");
    RunningService running = join(launcher.start(service));

    assertThat(running.port()).isPositive();
    assertThat(running.host()).isEqualTo("127.0.0.1");

    HttpResponse<String> health = get(running.url("/healthz"));
    assertThat(health.statusCode()).isEqualTo(200);

    HttpResponse<String> notReady = get(running.url("/readyz"));
    assertThat(notReady.statusCode()).isEqualTo(503);
    JsonObject body = new JsonObject(notReady.body());
    assertThat(body.getString("status")).isEqualTo("not ready");
    assertThat(body.getJsonArray("failing").getList()).containsExactly("switch: switch is off");

    service.ready.set(true);
    HttpResponse<String> ready = get(running.url("/readyz"));
    assertThat(ready.statusCode()).isEqualTo(200);
    JsonObject readyBody = new JsonObject(ready.body());
    assertThat(readyBody.getString("service")).isEqualTo("flip");
    assertThat(readyBody.getJsonArray("checks").stream().map(c -> ((JsonObject) c).getString("name")))
        .containsExactly("started", "switch");

    assertThat(get(running.url("/hello")).body()).isEqualTo("hello from flip");
    HttpResponse<String> metrics = get(running.url("/metrics"));
    assertThat(metrics.statusCode()).isEqualTo(200);
    assertThat(metrics.headers().firstValue("content-type")).hasValueSatisfying(
        ct -> assertThat(ct).startsWith("text/plain"));
    assertThat(metrics.body())
        .contains("lattice_test_hits_total{service=\"flip\"} 1.0")
        .contains("jvm_memory_used_bytes")
        .contains("vertx_http_server_requests_total");
  }

  @Test
  void configuredPortIsUsedAndReleasedOnStop() throws Exception {
    int port;
    try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("fixed.http.port", Integer.toString(port))));
    FlippingService service = new FlippingService("fixed");
    RunningService running = join(launcher.start(service));
    assertThat(running.port()).isEqualTo(port);
    assertThat(launcher.running()).extracting(RunningService::name).containsExactly("fixed");

    join(launcher.stop());
    assertThat(service.stopped).isTrue();
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);
    assertThat(launcher.vertx().deploymentIDs()).isEmpty();
  }

  @Test
  void twoServicesGetTheirOwnServersAndMeters() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.empty());
    List<RunningService> running =
        join(launcher.start(List.of(new FlippingService("one"), new FlippingService("two"))));
    assertThat(running).extracting(RunningService::name).containsExactly("one", "two");
    assertThat(running.get(0).port()).isNotEqualTo(running.get(1).port());
    get(running.get(1).url("/hello"));
    String metricsOfOne = get(running.get(0).url("/metrics")).body();
    assertThat(metricsOfOne).contains("lattice_test_hits_total{service=\"one\"} 0.0")
        .doesNotContain("service=\"two\"");
  }

  @Test
  void aHungCheckCountsAsNotReadyWithinTheTimeout() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("readiness.check.timeout", "300ms")));
    LatticeService hung = new FlippingService("hung") {
      @Override
      public Future<Void> start(ServiceContext context) {
        context.readiness().register("never", () -> Promise.<String>promise().future());
        return Future.succeededFuture();
      }
    };
    RunningService running = join(launcher.start(hung));
    long began = System.nanoTime();
    HttpResponse<String> response = get(running.url("/readyz"));
    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(new JsonObject(response.body()).getJsonArray("failing").getList())
        .containsExactly("never: timed out after 300 ms");
    // bounded rather than hung (a check that never completes would hold /readyz forever); the margin is wide so a
    // loaded machine cannot fail it
    assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(30));
  }

  @Test
  void notReadyWhileStartIsInProgress() throws Exception {
    Promise<Void> startGate = Promise.promise();
    AtomicInteger started = new AtomicInteger();
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("slow.http.port", "0")));
    LatticeService slow = new FlippingService("slow") {
      @Override
      public Future<Void> start(ServiceContext context) {
        started.incrementAndGet();
        return startGate.future();
      }
    };
    Future<RunningService> starting = launcher.start(slow);
    await().atMost(Duration.ofSeconds(10)).until(() -> started.get() == 1);
    assertThat(starting.isComplete()).isFalse();
    startGate.complete();
    RunningService running = join(starting);
    assertThat(get(running.url("/readyz")).statusCode()).isEqualTo(200);
  }

  @Test
  void aServiceThatFailsToStartIsReportedByName() {
    launcher = ServiceLauncher.create(LatticeConfig.empty());
    LatticeService broken = new FlippingService("broken") {
      @Override
      public Future<Void> start(ServiceContext context) {
        throw new IllegalStateException("no CA key");
      }
    };
    assertThatThrownBy(() -> join(launcher.start(broken)))
        .isInstanceOf(ExecutionException.class)
        .cause().hasMessageContaining("service broken failed to start").hasMessageContaining("no CA key");
    assertThat(launcher.running()).isEmpty();
  }

  @Test
  void aBadPortIsAClearError() {
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("flip.http.port", "http")));
    assertThatThrownBy(() -> join(launcher.start(new FlippingService("flip"))))
        .cause().hasMessageContaining("flip.http.port: 'http' (expected: an integer");
  }

  @Test
  void stopIsBoundedEvenWhenAServiceNeverStops() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("shutdown.timeout", "1s")));
    LatticeService stuck = new FlippingService("stuck") {
      @Override
      public Future<Void> stop() {
        return Promise.<Void>promise().future();
      }
    };
    join(launcher.start(stuck));
    long began = System.nanoTime();
    launcher.close();
    // bounded by shutdown.timeout (1 s) rather than hung; wide margin for a loaded machine
    assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(30));
    assertThat(launcher.whenStopped().isComplete()).isTrue();
  }

  @Test
  void setsTheAvroTrustedPackagesPropertyWhenUnset() {
    String before = System.getProperty(ServiceLauncher.AVRO_TRUSTED_PACKAGES_PROPERTY);
    System.clearProperty(ServiceLauncher.AVRO_TRUSTED_PACKAGES_PROPERTY);
    try {
      launcher = ServiceLauncher.create(LatticeConfig.empty());
      assertThat(System.getProperty(ServiceLauncher.AVRO_TRUSTED_PACKAGES_PROPERTY))
          .isEqualTo("dev.lattice,java.lang,java.util,java.math");
    } finally {
      if (before != null) System.setProperty(ServiceLauncher.AVRO_TRUSTED_PACKAGES_PROPERTY, before);
    }
  }
}
