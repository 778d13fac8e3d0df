package dev.lattice.policy.compiler;

import static dev.lattice.policy.compiler.MeshFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Scoping (issue 8) through the compiler on the real (embedded KRaft) broker: what each node's config on
 * {@code lattice.config.v1} holds under an egress scope and under {@code exportTo: ["."]}, and how a scope
 * change is applied incrementally (tombstones for what left the scope, nothing else).
 */
@LatticeKafkaTest
class ScopingIntegrationTest {

  KafkaCluster cluster;
  CompilerTopics topics;
  KafkaProducer<String, byte[]> producer;
  KafkaConsumer<String, ConfigResource> consumer;
  final List<ConsumerRecord<String, ConfigResource>> seen = new ArrayList<>();
  CompilerRunner runner;

  @BeforeEach
  void setUp(KafkaCluster cluster) throws Exception {
    this.cluster = cluster;
    String resources = cluster.uniqueTopic("resources");
    String registry = cluster.uniqueTopic("registry");
    String config = cluster.uniqueTopic("config");
    cluster.createTopic(resources, 3, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(registry, 3, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(config, 6, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(resources + ".dlq", 1, Map.of());
    cluster.createTopic(registry + ".dlq", 1, Map.of());
    topics = CompilerTopics.named(resources, registry, config);
    producer = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(), new ByteArraySerializer());
    consumer = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("reader")), new StringDeserializer(),
        topics.config().valueSerde().deserializer());
    consumer.subscribe(List.of(config));
    Properties props = KafkaClientConfig.of(cluster.bootstrapServers(), "policy")
        .streams(cluster.uniqueTopic("compiler"), cluster.brokerCount());
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("scoping-it").toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 50);
    runner = CompilerRunner.create(topics, CompilerOptions.defaults(ValidatedAdmission.INSTANCE), props);
    runner.start();
    await().atMost(Duration.ofSeconds(60)).until(runner::running);
  }

  @AfterEach
  void tearDown() {
    if (runner != null) runner.close();
    producer.close();
    consumer.close();
  }

  private void send(ResourceEvent e) throws Exception {
    producer.send(new ProducerRecord<>(topics.resources().name(), MeshState.key(e),
        topics.resources().valueSerde().serializer().serialize(topics.resources().name(), e))).get(30, TimeUnit.SECONDS);
  }

  private void send(WorkloadEndpoint w) throws Exception {
    producer.send(new ProducerRecord<>(topics.registry().name(), MeshFixtures.registryKey(w),
        topics.registry().valueSerde().serializer().serialize(topics.registry().name(), w))).get(30, TimeUnit.SECONDS);
  }

  private Map<String, ConfigResource> compacted() {
    consumer.poll(Duration.ofMillis(200)).forEach(seen::add);
    Map<String, ConfigResource> m = new TreeMap<>();
    for (ConsumerRecord<String, ConfigResource> r : seen) {
      if (r.value() == null) m.remove(r.key());
      else m.put(r.key(), r.value());
    }
    return m;
  }

  /** The outbound hosts a node's config holds (the unit after the last '|' of each outbound name). */
  private Set<String> outboundHosts(String node) {
    Set<String> hosts = new TreeSet<>();
    for (String key : compacted().keySet()) {
      String name = key.substring(key.indexOf('/', key.indexOf('/') + 1) + 1);
      if (key.startsWith(node + "/") && name.startsWith("outbound|")) hosts.add(MeshCompiler.unitOf(name));
    }
    return hosts;
  }

  private static WorkloadEndpoint backend(String ns, String svc, int i, String node) {
    return MeshFixtures.workload(ns, svc, svc + "-1", svc, "10.1.0." + i, 8080, "HTTP", node, Map.of("app", svc));
  }

  @Test
  void anEgressScopeOfThreeServicesGivesItsNodeThoseThreeAndWhatTheyReferenceOnly() throws Exception {
    for (int i = 0; i < 8; i++) send(backend("shop", "svc" + i, i + 1, "node-backends"));
    // svc2 routes /v2 to svc7: a node seeing svc2 must get svc7's cluster too
    send(MeshFixtures.prefixRoute("shop", "svc2", "svc2", "/v2", "svc7", T0));
    WorkloadEndpoint client = WorkloadEndpoint.newBuilder(
            MeshFixtures.workload("shop", "client", "client-1", "client", "10.2.0.1", 8080, "HTTP", "node-client",
                Map.of("app", "client")))
        .setEgressHosts(List.of("./svc0", "shop/svc1.shop.svc.cluster.local", "./svc2")).build();
    send(client);

    Set<String> all = new TreeSet<>(List.of("client.shop", "svc0.shop", "svc1.shop", "svc2.shop", "svc3.shop",
        "svc4.shop", "svc5.shop", "svc6.shop", "svc7.shop"));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(outboundHosts("node-client")).containsExactly("svc0.shop", "svc1.shop", "svc2.shop", "svc7.shop");
      assertThat(outboundHosts("node-backends")).isEqualTo(all);
    });
    Map<String, ConfigResource> config = compacted();
    // a referenced service comes as its whole outbound unit (cluster, route, listener), like a scoped one
    assertThat(config).containsKeys("node-client/CLUSTER/outbound|8080||svc7.shop",
        "node-client/LISTENER/outbound|8080|svc2.shop", "node-client/ROUTE/outbound|8080|svc1.shop");
    assertThat(config.keySet().stream().filter(k -> k.startsWith("node-client/") && k.contains("svc3"))).isEmpty();
    // its own inbound config stays
    assertThat(config).containsKey("node-client/LISTENER/inbound|8080|shop/client/client-1");

    // narrowing the scope to svc0 tombstones svc1, svc2 and svc7 on that node and touches no other node
    int before = seen.size();
    send(WorkloadEndpoint.newBuilder(client).setEgressHosts(List.of("./svc0")).build());
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(outboundHosts("node-client")).containsExactly("svc0.shop"));
    await().pollDelay(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> compacted() != null);
    List<ConsumerRecord<String, ConfigResource>> delta = seen.subList(before, seen.size());
    assertThat(delta).allSatisfy(r -> {
      assertThat(r.key()).startsWith("node-client/");
      assertThat(r.value()).isNull();
    });
    assertThat(delta).extracting(r -> MeshCompiler.unitOf(r.key()))
        .containsOnly("svc1.shop", "svc2.shop", "svc7.shop");

    // "*/*" is everything again
    send(WorkloadEndpoint.newBuilder(client).setEgressHosts(List.of("*/*")).build());
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(outboundHosts("node-client")).isEqualTo(all));
  }

  @Test
  void exportToDotHidesAServiceFromOtherNamespaces() throws Exception {
    send(WorkloadEndpoint.newBuilder(backend("vault", "secrets", 1, "node-vault")).setExportTo(List.of(".")).build());
    send(backend("vault", "audit", 2, "node-vault"));
    send(backend("shop", "cart", 3, "node-shop"));
    // a second node with a vault workload sees it; a node with workloads of both namespaces sees it too
    send(backend("vault", "keeper", 4, "node-vault-2"));
    send(backend("shop", "web", 5, "node-mixed"));
    send(backend("vault", "rotator", 6, "node-mixed"));

    await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
      assertThat(outboundHosts("node-shop")).containsExactly("audit.vault", "cart.shop", "keeper.vault",
          "rotator.vault", "web.shop");
      assertThat(outboundHosts("node-vault")).contains("secrets.vault", "cart.shop");
      assertThat(outboundHosts("node-vault-2")).contains("secrets.vault");
      assertThat(outboundHosts("node-mixed")).contains("secrets.vault");
    });

    // exporting it to shop by name makes it visible there; the same key set as every other node then
    send(WorkloadEndpoint.newBuilder(backend("vault", "secrets", 1, "node-vault")).setExportTo(List.of(".", "shop"))
        .build());
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(outboundHosts("node-shop")).contains("secrets.vault"));
  }
}
