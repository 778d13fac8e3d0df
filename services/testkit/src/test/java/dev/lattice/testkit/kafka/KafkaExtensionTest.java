package dev.lattice.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class KafkaExtensionTest {

  private static KafkaCluster fromBeforeAll;

  @BeforeAll
  static void remember(KafkaCluster cluster) {
    fromBeforeAll = cluster;
  }

  @Test
  void oneClusterServesTheWholeJvm(KafkaCluster cluster) {
    assertThat(cluster).isSameAs(fromBeforeAll);
    assertThat(cluster.brokerCount()).isEqualTo(1);
    assertThat(cluster.bootstrapServers()).contains(":");
  }

  @Test
  void producedRecordsAreConsumedBackFromTheRealBroker(KafkaCluster cluster) throws Exception {
    String topic = cluster.createTopic(cluster.uniqueTopic("roundtrip"), 2, Map.of());
    List<RecordMetadata> sent = new ArrayList<>();
    try (KafkaProducer<String, String> producer =
        new KafkaProducer<>(cluster.producerProps(), new StringSerializer(), new StringSerializer())) {
      for (int i = 0; i < 5; i++) {
        sent.add(producer.send(new ProducerRecord<>(topic, "key-" + i, "value-" + i)).get(30, TimeUnit.SECONDS));
      }
    }
    assertThat(sent).extracting(RecordMetadata::topic).containsOnly(topic);

    List<ConsumerRecord<String, String>> received = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(
        cluster.consumerProps(cluster.uniqueTopic("group")), new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (received.size() < 5 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(received::add);
      }
    }
    assertThat(received).extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("key-0", "key-1", "key-2", "key-3", "key-4");
    assertThat(received).allSatisfy(r -> assertThat(r.value()).isEqualTo("value" + r.key().substring(3)));
  }

  @Test
  void createTopicAppliesConfigsAndRefusesDuplicates(KafkaCluster cluster) throws Exception {
    String topic = cluster.createTopic(cluster.uniqueTopic("compacted"), 3, Map.of("cleanup.policy", "compact"));
    TopicDescription description = cluster.adminClient().describeTopics(Set.of(topic))
        .allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
    assertThat(description.partitions()).hasSize(3);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
    Config config = cluster.adminClient().describeConfigs(Set.of(resource)).all()
        .get(30, TimeUnit.SECONDS).get(resource);
    assertThat(config.get("cleanup.policy").value()).isEqualTo("compact");

    assertThatThrownBy(() -> cluster.createTopic(topic, 1, Map.of()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining(topic)
        .hasCauseInstanceOf(TopicExistsException.class);
  }

  @Test
  void uniqueTopicNamesAreLegalAndNeverRepeat(KafkaCluster cluster) {
    String a = cluster.uniqueTopic("my test/topic");
    String b = cluster.uniqueTopic("my test/topic");
    assertThat(a).isNotEqualTo(b).matches("[a-zA-Z0-9._-]+").startsWith("my-test-topic.");
  }

  @Test
  void rawRecordsGoOutAndComeBackByteForByte(KafkaCluster cluster) {
    String topic = cluster.createTopic(cluster.uniqueTopic("raw"), 3, Map.of());
    byte[] garbage = {0, (byte) 0xFF, 7};
    KafkaRecords.produce(cluster, topic, "k1", garbage,
        new org.apache.kafka.common.header.internals.RecordHeader("h", new byte[] {1}));
    KafkaRecords.produce(cluster, topic, "k2", null);

    List<ConsumerRecord<byte[], byte[]>> records = KafkaRecords.readFromBeginning(cluster, topic, 2);

    assertThat(records).hasSize(2);
    assertThat(records).filteredOn(r -> new String(r.key()).equals("k1")).singleElement()
        .satisfies(r -> {
          assertThat(r.value()).isEqualTo(garbage);
          assertThat(r.headers().lastHeader("h").value()).containsExactly(1);
        });
    assertThat(records).filteredOn(r -> new String(r.key()).equals("k2")).singleElement()
        .satisfies(r -> assertThat(r.value()).isNull());
    assertThatThrownBy(() -> KafkaRecords.readFromBeginning(cluster, topic, 3, Duration.ofMillis(500)))
        .isInstanceOf(AssertionError.class).hasMessageContaining(": 2 records after");
  }
}
