package dev.lattice.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.samples.SampleApp;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./lattice up --samples}' meshed demo on a real broker and real sockets: the node proxy in front of the
 * four sample workloads, steady traffic from the generator, and every hop (generator → frontend → catalog →
 * ratings v1/v2) a FlowRecord on {@code lattice.flows.v1}, a line of Istio metrics and an access-log line.
 */
@LatticeKafkaTest
class LocalMeshTest {
  @TempDir Path tmp;

  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Test
  void everyHopOfTheSampleTrafficIsProxiedMeasuredAndRecorded(KafkaCluster cluster) throws Exception {
    String flows = LatticeTopics.FLOWS.name();
    if (!cluster.adminClient().listTopics().names().get().contains(flows)) {
      cluster.createTopic(flows, 1, Map.of());
    }
    long from = endOffset(cluster, flows);
    AdminTokenFile token = AdminTokenFile.inDataDir(tmp);
    token.createIfMissing();
    LocalMesh.Settings settings = new LocalMesh.Settings(KafkaClientConfig.of(cluster.bootstrapServers(), "data-plane"),
        token, tmp, true, 20);
    List<FlowRecord> seen = new ArrayList<>();
    try (LocalMesh mesh = LocalMesh.start(settings, out)) {
      await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
        seen.addAll(readFrom(cluster, flows, from + seen.size()));
        assertThat(seen).anySatisfy(f -> hop(f, "frontend", "catalog", SampleApp.CATALOG));
        assertThat(seen).anySatisfy(f -> hop(f, "catalog", "ratings", SampleApp.RATINGS_V1));
        assertThat(seen).anySatisfy(f -> hop(f, "catalog", "ratings", SampleApp.RATINGS_V2));
        // the generator's own calls come from an address no workload has: no source identity
        assertThat(seen).anySatisfy(f -> {
          assertThat(f.getDestination().getWorkload()).isEqualTo("frontend");
          assertThat(f.getSource().getWorkload()).isNull();
        });
      });
      String metrics = get(mesh.adminUrl() + "/stats/prometheus");
      assertThat(metrics).containsPattern("istio_requests_total\\{[^}]*destination_version=\"v2\"[^}]*source_workload=\"catalog\"")
          .containsPattern("istio_requests_total\\{[^}]*destination_workload=\"catalog\"[^}]*response_code=\"200\"");
      assertThat(get(mesh.adminUrl() + "/config_dump")).contains("ratings-v2");
      // a user's own request through the frontend's listener answers like the frontend does
      HttpResponse<String> page = http.send(HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
          + mesh.frontend().getPort() + "/")).header("x-request-id", "user-" + UUID.randomUUID()).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(page.statusCode()).isEqualTo(200);
    }
    for (FlowRecord f : seen) {
      assertThat(f.getNode()).isEqualTo("local");
      assertThat(f.getDirection()).isEqualTo(FlowDirection.OUTBOUND);
      assertThat(f.getTraceId()).hasSize(32);
    }
    // one trace spans the chain: the frontend forwards the generator's trace to the catalog, which forwards it on
    assertThat(seen.stream().filter(f -> "catalog".equals(f.getSource().getWorkload())).map(FlowRecord::getTraceId))
        .anySatisfy(trace -> assertThat(seen).anySatisfy(f -> {
          assertThat(f.getTraceId()).isEqualTo(trace);
          assertThat(f.getDestination().getWorkload()).isEqualTo("frontend");
        }));
    List<String> accessLog = Files.readAllLines(tmp.resolve("proxy").resolve("access.log"));
    assertThat(accessLog).isNotEmpty().allSatisfy(line -> assertThat(line).startsWith("{").endsWith("}"));
  }

  @Test
  void aRateOutOfRangeIsRefusedNamingTheKey() {
    assertThatThrownBy(() -> new LocalMesh.Settings(KafkaClientConfig.of("127.0.0.1:1", "data-plane"),
        AdminTokenFile.inDataDir(tmp), tmp, true, -1))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("local.samples.rate: -1");
  }

  private static void hop(FlowRecord f, String source, String destination, String destinationIp) {
    assertThat(f.getSource().getWorkload()).isEqualTo(source);
    assertThat(f.getSource().getNamespace()).isEqualTo("shop");
    assertThat(f.getDestination().getWorkload()).isEqualTo(destination);
    assertThat(f.getDestination().getIp()).isEqualTo(destinationIp);
    assertThat(f.getVerdict()).isEqualTo(FlowVerdict.FORWARDED);
    assertThat(f.getL7().getHttpStatus()).isEqualTo(200);
    assertThat(f.getMtls()).isFalse();
  }

  private String get(String url) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(java.net.URI.create(url)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(url).isEqualTo(200);
    return r.body();
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaCluster cluster) {
    return new KafkaConsumer<>(cluster.consumerProps("local-mesh-" + UUID.randomUUID()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  private static long endOffset(KafkaCluster cluster, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = consumer(cluster)) {
      TopicPartition p = new TopicPartition(topic, 0);
      return c.endOffsets(List.of(p), Duration.ofSeconds(30)).get(p);
    }
  }

  /** What partition 0 holds from {@code offset} on now (one bounded poll round). */
  private static List<FlowRecord> readFrom(KafkaCluster cluster, String topic, long offset) {
    List<FlowRecord> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(cluster)) {
      TopicPartition p = new TopicPartition(topic, 0);
      c.assign(List.of(p));
      c.seek(p, offset);
      long end = c.endOffsets(List.of(p), Duration.ofSeconds(30)).get(p);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (c.position(p) < end && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> records.add(
            LatticeTopics.FLOWS.valueSerde().deserializer().deserialize(topic, r.value())));
      }
    }
    return records;
  }
}
