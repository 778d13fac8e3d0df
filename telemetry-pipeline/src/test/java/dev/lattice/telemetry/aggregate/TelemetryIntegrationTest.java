package dev.lattice.telemetry.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline on the real (embedded KRaft) broker with exactly_once_v2: garbage and schema-newer flows
 * are dead-lettered while it keeps running, and a restart from a wiped state directory (stores restored
 * from their changelogs) yields exactly the windows an uninterrupted run yields — nothing lost, nothing
 * counted twice.
 */
@LatticeKafkaTest
class TelemetryIntegrationTest {

  KafkaCluster cluster;
  TelemetryTopics topics;
  String appId;
  KafkaProducer<String, byte[]> producer;
  TelemetryRunner runner;

  @BeforeEach
  void setUp(KafkaCluster cluster) {
    this.cluster = cluster;
    String flows = cluster.uniqueTopic("flows");
    String metrics = cluster.uniqueTopic("metrics");
    cluster.createTopic(flows, 2, Map.of());
    cluster.createTopic(flows + ".dlq", 1, Map.of());
    cluster.createTopic(metrics, 2, Map.of());
    topics = TelemetryTopics.named(flows, metrics);
    appId = cluster.uniqueTopic("telemetry");
    producer = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void tearDown() {
    if (runner != null) {
      runner.close();
    }
    producer.close();
  }

  private TelemetryRunner startPipeline() throws Exception {
    Properties props = KafkaClientConfig.of(cluster.bootstrapServers(), "telemetry").streams(appId,
        cluster.brokerCount());
    // A fresh state directory every start: a restart must restore from the changelogs, not local disk.
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("telemetry-it").toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    TelemetryRunner r = TelemetryRunner.create(topics, TelemetryTopologyTest.NO_LATE, props);
    r.start();
    await().atMost(Duration.ofSeconds(90)).until(r::running);
    return r;
  }

  private void send(FlowRecord flow) throws Exception {
    producer.send(new ProducerRecord<>(topics.flows().name(), null, FlowSignals.completedAtMillis(flow),
        FlowGenerator.key(flow), topics.flows().valueSerde().serializer().serialize(topics.flows().name(), flow)));
  }

  private void sendRaw(byte[] value) throws Exception {
    producer.send(new ProducerRecord<>(topics.flows().name(), "shop/frontend", value)).get(30, TimeUnit.SECONDS);
  }

  /** Flows far in the future on many keys, so stream time passes every window on every partition. */
  private static List<FlowRecord> closers() {
    List<FlowRecord> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      out.add(TelemetryTopologyTest.flow("shop", "closer-" + i, "shop", "sink-" + i,
          TelemetryTopologyTest.T0.plus(Duration.ofHours(1)), 200, 1_000));
    }
    return out;
  }

  private long requestsInStores() {
    try {
      long sum = 0;
      try (var it = runner.store(MetricsScope.EDGE, WindowSize.ONE_MINUTE).fetchAll(Instant.EPOCH,
          TelemetryTopologyTest.T0.plus(Duration.ofHours(2)))) {
        while (it.hasNext()) {
          sum += it.next().value.requests();
        }
      }
      return sum;
    } catch (InvalidStateStoreException e) {
      return -1;
    }
  }

