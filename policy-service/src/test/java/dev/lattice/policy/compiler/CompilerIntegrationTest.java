package dev.lattice.policy.compiler;

import static dev.lattice.policy.compiler.MeshFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.file.Files;
import java.time.Duration;
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
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The compiler on the real (embedded KRaft) broker with exactly_once_v2: apply, edit, delete, garbage
 * bytes, and a restart from a wiped state directory (state restored from the changelogs) that neither
 * duplicates nor loses output.
 */
@LatticeKafkaTest
class CompilerIntegrationTest {

  static final String REVIEWS_ROUTE = "ROUTE/outbound|9080|reviews.default";

  KafkaCluster cluster;
  CompilerTopics topics;
  String appId;
  KafkaProducer<String, byte[]> producer;
  KafkaConsumer<String, ConfigResource> consumer;
  final List<ConsumerRecord<String, ConfigResource>> seen = new ArrayList<>();
  CompilerRunner runner;

  @BeforeEach
  void setUp(KafkaCluster cluster) {
    this.cluster = cluster;
    String resources = cluster.uniqueTopic("resources");
    String registry = cluster.uniqueTopic("registry");
    String config = cluster.uniqueTopic("config");
    cluster.createTopic(resources, 6, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(registry, 6, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(config, 12, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(resources + ".dlq", 1, Map.of());
    cluster.createTopic(registry + ".dlq", 1, Map.of());
    topics = CompilerTopics.named(resources, registry, config);
    appId = cluster.uniqueTopic("compiler");
    producer = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(), new ByteArraySerializer());
    consumer = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("reader")), new StringDeserializer(),
        topics.config().valueSerde().deserializer());
    consumer.subscribe(List.of(config));
  }

  @AfterEach
  void tearDown() {
    if (runner != null) runner.close();
    producer.close();
    consumer.close();
  }

  private CompilerRunner startCompiler() throws Exception {
    Properties props = KafkaClientConfig.of(cluster.bootstrapServers(), "policy").streams(appId, cluster.brokerCount());
    // a fresh state directory every start: a restart must restore from the changelogs, not local disk
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("compiler-it").toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 50);
    CompilerRunner r = CompilerRunner.create(topics, CompilerOptions.defaults(ValidatedAdmission.INSTANCE), props);
    r.start();
    await().atMost(Duration.ofSeconds(60)).until(r::running);
    return r;
  }

  private void send(ResourceEvent e) throws Exception {
    producer.send(new ProducerRecord<>(topics.resources().name(), MeshState.key(e),
        topics.resources().valueSerde().serializer().serialize(topics.resources().name(), e))).get(30, TimeUnit.SECONDS);
  }

  private void delete(ResourceEvent e) throws Exception {
    producer.send(new ProducerRecord<>(topics.resources().name(), MeshState.key(e), null)).get(30, TimeUnit.SECONDS);
  }

  private void send(WorkloadEndpoint w) throws Exception {
    producer.send(new ProducerRecord<>(topics.registry().name(), MeshFixtures.registryKey(w),
        topics.registry().valueSerde().serializer().serialize(topics.registry().name(), w))).get(30, TimeUnit.SECONDS);
  }

  private List<ConsumerRecord<String, ConfigResource>> poll() {
    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
    return seen;
  }

  private Map<String, ConfigResource> compacted() {
    Map<String, ConfigResource> m = new TreeMap<>();
    for (ConsumerRecord<String, ConfigResource> r : seen) {
      if (r.value() == null) m.remove(r.key());
      else m.put(r.key(), r.value());
    }
    return m;
  }

  @Test
  void applyEditDeleteAndRestartOnTheRealBroker() throws Exception {
    runner = startCompiler();
    send(CompilerTopologyTest.PRODUCTPAGE);
    send(CompilerTopologyTest.REVIEWS_V1);
    send(CompilerTopologyTest.REVIEWS_V2);
    send(CompilerTopologyTest.RATINGS);
    ResourceEvent split = MeshFixtures.split("default", "reviews", "reviews", "v1", 80, "v2", 20, T0);
    send(MeshFixtures.subsets("default", "reviews", "reviews", T0));
    send(split);

    // apply: 2 nodes × (4 hosts' outbound minus none + 2 subset clusters) + inbound per instance
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      poll();
      assertThat(compacted()).containsKeys("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE,
          "node-a/CLUSTER/outbound|9080|v2|reviews.default",
          "node-b/AUTHORIZATION/inbound|default/ratings/ratings-1");
      assertThat(((RouteConfig) compacted().get("node-a/" + REVIEWS_ROUTE).getPayload()).getVirtualHosts()
          .get(0).getRoutes().get(0).getClusters().get(0).getWeight()).isEqualTo(80);
    });
    assertThat(compacted()).hasSize(2 * (9 + 2) + 4 * 5);

    // edit: only the two route tables change
    int before = seen.size();
    send(MeshFixtures.split("default", "reviews", "reviews", "v1", 10, "v2", 90, T0));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(poll().subList(before, seen.size())).hasSize(2));
    assertThat(seen.subList(before, seen.size())).extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);

    // garbage bytes on the resources topic: dead-lettered, the compiler keeps running
    producer.send(new ProducerRecord<>(topics.resources().name(), "TrafficRoute/default/junk",
        new byte[] {0x13, 0x37})).get(30, TimeUnit.SECONDS);
    try (KafkaConsumer<String, byte[]> dlq = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("dlq")),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      dlq.subscribe(List.of(topics.resources().deadLetterTopic()));
      List<ConsumerRecord<String, byte[]>> dead = new ArrayList<>();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
        dlq.poll(Duration.ofMillis(200)).forEach(dead::add);
        assertThat(dead).hasSize(1);
      });
      assertThat(dead.get(0).value()).containsExactly(0x13, 0x37);
      Header reason = dead.get(0).headers().lastHeader("lattice.dlq.reason");
      assertThat(reason).isNotNull();
    }
    assertThat(runner.streams().state()).isEqualTo(KafkaStreams.State.RUNNING);

    // delete the DestinationPolicy: subset clusters tombstoned on both nodes
    int beforeDelete = seen.size();
    delete(MeshFixtures.subsets("default", "reviews", "reviews", T0));
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      poll();
      assertThat(compacted()).doesNotContainKeys("node-a/CLUSTER/outbound|9080|v1|reviews.default",
          "node-b/CLUSTER/outbound|9080|v2|reviews.default");
    });
    assertThat(seen.subList(beforeDelete, seen.size()).stream().filter(r -> r.value() == null)).hasSize(4);

    // restart from an empty state dir, with one edit made while the compiler was down
    runner.close();
    runner = null;
    send(MeshFixtures.split("default", "reviews", "reviews", "v1", 30, "v2", 70, T0));
    int beforeRestart = seen.size();
    Map<String, ConfigResource> stateBefore = compacted();
    runner = startCompiler();
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertThat(poll().subList(beforeRestart, seen.size())).hasSize(2));
    // and nothing else for a while (no duplicates, including the start-up reconcile)
    await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() ->
        poll().size() == beforeRestart + 2);
    assertThat(seen.subList(beforeRestart, seen.size())).extracting(ConsumerRecord::key)
        .containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);
    assertThat(compacted().keySet()).isEqualTo(stateBefore.keySet());
    assertThat(((RouteConfig) compacted().get("node-b/" + REVIEWS_ROUTE).getPayload()).getVirtualHosts()
        .get(0).getRoutes().get(0).getClusters().get(0).getWeight()).isEqualTo(30);
  }
}
