package dev.lattice.telemetry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.core.parsetools.RecordParser;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The telemetry service as the launcher (and {@code ./lattice up}) runs it, on the real broker: it
 * provisions its topics, becomes ready, aggregates what arrives on the flows topic into the query API,
 * streams matching flows live over SSE (a slow reader is dropped and counted, a fast one gets everything),
 * and dead-letters garbage without stopping.
 */
@LatticeKafkaTest
class TelemetryServiceTest {

  static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");
  static final Duration BOUND = Duration.ofSeconds(120);

  @TempDir Path tmp;
  KafkaCluster cluster;
  String flowsTopic;
  ServiceLauncher launcher;
  TelemetryService service;
  RunningService running;
  Vertx clientVertx;
  HttpClient http;
  final java.net.http.HttpClient jdk = java.net.http.HttpClient.newHttpClient();

  @BeforeEach
  void setUp(KafkaCluster cluster) throws Exception {
    this.cluster = cluster;
    flowsTopic = cluster.uniqueTopic("svc-flows");
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("telemetry.http.port", "0");
    cfg.put("telemetry.topics.flows", flowsTopic);
    cfg.put("telemetry.topics.metrics", cluster.uniqueTopic("svc-metrics"));
    cfg.put("telemetry.application.id", cluster.uniqueTopic("svc-telemetry"));
    cfg.put("telemetry.data.dir", tmp.resolve("telemetry").toString());
    // one burst over several partitions: grace covers the skew between their tasks
    cfg.put("telemetry.windows.grace", "5m");
    cfg.put("telemetry.flows.max-clients", "2");
    cfg.put("telemetry.flows.client-buffer", "200");
    cfg.put("kafka.streams.commit.interval.ms", "100");
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    service = new TelemetryService();
    running = launcher.start(service).toCompletionStage().toCompletableFuture().get(BOUND.toSeconds(), TimeUnit.SECONDS);
    await().atMost(BOUND).until(() -> get("/readyz").statusCode() == 200);
    clientVertx = Vertx.vertx();
    http = clientVertx.createHttpClient();
  }

  @AfterEach
  void tearDown() {
    if (http != null) {
      http.close().await();
      clientVertx.close().await();
    }
    if (launcher != null) {
      launcher.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return jdk.send(HttpRequest.newBuilder(running.url(path)).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** A follower that parses the SSE stream into the flows' JSON. */
  private ConcurrentLinkedQueue<JsonObject> follow(String query) {
    ConcurrentLinkedQueue<JsonObject> events = new ConcurrentLinkedQueue<>();
    HttpClientResponse response = http.request(HttpMethod.GET, running.port(), running.host(), "/v1/flows?follow=true"
        + query).compose(req -> req.send()).await();
    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.getHeader("Content-Type")).isEqualTo("text/event-stream");
    RecordParser parser = RecordParser.newDelimited("\n\n", event -> {
      String text = event.toString(StandardCharsets.UTF_8);
      if (text.startsWith("event: flow\ndata: ")) {
        events.add(new JsonObject(text.substring(text.indexOf("data: ") + 6)));
      }
    });
    response.handler(parser);
    return events;
  }

  private void produce(List<FlowRecord> flows, byte[] garbage) {
    var serializer = dev.lattice.kit.topic.LatticeTopics.FLOWS.valueSerde().serializer();
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(),
        new ByteArraySerializer())) {
      for (FlowRecord f : flows) {
        producer.send(new ProducerRecord<>(flowsTopic, FlowGenerator.key(f),
            serializer.serialize(flowsTopic, f)));
      }
      if (garbage != null) {
        producer.send(new ProducerRecord<>(flowsTopic, "shop/frontend", garbage));
      }
      producer.flush();
    }
  }

  private static Map<String, Long> edgeCounts(String body) {
    Map<String, Long> counts = new TreeMap<>();
    new JsonObject(body).getJsonArray("edges").forEach(o -> counts.put(((JsonObject) o).getString("source")
        + "→" + ((JsonObject) o).getString("destination"), ((JsonObject) o).getLong("requests")));
    return counts;
  }

  @Test
  void aggregatesStreamsLiveAndDeadLettersGarbage() throws Exception {
    FlowGenerator generator = new FlowGenerator(5);
    List<FlowRecord> flows = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      flows.add(generator.next(T0.plusMillis(i * 200L)));
    }
    Map<String, Long> expectedEdges = new TreeMap<>();
    long toPayments = 0;
    long deniedToPayments = 0;
    for (FlowRecord f : flows) {
      if (FlowSignals.counted(f)) {
        expectedEdges.merge(FlowSignals.source(f) + "→" + FlowSignals.destination(f), 1L, Long::sum);
      }
      if (FlowSignals.destination(f).equals("shop/payments")) {
        toPayments++;
        deniedToPayments += FlowSignals.denied(f) ? 1 : 0;
      }
    }
    assertThat(deniedToPayments).isPositive();
    ConcurrentLinkedQueue<JsonObject> payments = follow("&to=shop/payments");
    ConcurrentLinkedQueue<JsonObject> denied = follow("&to=shop/&denied=true");
    // a third follower is over telemetry.flows.max-clients=2
    HttpResponse<String> third = get("/v1/flows?follow=true");
    assertThat(third.statusCode()).isEqualTo(503);
    assertThat(third.headers().firstValue("Retry-After")).isPresent();

