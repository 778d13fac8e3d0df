package dev.lattice.kit.service;

import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lattice.events.ResourceEvent;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaAvailability;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.kafka.KafkaUnavailableException;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * The kit's side of "Kafka goes away": a broker of its own (the shared test broker must stay up) is
 * stopped and started again on the same port and log while a monitoring readiness check and request
 * publishers run.
 */
class KafkaOutageTest {

  private static final Duration BOUND = Duration.ofSeconds(30);

  private static EmbeddedKafkaBroker broker;
  private static Vertx vertx;
  private static String bootstrap;

  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger checkLogger = (Logger) LoggerFactory.getLogger(KafkaReadinessCheck.class);

  @BeforeAll
  static void startBroker() throws Exception {
    broker = EmbeddedKafkaBroker.builder().shutdownTimeout(Duration.ofSeconds(15)).build().start();
    bootstrap = broker.bootstrapServers();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
      admin.createTopics(List.of(new NewTopic(LatticeTopics.RESOURCES.name(), 1, (short) 1))).all()
          .get(30, TimeUnit.SECONDS);
    }
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopBroker() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    broker.close();
  }

  @BeforeEach
  void captureLogs() {
    logs.start();
    checkLogger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    checkLogger.detachAppender(logs);
    if (!broker.isRunning()) broker.start();
  }

  @Test
  void theMonitorFollowsTheBrokerDownAndBackAndWritesFailAtOnceWhileItIsDown() throws Exception {
    Context context = vertx.getOrCreateContext();
    KafkaClientConfig kafka = KafkaClientConfig.of(bootstrap, "outage");
    KafkaReadinessCheck check = onContext(context, () -> Future.succeededFuture(
        KafkaReadinessCheck.monitor(vertx, LatticeConfig.empty(), kafka)));
    EventPublisher publisher = EventPublisher.forRequests(vertx, kafka, "writes", check);
    Topic<String, ResourceEvent> topic = LatticeTopics.RESOURCES;
    int earlier = valuesOf(topic, 0).size();
    try {
      await().atMost(BOUND).until(() -> check.up().orElse(false));
      assertThat(onContext(context, check)).startsWith("cluster ");
      onContext(context, () -> publisher.publish(topic, "a", resource("before", 1)));

      assertThat(broker.stop()).isTrue();
      await().atMost(BOUND).until(() -> !check.up().orElse(true));
      assertThat(check.get().failed()).isTrue();
      assertThat(check.get().cause()).hasMessageContaining("Kafka " + bootstrap + " unreachable")
          .hasMessageContaining("since ");
      KafkaUnavailableException refused = failure(context, () -> publisher.publish(topic, "b", resource("during", 1)));
      assertThat(refused.sent()).isFalse();
      assertThat(refused.retryAfterSeconds()).isEqualTo("1");
      assertThat(refused).hasMessageContaining("Kafka " + bootstrap + " unreachable");

      broker.start();
      await().atMost(BOUND).until(() -> check.up().orElse(false));
      await().atMost(BOUND).untilAsserted(() ->
          assertThat(onContext(context, () -> publisher.publish(topic, "c", resource("after", 1))).offset())
              .isNotNegative());

      assertThat(valuesOf(topic, earlier + 2).stream().skip(earlier).map(ResourceEvent::getName))
          .containsExactly("before", "after");
      List<String> warnings = logs.list.stream().filter(e -> e.getLevel() == Level.WARN)
          .map(ILoggingEvent::getFormattedMessage).toList();
      assertThat(warnings).as("one WARN when the outage starts, one with its duration when it ends")
          .hasSize(2);
      assertThat(warnings.get(0)).startsWith("Kafka unreachable: Kafka " + bootstrap + " unreachable");
      assertThat(warnings.get(1)).startsWith("Kafka reachable again after PT");
    } finally {
      onContext(context, () -> publisher.close(Duration.ofSeconds(2)));
      check.close();
    }
  }

  @Test
  void aWriteCaughtByTheOutageFailsWithinTheProducersBoundAndIsNotDeliveredLater() throws Exception {
    Context context = vertx.getOrCreateContext();
    KafkaClientConfig kafka = KafkaClientConfig.of(bootstrap, "outage");
    // No monitor: the write meets the dead broker before anything noticed, as in the first second of an outage.
    EventPublisher publisher = EventPublisher.forRequests(vertx, kafka, "unguarded", KafkaAvailability.ALWAYS);
    Topic<String, ResourceEvent> topic = LatticeTopics.RESOURCES;
    int before = valuesOf(topic, 0).size();
    try {
      onContext(context, () -> publisher.publish(topic, "warm", resource("warm", 1)));
      assertThat(broker.stop()).isTrue();

      KafkaUnavailableException timedOut = failure(context, () -> publisher.publish(topic, "lost", resource("lost", 1)));
      // Refused before the buffer (no metadata in time) or expired in it: either way an answer, fast.
      assertThat(timedOut).hasMessageContaining(timedOut.sent() ? "did not acknowledge" : "nothing written");

      broker.start();
      await().atMost(BOUND).untilAsserted(() ->
          assertThat(onContext(context, () -> publisher.publish(topic, "back", resource("back", 1))).offset())
              .isNotNegative());
      assertThat(valuesOf(topic, before + 2).stream().skip(before).map(ResourceEvent::getName))
          .as("the write answered as failed never lands once the broker returns")
          .containsExactly("warm", "back");
    } finally {
      onContext(context, () -> publisher.close(Duration.ofSeconds(2)));
    }
  }

  /**
   * Runs {@code action} on {@code context} and returns its failure; the bound is the request producer's
   * own (max.block + delivery timeout) plus slack, so a hung write fails the test.
   */
  private static KafkaUnavailableException failure(Context context, Supplier<Future<?>> action) throws Exception {
    CompletableFuture<Throwable> result = new CompletableFuture<>();
    context.runOnContext(v -> action.get().onComplete(ar -> result.complete(ar.cause())));
    Throwable cause = result.get(KafkaClientConfig.REQUEST_MAX_BLOCK_MS + KafkaClientConfig.REQUEST_DELIVERY_TIMEOUT_MS
        + 5_000, TimeUnit.MILLISECONDS);
    assertThat(cause).isInstanceOf(KafkaUnavailableException.class);
    return (KafkaUnavailableException) cause;
  }

  private static <T> T onContext(Context context, Supplier<Future<T>> action) throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> action.get().onComplete(ar -> {
      if (ar.failed()) {
        result.completeExceptionally(ar.cause());
      } else {
        result.complete(ar.result());
      }
    }));
    return result.get(BOUND.toSeconds(), TimeUnit.SECONDS);
  }

  /** Reads the topic from the beginning until {@code atLeast} records are in (bounded), then what is there. */
  private static List<ResourceEvent> valuesOf(Topic<String, ResourceEvent> topic, int atLeast) {
    List<ResourceEvent> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic.name(), 0);
      consumer.assign(Set.of(tp));
      consumer.seekToBeginning(Set.of(tp));
      long end = consumer.endOffsets(Set.of(tp), Duration.ofSeconds(10)).get(tp);
      long deadline = System.nanoTime() + BOUND.toNanos();
      while ((out.size() < atLeast || consumer.position(tp) < end) && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> out.add(
            topic.valueSerde().deserializer().deserialize(topic.name(), r.value())));
        if (out.size() < atLeast) end = consumer.endOffsets(Set.of(tp), Duration.ofSeconds(10)).get(tp);
      }
    }
    return out;
  }
}
