package dev.lattice.kit.fold;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.KafkaTestSupport;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;

/** A fold that replays a topic after a restart writes each garbage record once per consumer name. */
@LatticeKafkaTest
class TopicFoldDeadLetterOnceTest {

  @Test
  void aRestartedFoldDoesNotDeadLetterAgainAndEachConsumerNameWritesOnce(KafkaCluster cluster) throws Exception {
    KafkaClientConfig clients = KafkaClientConfig.of(cluster.bootstrapServers(), "dlq-once");
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("once"), 1, Map.of("cleanup.policy", "compact")));
    String dlq = cluster.createTopic(topic.name() + ".dlq", 1, Map.of());
    ResourceEvent good = KafkaTestSupport.resource("a", 1);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(clients.producer("writer"), new ByteArraySerializer(),
        new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic.name(), KafkaTestSupport.key(good).getBytes(),
          topic.valueSerde().serializer().serialize(topic.name(), good))).get(30, TimeUnit.SECONDS);
      p.send(new ProducerRecord<>(topic.name(), "garbage".getBytes(), "not avro".getBytes())).get(30, TimeUnit.SECONDS);
    }

    // Each run gets a fresh publisher, as a restarted process would: nothing carries over in memory.
    runFold(clients, topic, "policy-resources-fold");
    runFold(clients, topic, "policy-resources-fold");
    runFold(clients, topic, "policy-resources-fold");
    runFold(clients, topic, "another-consumer");

    List<ConsumerRecord<byte[], byte[]>> dead = readAll(clients, dlq);
    assertThat(dead).extracting(r -> DeadLetters.header(r.headers(), DeadLetters.GROUP))
        .containsExactly("policy-resources-fold", "another-consumer");
    assertThat(dead).allSatisfy(r -> {
      assertThat(new String(r.value())).isEqualTo("not avro");
      assertThat(DeadLetters.header(r.headers(), DeadLetters.TOPIC)).isEqualTo(topic.name());
      assertThat(DeadLetters.header(r.headers(), DeadLetters.PARTITION)).isEqualTo("0");
      assertThat(DeadLetters.header(r.headers(), DeadLetters.OFFSET)).isEqualTo("1");
      assertThat(DeadLetters.header(r.headers(), DeadLetters.REASON)).isNotBlank();
      assertThat(DeadLetters.header(r.headers(), DeadLetters.ERROR)).isNotBlank();
    });
  }

  @Test
  void aDeadLetterWithoutAGroupHeaderCountsForEveryConsumer(KafkaCluster cluster) throws Exception {
    KafkaClientConfig clients = KafkaClientConfig.of(cluster.bootstrapServers(), "dlq-legacy");
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("legacy"), 1, Map.of("cleanup.policy", "compact")));
    String dlq = cluster.createTopic(topic.name() + ".dlq", 1, Map.of());
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(clients.producer("writer"), new ByteArraySerializer(),
        new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic.name(), "garbage".getBytes(), "old garbage".getBytes())).get(30, TimeUnit.SECONDS);
      // written by a release before lattice.dlq.group existed
      p.send(DeadLetters.record(topic.name(), 0, 0, "garbage".getBytes(), "old garbage".getBytes(), null,
          "not avro", null)).get(30, TimeUnit.SECONDS);
    }
    runFold(clients, topic, "new-release-fold");
    assertThat(readAll(clients, dlq)).hasSize(1)
        .allSatisfy(r -> assertThat(DeadLetters.header(r.headers(), DeadLetters.GROUP)).isNull());
  }

  /** Folds the topic to its end with its own publisher; every dead letter it writes is acknowledged. */
  private static void runFold(KafkaClientConfig clients, Topic<String, ResourceEvent> topic, String name)
      throws Exception {
    try (DeadLetterPublisher deadLetters = DeadLetterPublisher.create(clients.producer("dlq"));
        TopicFold<ResourceEvent> fold = TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters)
            .consumerName(name).build().start()) {
      fold.whenCaughtUp().toCompletableFuture().get(60, TimeUnit.SECONDS);
      assertThat(fold.deadLettered()).as("the fold met the garbage").isEqualTo(1);
      assertThat(fold.consumerName()).isEqualTo(name);
    }
  }

  private static List<ConsumerRecord<byte[], byte[]>> readAll(KafkaClientConfig clients, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(clients.consumer(null, "reader"),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      c.assign(List.of(tp));
      c.seekToBeginning(List.of(tp));
      long end = c.endOffsets(List.of(tp)).get(tp);
      List<ConsumerRecord<byte[], byte[]>> all = new ArrayList<>();
      for (int i = 0; i < 300 && c.position(tp) < end; i++) {
        c.poll(Duration.ofMillis(100)).forEach(all::add);
      }
      return all;
    }
  }
}