    produce(flows, "not avro at all".getBytes(StandardCharsets.UTF_8));

    long expectedPayments = toPayments;
    long expectedDenied = deniedToPayments;
    await().atMost(BOUND).untilAsserted(() -> {
      assertThat(payments).hasSize((int) expectedPayments);
      assertThat(denied).hasSize((int) expectedDenied);
    });
    assertThat(payments).allMatch(f -> f.getString("destinationNode").equals("shop/payments"));
    assertThat(denied).allMatch(f -> f.getBoolean("denied")
        && f.getString("policy").equals(FlowGenerator.DENYING_POLICY));
    assertThat(service.tail().undecodable()).isEqualTo(1);

    // the aggregation saw the same flows
    String edgesUri = "/v1/edges?window=1m&from=" + T0.toEpochMilli() + "&to=" + T0.plus(Duration.ofMinutes(5))
        .toEpochMilli();
    await().atMost(BOUND).untilAsserted(() -> {
      HttpResponse<String> r = get(edgesUri);
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      Map<String, Long> counts = new TreeMap<>();
      new JsonObject(r.body()).getJsonArray("edges").forEach(o -> counts.put(((JsonObject) o).getString("source")
          + "→" + ((JsonObject) o).getString("destination"), ((JsonObject) o).getLong("requests")));
      assertThat(counts).isEqualTo(expectedEdges);
    });

    // filtered by workload (either side) and namespace (either side): the same counts, fewer edges
    Map<String, Long> touchingPayments = new TreeMap<>();
    expectedEdges.forEach((edge, n) -> {
      if (edge.startsWith("shop/payments→") || edge.endsWith("→shop/payments")) {
        touchingPayments.put(edge, n);
      }
    });
    assertThat(touchingPayments).isNotEmpty().hasSizeLessThan(expectedEdges.size());
    assertThat(edgeCounts(get(edgesUri + "&workload=shop/payments").body())).isEqualTo(touchingPayments);
    assertThat(edgeCounts(get(edgesUri + "&namespace=legacy").body()))
        .containsOnlyKeys("legacy/batch→shop/payments");
    JsonObject graph = new JsonObject(get(edgesUri.replace("/v1/edges", "/v1/graph") + "&workload=shop/payments")
        .body());
    assertThat(graph.getJsonArray("edges")).hasSize(touchingPayments.size());
    assertThat(graph.getJsonArray("nodes")).extracting(n -> ((JsonObject) n).getString("id"))
        .contains("shop/payments", "legacy/batch", "shop/checkout").doesNotContain("shop/redis", "unknown");
    HttpResponse<String> badWorkload = get(edgesUri + "&workload=payments");
    assertThat(badWorkload.statusCode()).isEqualTo(400);
    assertThat(badWorkload.body()).contains("workload: 'payments' (expected: namespace/workload, external/<host> or unknown)");
    assertThat(get(edgesUri + "&namespace=a/b").statusCode()).isEqualTo(400);

    // non-following: the newest matching flows this instance saw, oldest first
    JsonObject last = new JsonObject(get("/v1/flows?last=3&to=shop/payments").body());
    assertThat(last.getJsonArray("flows")).hasSize(3);
    List<JsonObject> all = new ArrayList<>(payments);
    assertThat(last.getJsonArray("flows").getJsonObject(2).getString("time"))
        .isEqualTo(all.get(all.size() - 1).getString("time"));

    // bad filters: 400 naming the parameter
    HttpResponse<String> bad = get("/v1/flows?verdict=MAYBE");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("verdict: 'MAYBE' (expected one of [FORWARDED, DROPPED, AUDIT, ERROR])");
    assertThat(get("/v1/flows?status=6xx").body()).contains("status: '6xx'");
    assertThat(get("/v1/flows?last=-1").statusCode()).isEqualTo(400);
    assertThat(get("/v1/flows?follow=yes").body()).contains("follow: 'yes' (expected: true or false)");

