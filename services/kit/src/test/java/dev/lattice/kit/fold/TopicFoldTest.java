package dev.lattice.kit.fold;

import static dev.lattice.kit.topic.KafkaTestSupport.key;
import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class TopicFoldTest {

  private static DeadLetterPublisher deadLetters;
  private static KafkaClientConfig clients;

  @BeforeAll
  static void clients(KafkaCluster cluster) {
    clients = KafkaClientConfig.of(cluster.bootstrapServers(), "fold-test");
    deadLetters = DeadLetterPublisher.create(clients.producer("dlq"));
  }

  @AfterAll
  static void close() {
    deadLetters.close();
  }

  private static Topic<String, ResourceEvent> compactedTopic(KafkaCluster cluster, int partitions) {
    return LatticeTopics.renamed(LatticeTopics.RESOURCES, cluster.createTopic(cluster.uniqueTopic("fold"),
        partitions, Map.of("cleanup.policy", "compact")));
  }

  private static void publish(KafkaCluster cluster, Topic<String, ResourceEvent> topic,
      Map<String, ResourceEvent> events) throws Exception {
    try (KafkaProducer<String, ResourceEvent> producer = new KafkaProducer<>(clients.producer("writer"),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      for (Map.Entry<String, ResourceEvent> e : events.entrySet()) {
        producer.send(new ProducerRecord<>(topic.name(), e.getKey(), e.getValue()));
      }
      producer.flush();
    }
  }

  private static void publishOne(KafkaCluster cluster, Topic<String, ResourceEvent> topic, String key,
      ResourceEvent value) throws Exception {
    try (KafkaProducer<String, ResourceEvent> producer = new KafkaProducer<>(clients.producer("writer"),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key, value)).get(30, TimeUnit.SECONDS);
    }
  }

  private static TopicFold<ResourceEvent> fold(Topic<String, ResourceEvent> topic) {
    return TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters).build();
  }

  @Test
  void replaysUpdatesAndTombstonesAcrossPartitionsAndAFreshFoldAgrees(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = compactedTopic(cluster, 3);
    ResourceEvent a1 = resource("a", 1);
    ResourceEvent a2 = resource("a", 2);
    ResourceEvent b = resource("b", 1);
    ResourceEvent c = resource("c", 1);
    publishOne(cluster, topic, key(a1), a1);
    publishOne(cluster, topic, key(b), b);
    publishOne(cluster, topic, key(c), c);
    publishOne(cluster, topic, key(a2), a2);
    publishOne(cluster, topic, key(b), null);

    Map<String, ResourceEvent> expected = Map.of(key(a2), a2, key(c), c);
    try (TopicFold<ResourceEvent> first = fold(topic).start()) {
      first.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(first.caughtUp()).isTrue();
      assertThat(first.snapshot()).isEqualTo(expected);
      assertThat(first.applied()).isEqualTo(5);
      assertThatThrownBy(() -> first.snapshot().put("x", a1)).isInstanceOf(UnsupportedOperationException.class);
      first.close();
      assertThat(first.caughtUp()).as("a closed fold is not ready").isFalse();
    }
    try (TopicFold<ResourceEvent> second = fold(topic).start()) {
      second.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(second.snapshot()).isEqualTo(expected);
      assertThat(second.get(key(c))).contains(c);
      assertThat(second.get(key(b))).isEmpty();
    }
  }

  @Test
  void listenersHearReplayThenLiveChangesInOrderOnTheGivenExecutor(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = compactedTopic(cluster, 1);
    ResourceEvent a = resource("a", 1);
    publishOne(cluster, topic, key(a), a);
    List<String> heard = new CopyOnWriteArrayList<>();
    ExecutorService executor = Executors.newSingleThreadExecutor(r -> new Thread(r, "listener-thread"));
    FoldListener<ResourceEvent> listener = new FoldListener<>() {
      @Override
      public void upserted(String key, ResourceEvent value, ResourceEvent previous) {
        heard.add(Thread.currentThread().getName() + " upsert " + value.getName() + "@" + value.getResourceVersion()
            + (previous == null ? "" : " over @" + previous.getResourceVersion()));
      }

      @Override
      public void deleted(String key, ResourceEvent previous) {
        heard.add(Thread.currentThread().getName() + " delete " + previous.getName());
      }

      @Override
      public void caughtUp() {
        heard.add(Thread.currentThread().getName() + " caught up");
      }
    };
    try (TopicFold<ResourceEvent> fold = TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters)
        .listenerExecutor(executor).listener(listener).build().start()) {
      fold.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      publishOne(cluster, topic, key(a), resource("a", 2));
      publishOne(cluster, topic, key(a), null);
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(heard).containsExactly(
          "listener-thread upsert a@1",
          "listener-thread caught up",
          "listener-thread upsert a@2 over @1",
          "listener-thread delete a"));
      assertThat(fold.snapshot()).isEmpty();
    } finally {
      executor.shutdownNow();
    }
  }

  @Test
  void anEmptyTopicIsCaughtUpAtOnce(KafkaCluster cluster) throws Exception {
    try (TopicFold<ResourceEvent> fold = fold(compactedTopic(cluster, 2)).start()) {
      fold.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(fold.snapshot()).isEmpty();
    }
  }

  @Test
  void aFoldOfAMissingTopicWaitsWithoutCreatingItAndClosesPromptly(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> missing = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.uniqueTopic("fold.missing"));
    TopicFold<ResourceEvent> fold = fold(missing).start();
    assertThat(fold.caughtUp()).isFalse();
    long began = System.nanoTime();
    fold.close();
    assertThat(Duration.ofNanos(System.nanoTime() - began)).as("closed rather than hung").isLessThan(Duration.ofSeconds(30));
    assertThatThrownBy(() -> fold.whenCaughtUp().toCompletableFuture().get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class).hasMessageContaining("closed");
    assertThat(cluster.adminClient().listTopics().names().get(30, TimeUnit.SECONDS)).doesNotContain(missing.name());
  }

  @Test
  void aRecordWithoutAKeyIsDeadLettered(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("fold.nokey"), 1, Map.of()));
    cluster.createTopic(topic.deadLetterTopic(), 1, Map.of());
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(clients.producer("raw"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.send(new ProducerRecord<>(topic.name(), null,
          topic.valueSerde().serializer().serialize(topic.name(), resource("keyless", 1)))).get(30, TimeUnit.SECONDS);
    }
    try (TopicFold<ResourceEvent> fold = fold(topic).start()) {
      fold.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(fold.snapshot()).isEmpty();
      assertThat(fold.deadLettered()).isEqualTo(1);
    }
  }
}
