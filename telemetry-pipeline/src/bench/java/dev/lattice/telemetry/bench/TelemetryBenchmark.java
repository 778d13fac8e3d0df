package dev.lattice.telemetry.bench;

import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.telemetry.TelemetryService;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Telemetry pipeline benchmark (issue 11 acceptance; not CI), one JVM, one embedded KRaft broker:
 * <ol>
 *   <li><b>raw</b>: the same pre-encoded flow records produced (the kit's producer properties: idempotent,
 *       acks=all, lz4) and consumed ({@code read_committed}) concurrently on a fresh topic with the flows
 *       topic's spec — Kafka's own ceiling for moving these bytes. Run before and after the pipeline.</li>
 *   <li><b>pipeline</b>: {@link TelemetryService} as {@code ./lattice up} runs it (exactly-once Streams,
 *       four scopes, two windows, stores + metrics topic + Istio feed), the same records produced the same
 *       way; done when the query API ({@code GET /v1/edges}) counts every counted flow.</li>
 *   <li><b>lag</b>: steady traffic at a fixed rate with event time = now, plus a probe flow every 100 ms on
 *       its own edge; lag = probe produced → its edge visible in {@code /v1/edges} (polled every 50 ms),
 *       and → its closed 10 s window on {@code lattice.metrics.v1} (read_committed).</li>
 * </ol>
 * Args: flows (100000), lag rate flows/s (2000), lag seconds (30).
 */
public final class TelemetryBenchmark {

  private static final HttpClient HTTP = HttpClient.newHttpClient();

