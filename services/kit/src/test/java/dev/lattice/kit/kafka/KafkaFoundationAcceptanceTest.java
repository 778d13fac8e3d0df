package dev.lattice.kit.kafka;

import static dev.lattice.kit.topic.KafkaTestSupport.key;
import static dev.lattice.kit.topic.KafkaTestSupport.produceRaw;
import static dev.lattice.kit.topic.KafkaTestSupport.readRaw;
import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.ProvisioningReport;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.kit.topic.TopicSpec;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.SchemaCatalog;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The foundation's acceptance items, each against the real broker: (a) Avro round trip, (b) an older
 * writer read by the current class, (c) garbage to the dead-letter topic without stopping, (d) a
 * tombstone removes a key from a fresh fold, (e) idempotent provisioning.
 */
@LatticeKafkaTest
class KafkaFoundationAcceptanceTest {

  private static KafkaClientConfig clients;
  private static DeadLetterPublisher deadLetters;

  @BeforeAll
  static void clients(KafkaCluster cluster) {
    clients = KafkaClientConfig.of(cluster.bootstrapServers(), "acceptance");
    deadLetters = DeadLetterPublisher.create(clients.producer("dlq"));
  }

  @AfterAll
  static void close() {
    deadLetters.close();
  }

  /** Provisions a unique copy of the resources topic and its dead-letter companion, as a service would. */
  private static Topic<String, ResourceEvent> provisionedResourcesTopic(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic =
        LatticeTopics.renamed(LatticeTopics.RESOURCES, cluster.uniqueTopic("acceptance.resources"));
    new TopicProvisioner(cluster.adminClient()).ensure(List.of(topic.spec(), topic.spec().deadLetter()))
        .toCompletableFuture().get(60, TimeUnit.SECONDS);
    return topic;
  }