    // the garbage record went to the dead-letter topic, and the service is still ready
    try (KafkaConsumer<String, byte[]> dlq = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("g")),
        new StringDeserializer(), new ByteArrayDeserializer())) {
      TopicPartition p = new TopicPartition(flowsTopic + ".dlq", 0);
      dlq.assign(List.of(p));
      dlq.seekToBeginning(List.of(p));
      List<byte[]> dead = new ArrayList<>();
      await().atMost(BOUND).until(() -> {
        dlq.poll(Duration.ofMillis(200)).forEach(r -> dead.add(r.value()));
        return !dead.isEmpty();
      });
      assertThat(new String(dead.get(0), StandardCharsets.UTF_8)).isEqualTo("not avro at all");
    }
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
    String metrics = get("/metrics").body();
    assertThat(metrics).contains("lattice_telemetry_flows_undecodable_total{service=\"telemetry\"} 1.0",
        "lattice_telemetry_flow_clients{service=\"telemetry\"} 2.0", "kafka_stream_");
  }

  @Test
  void exportsIstioMetricsFromClosedWindowsOnMetrics() throws Exception {
    FlowGenerator generator = new FlowGenerator(13);
    List<FlowRecord> flows = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      flows.add(generator.next(T0.plusMillis(i * 100L)));
    }
    produce(flows, null);
    long counted = flows.stream().filter(FlowSignals::counted).count();
    String edgesUri = "/v1/edges?window=10s&from=" + T0.toEpochMilli() + "&to=" + T0.plus(Duration.ofMinutes(5))
        .toEpochMilli();
    // all aggregated before the closers: they must not overtake flows still in another partition's task
    // ignoreExceptions: a 503 (tasks restoring after an EOS abort on a loaded machine) has no "edges"; ask again
    await().atMost(BOUND).ignoreExceptions().until(() -> new JsonObject(get(edgesUri).body()).getJsonArray("edges").stream()
        .mapToLong(e -> ((JsonObject) e).getLong("requests")).sum() == counted);
    List<FlowRecord> closers = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      closers.add(FlowRecord.newBuilder(flows.get(0)).setDirection(dev.lattice.events.FlowDirection.INBOUND)
          .setSource(dev.lattice.events.FlowEndpoint.newBuilder(flows.get(0).getSource()).setNamespace("shop")
              .setWorkload("closer-" + i).build())
          .setTime(T0.plus(Duration.ofHours(1))).build());
    }
    produce(closers, null);
    for (String reporter : List.of("source", "destination")) {
      dev.lattice.events.FlowDirection direction = reporter.equals("source")
          ? dev.lattice.events.FlowDirection.OUTBOUND : dev.lattice.events.FlowDirection.INBOUND;
      long expected = flows.stream().filter(f -> f.getDirection() == direction && !FlowSignals.tcp(f)
          && FlowSignals.destination(f).equals("shop/payments")).count();
      assertThat(expected).isPositive();
      await().atMost(BOUND).untilAsserted(() -> assertThat(dev.lattice.telemetry.metrics.PromText.sum(
          dev.lattice.telemetry.metrics.PromText.parse(get("/metrics").body()), "istio_requests_total",
          Map.of("reporter", reporter, "destination_workload", "payments"))).isEqualTo(expected));
    }
    String text = get("/metrics").body();
    assertThat(text).contains("# TYPE istio_request_duration_milliseconds histogram",
        "istio_tcp_connections_opened_total{", "lattice_telemetry_istio_windows_total{service=\"telemetry\"}");
    assertThat(service.metricsFeed().undecodable()).isZero();
  }

  @Test
  void aSlowFollowerIsDroppedAndCountedWhileAFastOneGetsEverything() throws Exception {
    ConcurrentLinkedQueue<JsonObject> fast = follow("");
    try (Socket slow = new Socket()) {
      slow.setReceiveBufferSize(4096);
      slow.connect(new InetSocketAddress(running.host(), running.port()));
      OutputStream out = slow.getOutputStream();
      out.write(("GET /v1/flows?follow=true HTTP/1.1\r\nHost: " + running.host() + "\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      await().atMost(BOUND).until(() -> service.flows().followerCount() == 2);
      // the slow one never reads: its socket fills, then its 200-event buffer overflows
      FlowGenerator generator = new FlowGenerator(9);
      AtomicLong sent = new AtomicLong();
      while (service.flows().droppedClients() == 0 && sent.get() < 200_000) {
        List<FlowRecord> batch = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
          batch.add(generator.next(T0.plusMillis(sent.getAndIncrement())));
        }
        service.flows().publish(batch);
        // pace on the fast follower only: it must never be the one dropped
        await().atMost(BOUND).until(() -> fast.size() == sent.get() || service.flows().droppedClients() > 0);
      }
      assertThat(service.flows().droppedClients()).isEqualTo(1);
      await().atMost(BOUND).until(() -> fast.size() == sent.get());
      assertThat(service.flows().followerCount()).isEqualTo(1);
    }
    assertThat(get("/metrics").body()).contains(
        "lattice_telemetry_flow_clients_dropped_total{service=\"telemetry\"} 1.0");
  }
}