  public static void main(String[] args) throws Exception {
    int flows = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
    int lagRate = args.length > 1 ? Integer.parseInt(args[1]) : 2_000;
    int lagSeconds = args.length > 2 ? Integer.parseInt(args[2]) : 30;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start()) {
      String bootstrap = broker.bootstrapServers();
      KafkaClientConfig kafka = KafkaClientConfig.of(bootstrap, "bench");
      FlowGenerator generator = new FlowGenerator(42);
      Instant base = Instant.now().minus(Duration.ofMinutes(3));
      List<byte[]> keys = new ArrayList<>(flows);
      List<byte[]> values = new ArrayList<>(flows);
      long counted = 0;
      var serde = LatticeTopics.FLOWS.valueSerde().serializer();
      long bytes = 0;
      for (int i = 0; i < flows; i++) {
        FlowRecord f = generator.next(base.plusNanos(i * (180_000_000_000L / flows)));
        keys.add(FlowGenerator.key(f).getBytes(java.nio.charset.StandardCharsets.UTF_8));
        byte[] v = serde.serialize("x", f);
        values.add(v);
        bytes += v.length;
        counted += FlowSignals.counted(f) ? 1 : 0;
      }
      out("%d flow records (%d counted once, %.0f B mean), broker %s", flows, counted, (double) bytes / flows,
          bootstrap);
      try (Admin admin = Admin.create(kafka.admin("bench"))) {
        // warm-up (JIT, broker): the first pass in a cold JVM runs several times slower; not reported
        out("raw warm-up: %,.0f flows/s (not reported)", raw(admin, kafka, "bench-raw-warmup", keys, values));
        double rawA = raw(admin, kafka, "bench-raw-a", keys, values);
        out("raw produce+consume A: %,.0f flows/s", rawA);
        double pipeline = pipelineAndLag(bootstrap, kafka, keys, values, counted, lagRate, lagSeconds);
        double rawB = raw(admin, kafka, "bench-raw-b", keys, values);
        out("raw produce+consume B: %,.0f flows/s", rawB);
        out("RESULT pipeline %,.0f flows/s; raw A %,.0f, raw B %,.0f; ratio to mean raw %.2f", pipeline, rawA, rawB,
            pipeline / ((rawA + rawB) / 2));
      }
    }
  }

  static double raw(Admin admin, KafkaClientConfig kafka, String topic, List<byte[]> keys, List<byte[]> values)
      throws Exception {
    var spec = LatticeTopics.renamed(LatticeTopics.FLOWS, topic).spec();
    new TopicProvisioner(admin).ensure(List.of(spec)).toCompletableFuture().get(60, TimeUnit.SECONDS);
    Map<String, Object> cprops = new HashMap<>(kafka.consumer(topic + "-group", "raw-consumer"));
    AtomicLong received = new AtomicLong();
    AtomicBoolean stop = new AtomicBoolean();
    long n = values.size();
    Thread consumer = new Thread(() -> {
      try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cprops, new ByteArrayDeserializer(),
          new ByteArrayDeserializer())) {
        c.subscribe(List.of(topic));
        while (!stop.get() && received.get() < n) {
          received.addAndGet(c.poll(Duration.ofMillis(100)).count());
        }
      }
    });
    consumer.start();
    Thread.sleep(3_000); // group joined before the clock starts
    long start = System.nanoTime();
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producer("raw-producer"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      for (int i = 0; i < n; i++) {
        p.send(new ProducerRecord<>(topic, keys.get(i), values.get(i)));
      }
      p.flush();
    }
    consumer.join(TimeUnit.SECONDS.toMillis(120));
    stop.set(true);
    double seconds = (System.nanoTime() - start) / 1e9;
    if (received.get() < n) {
      out("raw %s: only %d of %d received in 120 s", topic, received.get(), n);
    }
    return received.get() / seconds;
  }

  static double pipelineAndLag(String bootstrap, KafkaClientConfig kafka, List<byte[]> keys, List<byte[]> values,
      long counted, int lagRate, int lagSeconds) throws Exception {
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", bootstrap);
    cfg.put("telemetry.http.port", "0");
    cfg.put("telemetry.topics.flows", "bench-flows");
    cfg.put("telemetry.topics.metrics", "bench-metrics");
    cfg.put("telemetry.application.id", "bench-telemetry");
    cfg.put("telemetry.data.dir", Files.createTempDirectory("bench-telemetry").toString());
    // the burst spans 3 min of event time over 12 partitions: a grace that covers their skew
    cfg.put("telemetry.windows.grace", "5m");
    // extra service settings, e.g. -Dbench.cfg=kafka.streams.commit.interval.ms=1000,kafka.streams.num.stream.threads=2
    for (String kv : System.getProperty("bench.cfg", "").split(",")) {
      if (!kv.isBlank()) {
        cfg.put(kv.substring(0, kv.indexOf('=')).trim(), kv.substring(kv.indexOf('=') + 1).trim());
      }
    }
    out("pipeline settings: %s", cfg.entrySet().stream().filter(e -> e.getKey().startsWith("kafka.streams")
        || e.getKey().startsWith("telemetry.windows")).sorted(Map.Entry.comparingByKey()).toList());
    try (ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(cfg))) {
      RunningService svc = launcher.start(new TelemetryService()).toCompletionStage().toCompletableFuture()
          .get(120, TimeUnit.SECONDS);
      long readyBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (status(svc, "/readyz") != 200 && System.nanoTime() < readyBy) {
        Thread.sleep(200);
      }
      out("pipeline ready");
      long from = Instant.now().minus(Duration.ofMinutes(10)).toEpochMilli();
      long to = Instant.now().plus(Duration.ofMinutes(10)).toEpochMilli();
      String edges = "/v1/edges?window=1m&from=" + from + "&to=" + to;
      long start = System.nanoTime();
      try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producer("pipeline-producer"),
          new ByteArraySerializer(), new ByteArraySerializer())) {
        for (int i = 0; i < values.size(); i++) {
          p.send(new ProducerRecord<>("bench-flows", keys.get(i), values.get(i)));
        }
        p.flush();
      }
      double produced = (System.nanoTime() - start) / 1e9;
      long seen = 0;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
      while (seen < counted && System.nanoTime() < deadline) {
        Thread.sleep(250);
        seen = requests(svc, edges, null);
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      out("pipeline: %d/%d counted flows visible in /v1/edges after %.1f s (produce took %.1f s)", seen, counted,
          seconds, produced);
      double rate = values.size() / seconds;
      out("pipeline: %,.0f flows/s", rate);
      lag(svc, kafka, lagRate, lagSeconds);
      return rate;
    }
  }

  static void lag(RunningService svc, KafkaClientConfig kafka, int rate, int seconds) throws Exception {
    Map<Integer, Long> sentAt = new ConcurrentHashMap<>();
    Map<Integer, Long> visibleAt = new ConcurrentHashMap<>();
    Map<Integer, Long> closedAt = new ConcurrentHashMap<>();
    AtomicBoolean stop = new AtomicBoolean();
    Thread poller = new Thread(() -> {
      while (!stop.get()) {
        try {
          JsonObject answer = new JsonObject(get(svc, "/v1/edges?window=10s&range=2m&namespace=bench"));
          long now = System.nanoTime();
          answer.getJsonArray("edges").forEach(o -> {
            String src = ((JsonObject) o).getString("source");
            visibleAt.putIfAbsent(Integer.parseInt(src.substring("bench/probe-".length())), now);
          });
          Thread.sleep(50);
        } catch (Exception e) {
          // 503 while rebalancing, or shutting down: next poll
        }
      }
    }, "lag-poller");
    Map<String, Object> cprops = new HashMap<>(kafka.consumer(null, "lag-metrics"));
    cprops.remove("group.id");
    Thread metrics = new Thread(() -> {
      try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(cprops, new StringDeserializer(),
          new ByteArrayDeserializer())) {
        var parts = c.partitionsFor("bench-metrics").stream()
            .map(pi -> new org.apache.kafka.common.TopicPartition(pi.topic(), pi.partition())).toList();
        c.assign(parts);
        c.seekToEnd(parts);
        parts.forEach(c::position);
        while (!stop.get()) {
          for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(50))) {
            if (r.key().startsWith("edge|bench/probe-") && r.key().contains("|10s|")) {
              String src = r.key().split("\\|")[1];
              closedAt.putIfAbsent(Integer.parseInt(src.substring("bench/probe-".length())), System.nanoTime());
            }
          }
        }
      }
    }, "lag-metrics");
    poller.start();
    metrics.start();
    Thread.sleep(1_000);
    FlowGenerator generator = new FlowGenerator(7);
    var serde = LatticeTopics.FLOWS.valueSerde().serializer();
    long tailSeconds = 20; // background traffic after the last probe: stream time passes its window + grace
    long begin = System.nanoTime();
    long sent = 0;
    int probes = 0;
    try (KafkaProducer<String, byte[]> p = new KafkaProducer<>(kafka.producer("lag-producer"),
        new org.apache.kafka.common.serialization.StringSerializer(), new ByteArraySerializer())) {
      while (true) {
        long elapsed = System.nanoTime() - begin;
        if (elapsed > TimeUnit.SECONDS.toNanos(seconds + tailSeconds)) {
          break;
        }
        long due = elapsed * rate / 1_000_000_000L;
        while (sent < due) {
          FlowRecord f = generator.next(Instant.now());
          p.send(new ProducerRecord<>("bench-flows", FlowGenerator.key(f), serde.serialize("bench-flows", f)));
          sent++;
        }
        if (elapsed < TimeUnit.SECONDS.toNanos(seconds) && elapsed / 100_000_000L >= probes) {
          FlowRecord probe = FlowRecord.newBuilder(generator.next(Instant.now()))
              .setDirection(dev.lattice.events.FlowDirection.INBOUND).setLatencyMicros(1_000)
              .setSource(FlowEndpoint.newBuilder().setNamespace("bench").setWorkload("probe-" + probes)
                  .setIp("10.9.9.9").setPort(1).build())
              .setTime(Instant.now().minusMillis(1)).build();
          sentAt.put(probes, System.nanoTime());
          p.send(new ProducerRecord<>("bench-flows", FlowGenerator.key(probe), serde.serialize("bench-flows", probe)));
          probes++;
        }
        Thread.sleep(1);
      }
    }
    Thread.sleep(5_000);
    stop.set(true);
    poller.join(5_000);
    metrics.join(5_000);
    out("lag: %d background flows at %d/s for %d s (+%d s tail), %d probes", sent, rate, seconds, tailSeconds,
        probes);
    report("produced → visible in /v1/edges", sentAt, visibleAt);
    report("produced → closed 10 s window on lattice.metrics.v1", sentAt, closedAt);
  }

  static void report(String what, Map<Integer, Long> sent, Map<Integer, Long> seen) {
    double[] lags = sent.entrySet().stream().filter(e -> seen.containsKey(e.getKey()))
        .mapToDouble(e -> (seen.get(e.getKey()) - e.getValue()) / 1e6).sorted().toArray();
    if (lags.length == 0) {
      out("lag %s: none seen of %d", what, sent.size());
      return;
    }
    out("lag %s: %d/%d seen, p50 %.0f ms, p99 %.0f ms, max %.0f ms", what, lags.length, sent.size(),
        pct(lags, 0.5), pct(lags, 0.99), lags[lags.length - 1]);
  }

  static double pct(double[] sorted, double q) {
    return sorted[(int) Math.max(0, Math.ceil(q * sorted.length) - 1)];
  }

  static long requests(RunningService svc, String path, String unused) {
    try {
      long sum = 0;
      for (Object o : new JsonObject(get(svc, path)).getJsonArray("edges")) {
        sum += ((JsonObject) o).getLong("requests");
      }
      return sum;
    } catch (Exception e) {
      return -1;
    }
  }

  static String get(RunningService svc, String path) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(svc.url(path)).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(path + ": " + r.statusCode());
    }
    return r.body();
  }

  static int status(RunningService svc, String path) {
    try {
      return HTTP.send(HttpRequest.newBuilder(svc.url(path)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  static void out(String format, Object... args) {
    System.out.printf("%s  %s%n", Instant.now(), String.format(format, args));
    System.out.flush();
  }
}