  private static <V> List<ConsumerRecord<String, V>> consumeWithGroup(KafkaCluster cluster, String topic,
      int count, Deserializer<V> values) {
    List<ConsumerRecord<String, V>> out = new ArrayList<>();
    try (KafkaConsumer<String, V> consumer = new KafkaConsumer<>(
        clients.consumer(cluster.uniqueTopic("group"), "reader"), new StringDeserializer(), values)) {
      consumer.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        consumer.poll(Duration.ofMillis(100)).forEach(out::add);
        return out.size() >= count;
      });
    }
    return out;
  }

  @Test
  void a_resourceEventPublishedThroughAvroSerdeIsReadBackEqualByAFreshConsumer(KafkaCluster cluster)
      throws Exception {
    Topic<String, ResourceEvent> topic = provisionedResourcesTopic(cluster);
    ResourceEvent event = resource("round-trip", 7);
    try (KafkaProducer<String, ResourceEvent> producer = new KafkaProducer<>(clients.producer("writer"),
        new StringSerializer(), AvroSerde.of(ResourceEvent.class))) {
      producer.send(new ProducerRecord<>(topic.name(), key(event), event)).get(30, TimeUnit.SECONDS);
    }

    List<ConsumerRecord<String, ResourceEvent>> read =
        consumeWithGroup(cluster, topic.name(), 1, AvroSerde.of(ResourceEvent.class));

    assertThat(read).singleElement().satisfies(r -> {
      assertThat(r.key()).isEqualTo("PeerAuthentication/default/round-trip");
      assertThat(r.value()).isEqualTo(event);
    });
  }

  @Test
  void b_anEventWrittenWithAnOlderSchemaIsReadWithTheAddedFieldsDefault(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = provisionedResourcesTopic(cluster);
    // The "older" ResourceEvent: the current schema without the defaulted `annotations` field.
    Schema current = ResourceEvent.getClassSchema();
    List<Schema.Field> olderFields = current.getFields().stream()
        .filter(f -> !f.name().equals("annotations"))
        .map(f -> new Schema.Field(f, f.schema()))
        .toList();
    Schema older = Schema.createRecord(current.getName(), current.getDoc(), current.getNamespace(), false,
        olderFields);
    ResourceEvent full = resource("from-older-writer", 2);
    GenericData.Record oldEvent = new GenericData.Record(older);
    older.getFields().forEach(f -> oldEvent.put(f.name(), full.get(f.name())));
    byte[] oldBytes = new BinaryMessageEncoder<GenericData.Record>(SpecificData.getForClass(ResourceEvent.class),
        older).encode(oldEvent).array();
    produceRaw(cluster, topic.name(), key(full), oldBytes);

    AvroSerde<ResourceEvent> reader = AvroSerde.of(ResourceEvent.class, SchemaCatalog.of(List.of(older)));
    List<ConsumerRecord<String, ResourceEvent>> read = consumeWithGroup(cluster, topic.name(), 1, reader);

    ResourceEvent expected = ResourceEvent.newBuilder(full).setAnnotations(Map.of()).build();
    assertThat(read).singleElement().extracting(ConsumerRecord::value).isEqualTo(expected);
    assertThat(SchemaCatalog.fingerprint(older)).isNotEqualTo(SchemaCatalog.fingerprint(current));
  }

  @Test
  void c_garbageGoesToTheDeadLetterTopicWithAReasonAndTheNextValidEventIsStillConsumed(KafkaCluster cluster)
      throws Exception {
    Topic<String, ResourceEvent> topic = provisionedResourcesTopic(cluster);
    byte[] garbage = {(byte) 0xC3, 0x01, 1, 2, 3};
    ResourceEvent valid = resource("after-garbage", 1);
    // Same key, so the same partition: the valid event is literally the record after the garbage.
    produceRaw(cluster, topic.name(), key(valid), garbage);
    produceRaw(cluster, topic.name(), key(valid), topic.valueSerde().serializer().serialize(topic.name(), valid));

    try (TopicFold<ResourceEvent> fold =
        TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters).build().start()) {
      fold.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(fold.snapshot()).containsExactly(Map.entry(key(valid), valid));
      assertThat(fold.deadLettered()).isEqualTo(1);
    }

    ConsumerRecord<byte[], byte[]> letter = readRaw(cluster, topic.deadLetterTopic(), 1).get(0);
    assertThat(letter.value()).isEqualTo(garbage);
    assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo(key(valid));
    assertThat(DeadLetters.header(letter.headers(), DeadLetters.REASON)).isNotBlank()
        .contains("(expected: at least 10 bytes");
    assertThat(DeadLetters.header(letter.headers(), DeadLetters.TOPIC)).isEqualTo(topic.name());
    assertThat(DeadLetters.header(letter.headers(), DeadLetters.OFFSET)).isEqualTo("0");
  }

  @Test
  void d_aTombstonedResourceIsGoneFromAFreshFold(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> topic = provisionedResourcesTopic(cluster);
    ResourceEvent kept = resource("kept", 1);
    ResourceEvent deleted = resource("deleted", 1);
    EventPublisherSync.publish(cluster, topic, key(kept), kept);
    EventPublisherSync.publish(cluster, topic, key(deleted), deleted);

    try (TopicFold<ResourceEvent> before =
        TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters).build().start()) {
      before.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(before.snapshot()).containsOnlyKeys(key(kept), key(deleted));
    }

    EventPublisherSync.publish(cluster, topic, key(deleted), null);

    try (TopicFold<ResourceEvent> fresh =
        TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters).build().start()) {
      fresh.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(fresh.snapshot()).containsExactly(Map.entry(key(kept), kept));
    }
  }

  @Test
  void e_topicProvisioningIsIdempotent(KafkaCluster cluster) throws Exception {
    TopicSpec spec = LatticeTopics.renamed(LatticeTopics.RESOURCES, cluster.uniqueTopic("acceptance.idem")).spec();
    TopicProvisioner provisioner = new TopicProvisioner(cluster.adminClient());
    List<TopicSpec> specs = List.of(spec, spec.deadLetter());

    ProvisioningReport first = provisioner.ensure(specs).toCompletableFuture().get(60, TimeUnit.SECONDS);
    ProvisioningReport second = provisioner.ensure(specs).toCompletableFuture().get(60, TimeUnit.SECONDS);

    assertThat(first.created()).containsExactlyInAnyOrder(spec.name(), spec.name() + ".dlq");
    assertThat(second.created()).isEmpty();
    assertThat(second.verified()).containsExactlyInAnyOrder(spec.name(), spec.name() + ".dlq");
    assertThat(second.warnings()).isEmpty();
    assertThat(cluster.adminClient().describeTopics(List.of(spec.name())).allTopicNames()
        .get(30, TimeUnit.SECONDS).get(spec.name()).partitions()).hasSize(6);
  }

  /** Synchronous typed writes for test setup. */
  private static final class EventPublisherSync {
    static void publish(KafkaCluster cluster, Topic<String, ResourceEvent> topic, String key, ResourceEvent value)
        throws Exception {
      try (KafkaProducer<String, ResourceEvent> producer = new KafkaProducer<>(clients.producer("setup"),
          topic.keySerde().serializer(), topic.valueSerde().serializer())) {
        producer.send(new ProducerRecord<>(topic.name(), key, value)).get(30, TimeUnit.SECONDS);
      }
    }
  }
}
