package dev.lattice.dataplane.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.dataplane.filter.trace.TraceContext;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicSpec;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@LatticeKafkaTest
class FlowExporterTest {

  private static Topic<String, FlowRecord> topic(String name) {
    return Topic.of(TopicSpec.deleted(name, 2, Duration.ofHours(24)), LatticeTopics.FLOWS.keySerde(),
        LatticeTopics.FLOWS.valueSerde());
  }

  private static Producer<byte[], byte[]> producer(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put("acks", "all");
    props.put("enable.idempotence", true);
    props.putAll(FlowExporter.producerTuning());
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  /**
   * The service's settings, but patient enough for a loaded CI machine: with a 10 s request timeout, a slow
   * embedded broker made the idempotent producer retry out of sequence until the 30 s delivery timeout expired
   * the batch — a test of the exporter, not of the broker's speed.
   */
  private static Producer<byte[], byte[]> patientProducer(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put("acks", "all");
    props.put("enable.idempotence", true);
    props.putAll(FlowExporter.producerTuning());
    props.put("request.timeout.ms", 60_000);
    props.put("delivery.timeout.ms", 180_000);
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  static FlowObservation request(int i) {
    FlowObservation o = new FlowObservation();
    o.start = Instant.parse("2026-12-03T07:00:00Z").plusMillis(i);
    o.node = "node-a";
    o.http = true;
    o.source.workload("shop", "frontend", "spiffe://lattice.local/ns/shop/sa/frontend").address("127.0.0.11", 40000 + i);
    o.destination.workload("shop", "catalog", "spiffe://lattice.local/ns/shop/sa/catalog").address("127.0.0.12", 8080);
    o.method = "GET";
    o.path = "/items/" + i + "?q=secret";
    o.authority = "catalog.shop:8080";
    o.protocol = "HTTP/1.1";
    o.status = 503;
    o.flag(ResponseFlag.UF).flag(ResponseFlag.URX);
    o.verdict = FlowVerdict.ERROR;
    o.policy = "AuthorizationPolicy/shop/allow-frontend";
    o.policyReason = "rule 0 matched";
    o.dryRunVerdict = FlowVerdict.DROPPED;
    o.dryRunPolicy = "AuthorizationPolicy/shop/deny-new";
    o.audited("AuthorizationPolicy/shop/audit-all");
    o.retries = 2;
    o.mtls = true;
    o.bytesIn = 10;
    o.bytesOut = 20;
    o.latencyMicros = 1500;
    o.trace = new TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7", null, 1);
    return o;
  }

  @Test
  void recordsReachTheTopicKeyedBySourceWorkloadWithEveryField(KafkaCluster cluster) {
    String name = cluster.createTopic(cluster.uniqueTopic("flows"), 2, Map.of());
    Topic<String, FlowRecord> topic = topic(name);
    try (FlowExporter exporter = new FlowExporter(patientProducer(cluster.bootstrapServers()), topic,
        FlowExporter.Options.DEFAULTS)) {
      for (int i = 0; i < 100; i++) {
        assertThat(exporter.offer(request(i))).isTrue();
      }
      await().atMost(Duration.ofSeconds(180)).until(() -> exporter.stats().sent() == 100);
      assertThat(exporter.stats().dropped()).isZero();
    }
    List<ConsumerRecord<byte[], byte[]>> records = KafkaRecords.readFromBeginning(cluster, name, 100);
    assertThat(records).hasSize(100);
    assertThat(records).allSatisfy(r ->
        assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo("shop/frontend"));
    FlowRecord first = topic.valueSerde().deserializer().deserialize(name, records.get(0).value());
    assertThat(first.getResponseFlags()).containsExactly("UF", "URX");
    assertThat(first.getL7().getPath()).doesNotContain("secret").startsWith("/items/");
    assertThat(first.getAuditPolicies()).containsExactly("AuthorizationPolicy/shop/audit-all");
    assertThat(first.getDryRunVerdict()).isEqualTo(FlowVerdict.DROPPED);
    assertThat(first.getRetries()).isEqualTo(2);
    assertThat(first.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(first.getMtls()).isTrue();
    assertThat(first.getVerdict()).isEqualTo(FlowVerdict.ERROR);
  }

  @Test
  void unknownCallerIsKeyedByItsAddress() {
    FlowObservation o = new FlowObservation();
    o.source.address("127.0.0.99", 5555);
    assertThat(o.key()).isEqualTo("unknown/127.0.0.99");
    assertThat(o.toFlowRecord().getL7()).isNull();
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void aFullBufferDropsAndCountsInsteadOfWaiting() throws Exception {
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    // no broker on that port: the sender blocks in the producer, the buffer fills, offers keep returning
    FlowExporter exporter = new FlowExporter(producer("127.0.0.1:" + deadPort), topic("lattice.flows.v1"),
        new FlowExporter.Options(50, 10, Duration.ofMillis(5)));
    int refused = 0;
    for (int i = 0; i < 10_000; i++) {
      if (!exporter.offer(request(i))) {
        refused++;
      }
    }
    FlowExporter.Stats stats = exporter.stats();
    assertThat(refused).isGreaterThanOrEqualTo(10_000 - 50 - 10 - 1);
    assertThat(stats.droppedBufferFull()).isEqualTo(refused);
    assertThat(stats.accepted() + stats.droppedBufferFull()).isEqualTo(10_000);
    assertThat(stats.sent()).isZero();
    exporter.close(Duration.ofSeconds(2));
    assertThat(exporter.offer(request(0))).isFalse();
    FlowExporter.Stats closed = exporter.stats();
    assertThat(closed.sent()).isZero();
    assertThat(closed.buffered()).isZero();
  }

  @Test
  @Timeout(value = 120, unit = TimeUnit.SECONDS)
  void aBrokerThatGoesAwayCostsRecordsNotTheCaller() throws Exception {
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().temporaryDataDir().quietLogs(true).build()
        .start()) {
      Topic<String, FlowRecord> topic = topic("flows-away");
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
        admin.createTopics(List.of(new NewTopic("flows-away", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
      }
      FlowExporter exporter = new FlowExporter(producer(broker.bootstrapServers()), topic,
          new FlowExporter.Options(1_000, 100, Duration.ofMillis(5)));
      try {
        for (int i = 0; i < 50; i++) {
          exporter.offer(request(i));
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> exporter.stats().sent() == 50);

        broker.stop();
        for (int i = 0; i < 5_000; i++) {
          exporter.offer(request(i));
        }
        // the caller never failed; what could not go out is counted, nothing throws
        await().atMost(Duration.ofSeconds(60)).until(() -> exporter.stats().dropped() > 0);
        FlowExporter.Stats stats = exporter.stats();
        assertThat(stats.accepted() + stats.droppedBufferFull()).isEqualTo(5_050);
        assertThat(stats.sent()).isEqualTo(50);
      } finally {
        exporter.close(Duration.ofSeconds(2));
      }
      FlowExporter.Stats end = exporter.stats();
      assertThat(end.sent() + end.dropped() + end.buffered()).isEqualTo(5_050);
    }
  }
}