  @Test
  void deadLettersGarbageAndRestartsFromChangelogsWithoutLosingOrDoubleCounting() throws Exception {
    List<FlowRecord> flows = TelemetryTopologyTest.generated(5, 600);
    List<FlowRecord> all = new ArrayList<>(flows);
    all.addAll(closers());
    Map<String, EdgeMetrics> expected;
    try (TelemetryDriver d = new TelemetryDriver(TelemetryTopologyTest.NO_LATE)) {
      all.forEach(d::pipe);
      expected = d.drainMetrics();
    }
    assertThat(expected).isNotEmpty();

    runner = startPipeline();
    byte[] newer = {(byte) 0xC3, 0x01, 1, 2, 3, 4, 5, 6, 7, 8, 0x02, 0x04};
    sendRaw("{\"not\":\"avro\"}".getBytes(StandardCharsets.UTF_8));
    sendRaw(newer);
    for (FlowRecord f : flows.subList(0, 300)) {
      send(f);
    }
    producer.flush();
    // the stores count each request once (its other report is skipped)
    long countedFirstHalf = flows.subList(0, 300).stream().filter(FlowSignals::counted).count();
    long countedAll = flows.stream().filter(FlowSignals::counted).count();
    assertThat(countedAll).isLessThan(flows.size());
    await().atMost(Duration.ofSeconds(60)).until(() -> requestsInStores() == countedFirstHalf);
    try (KafkaConsumer<String, byte[]> dlq = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("dlq")),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      dlq.subscribe(List.of(topics.flows().deadLetterTopic()));
      List<ConsumerRecord<String, byte[]>> dead = new ArrayList<>();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        dlq.poll(Duration.ofMillis(200)).forEach(dead::add);
        assertThat(dead).hasSize(2);
      });
      assertThat(DeadLetters.header(dead.get(0).headers(), DeadLetters.REASON)).contains("bad header");
      assertThat(DeadLetters.header(dead.get(1).headers(), DeadLetters.REASON))
          .contains("unknown schema fingerprint");
      assertThat(dead.get(1).value()).isEqualTo(newer);
    }
    assertThat(runner.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);

    runner.close();
    runner = startPipeline();
    for (FlowRecord f : flows.subList(300, flows.size())) {
      send(f);
    }
    producer.flush();
    // Every flow counted before the closers: the two input partitions' tasks feed the repartition topics
    // independently, so closers sent now could overtake flows still in the other task and make them late.
    await().atMost(Duration.ofSeconds(60)).until(() -> requestsInStores() == countedAll);
    // the wiped state came back from the changelogs, and the query side saw those restores begin and end
    assertThat(runner.restoring().completed()).isPositive();
    assertThat(runner.restoring().restoring(TelemetryTopology.storeName(MetricsScope.EDGE, WindowSize.ONE_MINUTE)))
        .isFalse();
    for (FlowRecord f : closers()) {
      send(f);
    }
    producer.flush();

    Map<String, EdgeMetrics> seen = new TreeMap<>();
    List<String> duplicates = new ArrayList<>();
    try (KafkaConsumer<String, EdgeMetrics> consumer = new KafkaConsumer<>(
        cluster.consumerProps(cluster.uniqueTopic("reader")), new StringDeserializer(),
        topics.metrics().valueSerde().deserializer())) {
      consumer.subscribe(List.of(topics.metrics().name()));
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> {
          if (seen.put(r.key(), r.value()) != null) {
            duplicates.add(r.key());
          }
        });
        assertThat(seen.keySet()).containsAll(expected.keySet());
      });
      // and nothing more for a while
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> {
          if (seen.put(r.key(), r.value()) != null) {
            duplicates.add(r.key());
          }
        });
      }
    }
    assertThat(duplicates).isEmpty();
    assertThat(seen.keySet()).isEqualTo(expected.keySet());
    expected.forEach((k, v) -> assertThat(seen.get(k)).as(k).isEqualTo(v));

    // Windows already published stay published once across another restart (wiped state: stores and
    // suppression buffers restored from their changelogs). Later closers close the first closers' windows:
    // only those are new on the topic.
    runner.close();
    runner = startPipeline();
    for (FlowRecord f : laterClosers()) {
      send(f);
    }
    producer.flush();
    Map<String, Integer> times = new TreeMap<>();
    try (KafkaConsumer<String, EdgeMetrics> consumer = new KafkaConsumer<>(
        cluster.consumerProps(cluster.uniqueTopic("reader")), new StringDeserializer(),
        topics.metrics().valueSerde().deserializer())) {
      consumer.subscribe(List.of(topics.metrics().name()));
      await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> times.merge(r.key(), 1, Integer::sum));
        assertThat(times.keySet()).anyMatch(k -> k.contains("closer-") && !expected.containsKey(k));
      });
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
      while (System.nanoTime() < until) {
        consumer.poll(Duration.ofMillis(200)).forEach(r -> times.merge(r.key(), 1, Integer::sum));
      }
    }
    assertThat(times).allSatisfy((k, n) -> assertThat(n).as(k).isEqualTo(1));
    assertThat(times.keySet()).containsAll(expected.keySet());
  }

  /** Closers an hour after {@link #closers()}: they close the first closers' windows. */
  private static List<FlowRecord> laterClosers() {
    List<FlowRecord> out = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      out.add(TelemetryTopologyTest.flow("shop", "closer-" + i, "shop", "sink-" + i,
          TelemetryTopologyTest.T0.plus(Duration.ofHours(2)), 200, 1_000));
    }
    return out;
  }
}
