package dev.lattice.telemetry.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.telemetry.aggregate.FlowStats;
import dev.lattice.telemetry.aggregate.MetricsKey;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.aggregate.TelemetryOptions;
import dev.lattice.telemetry.aggregate.TelemetryRunner;
import dev.lattice.telemetry.aggregate.TelemetryTopics;
import dev.lattice.telemetry.aggregate.WindowSize;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Two pipeline instances on the real broker, each with its own query API: either one answers every key
 * in full (scans fan out, one-key series go to the active host), and after one is closed the other serves
 * everything once the rebalance has moved its tasks.
 */
@LatticeKafkaTest
class DistributedQueryTest {

  static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");
  static final Instant NOW = T0.plus(Duration.ofMinutes(5));

  /** One pipeline instance and its HTTP API. */
  static final class Instance implements AutoCloseable {
    final HttpServer server;
    final TelemetryRunner runner;

    Instance(HttpServer server, TelemetryRunner runner) {
      this.server = server;
      this.runner = runner;
    }

    int port() {
      return server.actualPort();
    }

    @Override
    public void close() {
      runner.close();
      server.close().await();
    }
  }

  KafkaCluster cluster;
  TelemetryTopics topics;
  String appId;
  Vertx vertx;
  WebClient client;
  final List<Instance> instances = new ArrayList<>();

  @BeforeEach
  void setUp(KafkaCluster cluster) {
    this.cluster = cluster;
    String flows = cluster.uniqueTopic("flows");
    String metrics = cluster.uniqueTopic("metrics");
    cluster.createTopic(flows, 4, Map.of());
    cluster.createTopic(flows + ".dlq", 1, Map.of());
    cluster.createTopic(metrics, 2, Map.of());
    topics = TelemetryTopics.named(flows, metrics);
    appId = cluster.uniqueTopic("telemetry-q");
    vertx = Vertx.vertx();
    client = WebClient.create(vertx);
  }

  @AfterEach
  void tearDown() {
    instances.forEach(Instance::close);
    client.close();
    vertx.close().await();
  }

