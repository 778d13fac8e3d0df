package dev.lattice.kit.kafka;

import static dev.lattice.kit.topic.KafkaTestSupport.key;
import static dev.lattice.kit.topic.KafkaTestSupport.readRaw;
import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class EventPublisherTest {

  private static Vertx vertx;

  @BeforeAll
  static void startVertx() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stopVertx() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private static <T> T onContext(Context context, java.util.function.Supplier<Future<T>> action)
      throws Exception {
    CompletableFuture<T> result = new CompletableFuture<>();
    context.runOnContext(v -> action.get().onComplete(ar -> {
      if (Vertx.currentContext() != context) {
        result.completeExceptionally(new AssertionError("completed off the caller's context: "
            + Thread.currentThread().getName()));
      } else if (ar.failed()) {
        result.completeExceptionally(ar.cause());
      } else {
        result.complete(ar.result());
      }
    }));
    return result.get(60, TimeUnit.SECONDS);
  }

  @Test
  void publishesFromAnEventLoopAndCompletesBackOnThatContext(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("publisher"), 1, Map.of("cleanup.policy", "compact")));
    EventPublisher publisher = EventPublisher.create(vertx,
        KafkaClientConfig.of(cluster.bootstrapServers(), "test"), "publisher");
    Context context = vertx.getOrCreateContext();
    ResourceEvent event = resource("strict-mtls", 1);

    RecordMetadata first = onContext(context, () -> publisher.publish(topic, key(event), event,
        List.of(new RecordHeader("trace", "abc".getBytes(StandardCharsets.UTF_8)))));
    RecordMetadata tombstone = onContext(context, () -> publisher.publish(topic, key(event), null));
    onContext(context, publisher::close);

    assertThat(tombstone.offset()).isEqualTo(first.offset() + 1);
    List<ConsumerRecord<byte[], byte[]>> records = readRaw(cluster, topic.name(), 2);
    assertThat(topic.valueSerde().deserializer().deserialize(topic.name(), records.get(0).value()))
        .isEqualTo(event);
    assertThat(new String(records.get(0).headers().lastHeader("trace").value(), StandardCharsets.UTF_8))
        .isEqualTo("abc");
    assertThat(records.get(1).value()).isNull();
  }

  @Test
  void aBurstFromTwoContextsCompletesEachOnItsOwnContextInCallOrder(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("publisher-burst"), 1, Map.of("cleanup.policy", "compact")));
    EventPublisher publisher = EventPublisher.create(vertx,
        KafkaClientConfig.of(cluster.bootstrapServers(), "test"), "burst");
    int perContext = 1_000;
    List<Context> contexts = List.of(vertx.getOrCreateContext(), vertx.getOrCreateContext());
    List<CompletableFuture<List<Long>>> results = new java.util.ArrayList<>();
    for (Context context : contexts) {
      CompletableFuture<List<Long>> offsets = new CompletableFuture<>();
      results.add(offsets);
      context.runOnContext(v -> {
        // Issued in one go: the sender thread and the acknowledgements are batched.
        List<Future<RecordMetadata>> burst = new java.util.ArrayList<>();
        for (int i = 0; i < perContext; i++) {
          ResourceEvent event = resource("burst-" + i, 1);
          burst.add(publisher.publish(topic, key(event), event).andThen(ar -> {
            if (Vertx.currentContext() != context) {
              offsets.completeExceptionally(new AssertionError("completed off the caller's context: "
                  + Thread.currentThread().getName()));
            }
          }));
        }
        Future.all(burst).onComplete(ar -> {
          if (ar.failed()) {
            offsets.completeExceptionally(ar.cause());
          } else {
            offsets.complete(burst.stream().map(f -> f.result().offset()).toList());
          }
        });
      });
    }
    for (CompletableFuture<List<Long>> offsets : results) {
      List<Long> got = offsets.get(60, TimeUnit.SECONDS);
      assertThat(got).hasSize(perContext).isSorted().doesNotHaveDuplicates();
    }
    assertThat(results.get(0).get()).doesNotContainAnyElementsOf(results.get(1).get());
    onContext(contexts.get(0), publisher::close);
  }

  @Test
  void aClosedPublisherFailsSendsWithAClearMessage(KafkaCluster cluster) throws Exception {
    EventPublisher publisher = EventPublisher.create(vertx,
        KafkaClientConfig.of(cluster.bootstrapServers(), "test"), "closing");
    Context context = vertx.getOrCreateContext();
    onContext(context, publisher::close);

    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    context.runOnContext(v -> publisher.publish(LatticeTopics.RESOURCES, "k", resource("x", 1))
        .onComplete(ar -> failure.complete(ar.cause())));
    await().atMost(Duration.ofSeconds(10)).until(failure::isDone);
    assertThat(failure.get()).isInstanceOf(IllegalStateException.class).hasMessageContaining("is closed");
  }

  @Test
  void anUnreachableBrokerFailsTheFutureInsteadOfBlockingTheEventLoop() throws Exception {
    Map<String, Object> props = KafkaClientConfig.of("127.0.0.1:1", "test").producer("unreachable");
    props.put("max.block.ms", 5_000);
    EventPublisher publisher = new EventPublisher(vertx,
        new org.apache.kafka.clients.producer.KafkaProducer<>(props,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer()),
        "unreachable", 10);
    Context context = vertx.getOrCreateContext();
    CompletableFuture<Long> returnedAfterNanos = new CompletableFuture<>();
    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    ResourceEvent event = resource("x", 1);
    Topic<String, ResourceEvent> topic = LatticeTopics.RESOURCES;
    context.runOnContext(v -> {
      long began = System.nanoTime();
      publisher.publish(topic, "k", event)
          .onComplete(ar -> failure.complete(ar.cause()));
      returnedAfterNanos.complete(System.nanoTime() - began);
    });
    // a send blocking the loop would return only after max.block.ms (5 s); returning well before proves it does not
    assertThat(returnedAfterNanos.get(10, TimeUnit.SECONDS)).isLessThan(Duration.ofSeconds(2).toNanos());
    await().atMost(Duration.ofSeconds(30)).until(failure::isDone);
    assertThat(failure.get()).isInstanceOf(KafkaUnavailableException.class)
        .hasMessageContaining("nothing written").hasMessageContaining("not present in metadata");
    assertThat(((KafkaUnavailableException) failure.get()).sent()).isFalse();
    onContext(context, () -> publisher.close(Duration.ofSeconds(2)));
  }

  @Test
  void sendsBeyondTheBoundFailAtOnceWhileTheBrokerIsAway() throws Exception {
    Map<String, Object> props = KafkaClientConfig.of("127.0.0.1:1", "test").producer("bounded");
    props.put("max.block.ms", 500);
    EventPublisher publisher = new EventPublisher(vertx,
        new org.apache.kafka.clients.producer.KafkaProducer<>(props,
            new org.apache.kafka.common.serialization.ByteArraySerializer(),
            new org.apache.kafka.common.serialization.ByteArraySerializer()),
        "bounded", 1);
    Context context = vertx.getOrCreateContext();
    ResourceEvent event = resource("x", 1);
    List<CompletableFuture<Throwable>> outcomes = List.of(new CompletableFuture<>(), new CompletableFuture<>(),
        new CompletableFuture<>(), new CompletableFuture<>());
    context.runOnContext(v -> outcomes.forEach(outcome -> publisher.publish(LatticeTopics.RESOURCES, "k", event)
        .onComplete(ar -> outcome.complete(ar.cause()))));

    // One send occupies the sender thread, one waits in the queue; the rest are refused at once.
    await().atMost(Duration.ofSeconds(2)).until(() -> outcomes.get(3).isDone());
    assertThat(outcomes.get(3).get()).isInstanceOf(KafkaUnavailableException.class)
        .hasMessageContaining("sends already waiting");
    await().atMost(Duration.ofSeconds(15)).until(() -> outcomes.stream().allMatch(CompletableFuture::isDone));
    assertThat(outcomes.get(0).get()).hasMessageContaining("not present in metadata");
    onContext(context, () -> publisher.close(Duration.ofSeconds(2)));
  }

  @Test
  void aRequestPublisherAnswersWithinItsBoundEvenBehindBlockedSends() throws Exception {
    // Every send blocks max.block (1 s) waiting for metadata of an unreachable broker, one after the other
    // on the sender thread: without the bound the fifth would answer after about five seconds.
    EventPublisher publisher = EventPublisher.forRequests(vertx, KafkaClientConfig.of("127.0.0.1:1", "test"),
        "answering", KafkaAvailability.ALWAYS);
    Context context = vertx.getOrCreateContext();
    ResourceEvent event = resource("x", 1);
    List<CompletableFuture<Throwable>> outcomes = List.of(new CompletableFuture<>(), new CompletableFuture<>(),
        new CompletableFuture<>(), new CompletableFuture<>(), new CompletableFuture<>());
    context.runOnContext(v -> outcomes.forEach(outcome -> publisher.publish(LatticeTopics.RESOURCES, "k", event)
        .onComplete(ar -> outcome.complete(ar.cause()))));

    for (CompletableFuture<Throwable> outcome : outcomes) {
      assertThat(outcome.get(KafkaClientConfig.REQUEST_ANSWER_TIMEOUT_MS + 5_000, TimeUnit.MILLISECONDS))
          .isInstanceOf(KafkaUnavailableException.class);
    }
    KafkaUnavailableException last = (KafkaUnavailableException) outcomes.get(4).get();
    assertThat(last).hasMessageContaining("did not acknowledge the write within "
        + KafkaClientConfig.REQUEST_ANSWER_TIMEOUT_MS + " ms");
    assertThat(last.sent()).as("outcome unknown: it was still queued or in the producer").isTrue();
    assertThat(last.retryAfterSeconds()).isEqualTo("1");
    onContext(context, () -> publisher.close(Duration.ofSeconds(2)));
  }
}
