package dev.lattice.cli.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lattice.cli.CliRun;
import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.events.FlowRecord;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.telemetry.TelemetryService;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lattice observe} and {@code lattice top} against a real telemetry pipeline on the embedded broker,
 * fed with generated flows.
 */
@LatticeKafkaTest
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class TelemetryCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration BOUND = Duration.ofSeconds(120);
  private static ServiceLauncher launcher;
  private static RunningService telemetry;
  private static KafkaCluster kafka;
  private static String flowsTopic;
  private static List<FlowRecord> flows;
  private static Instant start;

  @TempDir Path dir;

  @BeforeAll
  static void start(KafkaCluster cluster) throws Exception {
    kafka = cluster;
    flowsTopic = cluster.uniqueTopic("cli-flows");
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("telemetry.http.port", "0");
    cfg.put("telemetry.topics.flows", flowsTopic);
    cfg.put("telemetry.topics.metrics", cluster.uniqueTopic("cli-metrics"));
    cfg.put("telemetry.application.id", cluster.uniqueTopic("cli-telemetry"));
    cfg.put("telemetry.data.dir", java.nio.file.Files.createTempDirectory("cli-telemetry").toString());
    cfg.put("telemetry.windows.grace", "5m");
    cfg.put("kafka.streams.commit.interval.ms", "100");
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    telemetry = launcher.start(new TelemetryService()).toCompletionStage().toCompletableFuture()
        .get(BOUND.toSeconds(), TimeUnit.SECONDS);
    CliRun.awaitReady(telemetry);
    FlowGenerator generator = new FlowGenerator(23);
    start = Instant.now().minusSeconds(20);
    flows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      flows.add(generator.next(start.plusMillis(i * 25L)));
    }
    produce(flows);
  }

  @AfterAll
  static void stop() throws Exception {
    if (launcher != null) {
      launcher.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
  }

  static void produce(List<FlowRecord> records) {
    var serializer = LatticeTopics.FLOWS.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(kafka.producerProps(), new StringSerializer(),
        new ByteArraySerializer())) {
      for (FlowRecord f : records) {
        producer.send(new ProducerRecord<>(flowsTopic, FlowGenerator.key(f), serializer.serialize(flowsTopic, f)));
      }
      producer.flush();
    }
  }

  CliRun lattice(String... args) throws Exception {
    Map<String, URI> services = new LinkedHashMap<>();
    services.put("telemetry", telemetry.baseUrl());
    new ServiceEndpoints(services, kafka.bootstrapServers(), "test").write(dir.resolve(ServiceEndpoints.FILE_NAME));
    return CliRun.of(Map.of(), dir, args);
  }

  @Test
  @org.junit.jupiter.api.Order(1)
  void observeShowsTheLastMatchingFlowsOneLineEach() throws Exception {
    long toPayments = flows.stream().filter(f -> FlowSignals.destination(f).equals("shop/payments")).count();
    assertThat(toPayments).isGreaterThan(5);
    await().atMost(BOUND).untilAsserted(() -> {
      CliRun run = lattice("observe", "--last", "1000", "--to", "shop/payments");
      assertThat(run.exit()).as(run.err()).isZero();
      assertThat(run.out().lines()).hasSize((int) toPayments);
    });
    CliRun five = lattice("observe", "--last", "5", "--to", "shop/payments");
    assertThat(five.out().lines()).hasSize(5).allMatch(l -> l.contains(" -> shop/payments  "));
    CliRun denied = lattice("observe", "--denied", "--last", "1000");
    assertThat(denied.out().lines()).isNotEmpty()
        .allMatch(l -> l.contains("DROPPED by " + FlowGenerator.DENYING_POLICY) && l.contains("[RBAC]")
            && l.contains("legacy/batch -> shop/payments  from-proxy  "));
    assertThat(denied.out().lines()).hasSize((int) flows.stream().filter(FlowSignals::denied).count());
    CliRun cart = lattice("observe", "--last", "1000", "--workload", "shop/cart", "-o", "json");
    assertThat(cart.out().lines()).isNotEmpty().allMatch(l -> l.contains("\"shop/cart\""));
    for (String line : cart.out().lines().toList()) {
      JsonNode f = JSON.readTree(line);
      assertThat(List.of(f.path("sourceNode").asText(), f.path("destinationNode").asText())).contains("shop/cart");
    }

    CliRun bad = lattice("observe", "--status", "6xx");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("Error from server (BadRequest): status: '6xx'");
    CliRun badWorkload = lattice("observe", "--workload", "cart");
    assertThat(badWorkload.err()).contains("workload: 'cart' (expected: namespace/workload");
  }

  @Test
  @org.junit.jupiter.api.Order(3) // last: it adds flows the other tests would count
  void observeFollowStreamsNewFlowsUntilMax() throws Exception {
    CompletableFuture<CliRun> following = CompletableFuture.supplyAsync(() -> {
      try {
        return lattice("observe", "--follow", "--last", "0", "--max", "3", "--to", "shop/redis");
      } catch (Exception e) {
        throw new RuntimeException(e);
      }
    });
    FlowGenerator generator = new FlowGenerator(99);
    // keep producing until the follower (which connects asynchronously) has its three flows
    long deadline = System.nanoTime() + BOUND.toNanos();
    while (!following.isDone() && System.nanoTime() < deadline) {
      List<FlowRecord> batch = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        batch.add(generator.next(Instant.now()));
      }
      produce(batch);
      Thread.sleep(200);
    }
    CliRun run = following.get(10, TimeUnit.SECONDS);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out().lines()).hasSize(3).allMatch(l -> l.contains(" -> shop/redis  ") && l.contains("  tcp  "));
  }

  @Test
  @org.junit.jupiter.api.Order(2)
  void topShowsTheBusiestEdgesAndRefreshesInPlace() throws Exception {
    Map<String, Long> expected = new TreeMap<>();
    flows.stream().filter(FlowSignals::counted).forEach(f -> expected.merge(FlowSignals.source(f) + " "
        + FlowSignals.destination(f), 1L, Long::sum));
    String busiest = expected.entrySet().stream().max(Map.Entry.comparingByValue()).orElseThrow().getKey();
    HttpClient http = HttpClient.newHttpClient();
    String edges = telemetry.baseUrl() + "/v1/edges?window=1m&range=5m";
    long total = expected.values().stream().mapToLong(Long::longValue).sum();
    await().atMost(BOUND).until(() -> {
      long sum = 0;
      for (JsonNode e : JSON.readTree(http.send(HttpRequest.newBuilder(URI.create(edges)).build(),
          HttpResponse.BodyHandlers.ofString()).body()).path("edges")) {
        sum += e.path("requests").asLong();
      }
      return sum == total;
    });

    CliRun top = lattice("top", "--window", "1m", "--range", "5m", "-n", "3");
    assertThat(top.exit()).as(top.err()).isZero();
    List<String> lines = top.out().lines().toList();
    assertThat(lines.get(0)).startsWith(expected.size() + " edges, window 1m");
    assertThat(lines.get(1)).containsPattern("^SOURCE\\s+DESTINATION\\s+REQ/S\\s+REQUESTS\\s+ERROR %\\s+P99 MS\\s+DENIED\\s+MTLS$");
    assertThat(lines).hasSize(5);
    String[] first = lines.get(2).split("\\s{3,}");
    assertThat(first[0] + " " + first[1]).isEqualTo(busiest);
    assertThat(Long.parseLong(first[3])).isEqualTo(expected.get(busiest));

    CliRun legacy = lattice("top", "--window", "1m", "--range", "5m", "--namespace", "legacy");
    assertThat(legacy.out().lines().skip(2).toList()).hasSize(1).allMatch(l -> l.startsWith("legacy/batch")
        && l.trim().matches(".*\\s100\\.0\\s+.*") );

    CliRun watch = lattice("top", "--window", "1m", "--range", "5m", "--watch", "--iterations", "2",
        "--interval", "100ms");
    assertThat(watch.exit()).as(watch.err()).isZero();
    assertThat(watch.out().split("\033\\[H\033\\[2J", -1)).hasSize(3);

    CliRun bad = lattice("top", "--window", "7s");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("window: '7s'");
  }
}