  private Instance start() throws Exception {
    Router router = Router.router(vertx);
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
    Properties props = KafkaClientConfig.of(cluster.bootstrapServers(), "telemetry").streams(appId,
        cluster.brokerCount());
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("telemetry-q").toString());
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, "127.0.0.1:" + server.actualPort());
    // The flows are produced in one burst over 4 partitions whose tasks feed the repartition topics
    // independently: grace must cover that skew or a lagging partition's flows arrive late.
    TelemetryOptions options = TelemetryOptions.defaults().withGrace(Duration.ofMinutes(5));
    TelemetryRunner runner = TelemetryRunner.create(topics, options, props);
    DistributedQueries queries = new DistributedQueries(vertx, runner,
        new org.apache.kafka.streams.state.HostInfo("127.0.0.1", server.actualPort()), client);
    new TelemetryApi(queries, options, Clock.fixed(NOW, ZoneOffset.UTC)).mount(router);
    runner.start();
    Instance instance = new Instance(server, runner);
    instances.add(instance);
    return instance;
  }

  private JsonObject get(Instance instance, String uri) {
    var response = client.get(instance.port(), "127.0.0.1", uri).send().await();
    if (response.statusCode() != 200) {
      return new JsonObject().put("status", response.statusCode()).put("body", response.bodyAsString());
    }
    return response.bodyAsJsonObject().put("status", 200);
  }

  /** requests per source→destination from an /v1/edges answer, or null if it was not a 200. */
  private static Map<String, Long> edgeCounts(JsonObject answer) {
    if (answer.getInteger("status") != 200) {
      return null;
    }
    Map<String, Long> out = new TreeMap<>();
    for (Object o : answer.getJsonArray("edges")) {
      JsonObject e = (JsonObject) o;
      out.put(e.getString("source") + "→" + e.getString("destination"), e.getLong("requests"));
    }
    return out;
  }

  @Test
  void eitherInstanceAnswersEveryKeyAndTheSurvivorServesAllAfterOneIsKilled() throws Exception {
    FlowGenerator generator = new FlowGenerator(17);
    List<FlowRecord> flows = new ArrayList<>();
    for (int i = 0; i < 600; i++) {
      flows.add(generator.next(T0.plusMillis(i * 200L)));
    }
    Map<String, Long> expected = new TreeMap<>();
    Map<String, FlowStats> expectedPayments = new TreeMap<>();
    for (FlowRecord f : flows) {
      if (!FlowSignals.counted(f)) {
        continue; // the other proxy's report of the same request
      }
      expected.merge(FlowSignals.source(f) + "→" + FlowSignals.destination(f), 1L, Long::sum);
      if (FlowSignals.destination(f).equals("shop/payments")) {
        long t = FlowSignals.completedAtMillis(f);
        expectedPayments.computeIfAbsent(Long.toString(t - Math.floorMod(t, 10_000L)), k -> FlowStats.empty()).add(f);
      }
    }

    Instance a = start();
    Instance b = start();
    await().atMost(Duration.ofSeconds(90)).until(() -> a.runner.running() && b.runner.running());
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(cluster.producerProps(),
        new StringSerializer(), new ByteArraySerializer())) {
      for (FlowRecord f : flows) {
        producer.send(new ProducerRecord<>(topics.flows().name(), FlowGenerator.key(f),
            topics.flows().valueSerde().serializer().serialize(topics.flows().name(), f)));
      }
      producer.flush();
    }
    String edgesUri = "/v1/edges?window=1m&from=" + T0.toEpochMilli() + "&to=" + NOW.toEpochMilli();
    String paymentsUri = "/v1/services/shop/payments/signals?window=10s&from=" + T0.toEpochMilli() + "&to="
        + NOW.toEpochMilli();
    await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> {
      assertThat(edgeCounts(get(a, edgesUri))).isEqualTo(expected);
      assertThat(edgeCounts(get(b, edgesUri))).isEqualTo(expected);
    });
    // Both instances hold tasks, so each answer above needed the other instance's part.
    assertThat(a.runner.streams().metadataForLocalThreads().stream()
        .mapToInt(t -> t.activeTasks().size()).sum()).isPositive();
    assertThat(b.runner.streams().metadataForLocalThreads().stream()
        .mapToInt(t -> t.activeTasks().size()).sum()).isPositive();
    JsonObject fromA = get(a, paymentsUri);
    JsonObject fromB = get(b, paymentsUri);
    assertThat(fromA.getJsonArray("series")).isEqualTo(fromB.getJsonArray("series"));
    assertSeries(fromA.getJsonArray("series"), expectedPayments);
    JsonObject graph = get(b, "/v1/graph?window=1m&from=" + T0.toEpochMilli() + "&to=" + NOW.toEpochMilli());
    assertThat(graph.getJsonArray("nodes")).extracting(n -> ((JsonObject) n).getString("id"))
        .contains("unknown", "shop/frontend", "external/api.payments.example", "legacy/batch");
    assertThat(graph.getJsonArray("edges")).anyMatch(e -> ((JsonObject) e).getBoolean("fullyDenied")
        && ((JsonObject) e).getJsonObject("deniedBy").containsKey(FlowGenerator.DENYING_POLICY));
    assertThat(graph.getJsonArray("edges")).anyMatch(e -> ((JsonObject) e).getBoolean("plaintext"));

    // Bad input: a clear 400 naming the parameter.
    JsonObject bad = get(a, "/v1/edges?window=7s");
    assertThat(bad.getInteger("status")).isEqualTo(400);
    assertThat(bad.getString("body")).contains("window: '7s' (expected one of [10s, 1m])");

    // Kill one instance: after the rebalance the survivor answers everything on its own.
    b.close();
    instances.remove(b);
    await().atMost(Duration.ofSeconds(120)).untilAsserted(() ->
        assertThat(edgeCounts(get(a, edgesUri))).isEqualTo(expected));
    await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
        assertSeries(get(a, paymentsUri).getJsonArray("series"), expectedPayments));
  }

  private static void assertSeries(JsonArray series, Map<String, FlowStats> expected) {
    assertThat(series).isNotNull();
    Map<String, Long> requests = new TreeMap<>();
    series.forEach(p -> requests.put(Long.toString(((JsonObject) p).getLong("start")),
        ((JsonObject) p).getLong("requests")));
    Map<String, Long> want = new TreeMap<>();
    expected.forEach((k, v) -> want.put(k, v.requests()));
    assertThat(requests).isEqualTo(want);
  }
}
