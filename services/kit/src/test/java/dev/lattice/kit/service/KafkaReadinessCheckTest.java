package dev.lattice.kit.service;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class KafkaReadinessCheckTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static String join(Future<String> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(15, TimeUnit.SECONDS);
  }

  @Test
  void passesAgainstARealBrokerAndCachesTheResult(KafkaCluster kafka) throws Exception {
    MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    try (KafkaReadinessCheck check = new KafkaReadinessCheck(vertx, kafka.bootstrapServers(),
        Duration.ofSeconds(5), Duration.ofSeconds(1), clock)) {
      Future<String> first = check.get();
      assertThat(join(first)).startsWith("cluster ").endsWith(kafka.brokerCount() + " broker(s)");
      assertThat(check.get()).isSameAs(first);
      clock.advance(Duration.ofSeconds(2));
      Future<String> afterCache = check.get();
      assertThat(afterCache).isNotSameAs(first);
      assertThat(join(afterCache)).startsWith("cluster ");
    }
  }

  @Test
  void failsWithTheReasonWhenNothingListens() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    try (KafkaReadinessCheck check = new KafkaReadinessCheck(vertx, "127.0.0.1:" + closedPort,
        Duration.ofMillis(800), Duration.ofSeconds(1), Clock.systemUTC())) {
      long began = System.nanoTime();
      assertThatThrownBy(() -> join(check.get()))
          .isInstanceOf(ExecutionException.class)
          .cause().hasMessageContaining("Kafka 127.0.0.1:" + closedPort + " unreachable");
      assertThat(Duration.ofNanos(System.nanoTime() - began)).as("failed rather than hung").isLessThan(Duration.ofSeconds(30));
    }
  }

  @Test
  void readyzOfALaunchedServiceFollowsKafka(KafkaCluster kafka) throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    ServiceLauncher launcher = ServiceLauncher.create(dev.lattice.kit.config.LatticeConfig.empty());
    try {
      RunningService good = launcher.start(new KafkaBackedService("good", kafka.bootstrapServers()))
          .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      RunningService bad = launcher.start(new KafkaBackedService("bad", "127.0.0.1:" + closedPort))
          .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
      java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
      java.net.http.HttpResponse<String> ok = http.send(
          java.net.http.HttpRequest.newBuilder(good.url("/readyz")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
      java.net.http.HttpResponse<String> down = http.send(
          java.net.http.HttpRequest.newBuilder(bad.url("/readyz")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(down.statusCode()).isEqualTo(503);
      assertThat(down.body()).contains("kafka: Kafka 127.0.0.1:" + closedPort + " unreachable");
    } finally {
      launcher.close();
    }
  }

  /** Registers a {@link KafkaReadinessCheck} as its only readiness condition; closes it on stop. */
  private record KafkaBackedService(String name, String bootstrap, KafkaReadinessCheck[] check)
      implements LatticeService {
    KafkaBackedService(String name, String bootstrap) {
      this(name, bootstrap, new KafkaReadinessCheck[1]);
    }

    @Override public int defaultHttpPort() { return 0; }

    @Override
    public Future<Void> start(ServiceContext context) {
      check[0] = new KafkaReadinessCheck(context.vertx(), bootstrap, Duration.ofMillis(800),
          Duration.ofSeconds(1), Clock.systemUTC());
      context.readiness().register("kafka", check[0]);
      return Future.succeededFuture();
    }

    @Override
    public Future<Void> stop() {
      check[0].close();
      return Future.succeededFuture();
    }
  }

  @Test
  void aClosedCheckFails() {
    KafkaReadinessCheck check = KafkaReadinessCheck.of(vertx, "127.0.0.1:1");
    check.close();
    assertThat(check.get().failed()).isTrue();
  }
}
