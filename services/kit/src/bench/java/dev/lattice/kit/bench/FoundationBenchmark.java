package dev.lattice.kit.bench;

import dev.lattice.events.FlowRecord;
import dev.lattice.events.ResourceEvent;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicCatalog;
import dev.lattice.schemas.serde.AvroSerde;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Foundation benchmark, not part of CI: AvroSerde vs plain Avro binary, EventPublisher vs a raw
 * {@code KafkaProducer<byte[],byte[]>} (and Kafka's own ProducerPerformance, started as a child JVM), and
 * TopicFold replay vs a raw byte-polling consumer, all on one embedded KRaft broker on loopback, in one run.
 * Every loop is bounded in time and count; the broker stops at the end. Prints lines for run.sh.
 *
 * <p>Arguments: {@code flows resources rounds toolsClasspath(or "-")}. Single-threaded driver; not reusable.
 */
public final class FoundationBenchmark {

  private static final int IN_FLIGHT = 5_000;
  private static final Duration PHASE_LIMIT = Duration.ofSeconds(90);
  private static final int SERDE_POOL = 1024;
  private static final int PERF_WARMUP = 20_000;

  private FoundationBenchmark() {}

  public static void main(String[] args) throws Exception {
    int flows = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    int resources = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 2;
    String toolsCp = args.length > 3 ? args[3] : "-";

    String sections = System.getenv().getOrDefault("BENCH_SECTIONS", "serde,publish,fold");
    if (sections.contains("serde")) {
      serdeSection();
    }

    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start()) {
      String bootstrap = broker.bootstrapServers();
      out("broker %s", bootstrap);
      KafkaClientConfig config = KafkaClientConfig.of(bootstrap, "bench");
      try (Admin admin = Admin.create(config.admin("admin"))) {
        if (sections.contains("publish")) {
          publishSection(admin, config, flows, rounds, toolsCp);
        }
        if (sections.contains("fold")) {
          foldSection(admin, config, resources, rounds);
        }
      }
    }
    out("done: broker stopped");
  }

  // ---------------------------------------------------------------- 1. serde

  private static void serdeSection() throws IOException {
    serde("ResourceEvent", ResourceEvent.class, BenchEvents::resource);
    serde("FlowRecord", FlowRecord.class, BenchEvents::flow);
  }

  private static <T extends SpecificRecord> void serde(String name, Class<T> type, IntFunction<T> make)
      throws IOException {
    AvroSerde<T> serde = AvroSerde.of(type);
    PlainAvro<T> plain = new PlainAvro<>(serde);
    List<T> events = new ArrayList<>();
    for (int i = 0; i < SERDE_POOL; i++) {
      events.add(make.apply(i));
    }
    byte[][] framed = new byte[SERDE_POOL][];
    byte[][] bare = new byte[SERDE_POOL][];
    long framedBytes = 0;
    long bareBytes = 0;
    for (int i = 0; i < SERDE_POOL; i++) {
      framed[i] = serde.encode(events.get(i));
      bare[i] = plain.encode(events.get(i));
      framedBytes += framed[i].length;
      bareBytes += bare[i].length;
      if (!serde.decode(framed[i]).equals(plain.decode(bare[i]))) {
        throw new IllegalStateException("serde and plain Avro disagree on " + name + " " + i);
      }
    }
    out("SERDE %s bytes avroserde=%.1f plain=%.1f", name, framedBytes / (double) SERDE_POOL,
        bareBytes / (double) SERDE_POOL);
    // Interleaved: each round measures all four operations one after the other.
    Op[] ops = {
        i -> serde.encode(events.get(i)).length,
        i -> plain.encode(events.get(i)).length,
        i -> serde.decode(framed[i]).hashCode() & 1,
        i -> plain.decode(bare[i]).hashCode() & 1,
    };
    String[] opNames = {"encode avroserde", "encode plain", "decode avroserde", "decode plain"};
    for (Op op : ops) {
      measure(op, 2_000); // warm-up
    }
    int measuredRounds = 5;
    double[][] rates = new double[ops.length][measuredRounds];
    for (int r = 0; r < measuredRounds; r++) {
      for (int o = 0; o < ops.length; o++) {
        rates[o][r] = measure(ops[o], 1_000);
      }
    }
    for (int o = 0; o < ops.length; o++) {
      double[] sorted = rates[o].clone();
      Arrays.sort(sorted);
      out("SERDE %s %s ops/s median=%.0f best=%.0f worst=%.0f", name, opNames[o], sorted[measuredRounds / 2],
          sorted[measuredRounds - 1], sorted[0]);
    }
  }

  @FunctionalInterface
  private interface Op {
    int run(int i) throws IOException;
  }

  /** Runs {@code op} for about {@code millis} (and at most 50M calls); returns calls per second. */
  private static double measure(Op op, long millis) throws IOException {
    long sink = 0;
    long calls = 0;
    long start = System.nanoTime();
    long end = start + TimeUnit.MILLISECONDS.toNanos(millis);
    long now;
    do {
      for (int k = 0; k < 256; k++) {
        sink += op.run((int) (calls++ & (SERDE_POOL - 1)));
      }
      now = System.nanoTime();
    } while (now < end && calls < 50_000_000L);
    if (sink == 42) {
      System.out.print("");
    }
    return calls / ((now - start) / 1e9);
  }

  /** The peer: plain Avro binary (no single-object header, no fingerprint lookup), same reader/writer model. */
  private static final class PlainAvro<T extends SpecificRecord> {
    private final SpecificDatumWriter<T> writer;
    private final SpecificDatumReader<T> reader;
    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream(1024);
    private BinaryEncoder encoder;

    PlainAvro(AvroSerde<T> serde) {
      this.writer = new SpecificDatumWriter<>(serde.schema());
      this.reader = new SpecificDatumReader<>(serde.schema(), serde.schema());
    }

    byte[] encode(T event) throws IOException {
      buffer.reset();
      encoder = EncoderFactory.get().directBinaryEncoder(buffer, encoder);
      writer.write(event, encoder);
      return buffer.toByteArray();
    }

    T decode(byte[] bytes) throws IOException {
      BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, 0, bytes.length, null);
      return reader.read(null, decoder);
    }
  }

  // ---------------------------------------------------------------- 2. publish

  private static void publishSection(Admin admin, KafkaClientConfig config, int flows, int rounds, String toolsCp)
      throws Exception {
    AvroSerde<FlowRecord> serde = AvroSerde.of(FlowRecord.class);
    FlowRecord[] events = new FlowRecord[SERDE_POOL];
    byte[][] keys = new byte[SERDE_POOL][];
    byte[][] values = new byte[SERDE_POOL][];
    long bytes = 0;
    for (int i = 0; i < SERDE_POOL; i++) {
      events[i] = BenchEvents.flow(i);
      keys[i] = BenchEvents.flowKey(i).getBytes(StandardCharsets.UTF_8);
      values[i] = serde.encode(events[i]);
      bytes += values[i].length;
    }
    int recordSize = (int) Math.round(bytes / (double) SERDE_POOL);
    Vertx vertx = Vertx.vertx();
    try {
      // Warm-up (not reported): 20k records each.
      publisher(vertx, admin, config, "bench.flows.warm.publisher", Math.min(flows, 20_000), events);
      raw(admin, config, "bench.flows.warm.raw", Math.min(flows, 20_000), keys, values);
      rawSerializing(admin, config, "bench.flows.warm.rawser", Math.min(flows, 20_000), events);
      publisherBefore(vertx, admin, config, "bench.flows.warm.before", Math.min(flows, 20_000), events);
      for (int r = 1; r <= rounds; r++) {
        // Interleaved, the order rotating per round so no contender always runs first.
        List<String> order = List.of("publisher", "raw+serde", "publisher-before", "raw");
        for (int k = 0; k < order.size(); k++) {
          String who = order.get((k + r - 1) % order.size());
          runContender(vertx, admin, config, r, who, flows, events, keys, values);
        }
        // The same contenders at a fixed offered load well below saturation: ack latency without queueing.
        pacedRate = PACED_RATE;
        for (int k = 0; k < order.size(); k++) {
          String who = order.get((k + r - 1) % order.size());
          runContender(vertx, admin, config, r, who, PACED_RATE * PACED_SECONDS, events, keys, values);
        }
        pacedRate = 0;
        if (!"-".equals(toolsCp)) {
          producerPerformance(admin, config, "bench.flows.perf.r" + r, flows, recordSize, toolsCp, r);
        }
      }
      logSizes(admin, "bench.flows.");
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
  }

  private record PublishResult(int acked, double seconds, long[] latencyNanos) {}

  /** Offered load of the current phase in records/s; 0 = as fast as the in-flight bound allows. */
  private static volatile int pacedRate;

  /** When record {@code i} of a paced phase is due, in System.nanoTime() terms (start = phase start). */
  private static long due(long start, int i) {
    return pacedRate == 0 ? start : start + (long) (i * (1e9 / pacedRate));
  }

  /** Waits (caller thread) until {@code due}; for the raw peers. */
  private static void awaitDue(long due) {
    long wait;
    while ((wait = due - System.nanoTime()) > 0) {
      java.util.concurrent.locks.LockSupport.parkNanos(wait);
    }
  }

  private static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
        .getOperatingSystemMXBean()).getProcessCpuTime();
  }

  @FunctionalInterface
  private interface Contender {
    PublishResult run() throws Exception;
  }

  /** Runs one contender and prints its line with the whole process's CPU time per record (broker included). */
  private static void timed(int round, String who, Contender contender) throws Exception {
    long cpu0 = processCpuNanos();
    PublishResult result = contender.run();
    long cpu = processCpuNanos() - cpu0;
    report(round, who + (pacedRate == 0 ? "" : " paced=" + pacedRate + "/s"), result);
    out("  cpu %s: %.1f us per record (process, broker included)", who, cpu / 1e3 / Math.max(1, result.acked()));
  }

  private static final int PACED_RATE = 5_000;
  private static final int PACED_SECONDS = 6;

  private static void runContender(Vertx vertx, Admin admin, KafkaClientConfig config, int r, String who, int count,
      FlowRecord[] events, byte[][] keys, byte[][] values) throws Exception {
    String suffix = (pacedRate == 0 ? "" : "p") + ".r" + r;
    switch (who) {
      case "publisher" -> timed(r, who,
          () -> publisher(vertx, admin, config, "bench.flows.publisher" + suffix, count, events));
      case "publisher-before" -> timed(r, who,
          () -> publisherBefore(vertx, admin, config, "bench.flows.before" + suffix, count, events));
      case "raw+serde" -> timed(r, who,
          () -> rawSerializing(admin, config, "bench.flows.rawser" + suffix, count, events));
      default -> timed(r, who, () -> raw(admin, config, "bench.flows.raw" + suffix, count, keys, values));
    }
  }

  private static void report(int round, String who, PublishResult result) {
    long[] l = result.latencyNanos();
    Arrays.sort(l);
    out("PUBLISH round=%d %s records=%d rate=%.0f rec/s p50=%.2f ms p99=%.2f ms max=%.2f ms", round, who,
        result.acked(), result.acked() / result.seconds(), l[l.length / 2] / 1e6, l[(int) (l.length * 0.99)] / 1e6,
        l[l.length - 1] / 1e6);
  }

  /** Creates {@code name} with {@code spec}'s partitions and configs (the catalog's own, single broker). */
  private static void createTopic(Admin admin, Topic<String, ?> spec, String name) throws Exception {
    NewTopic topic = new NewTopic(name, spec.spec().partitions(), (short) 1)
        .configs(spec.spec().topicConfigs(TopicCatalog.minInsyncReplicas(1)));
    admin.createTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
    awaitLeaders(admin, name, spec.spec().partitions());
  }

  /**
   * Waits until every partition's leader answers ListOffsets. Producing the instant a topic exists can
   * race the broker opening its partitions: the first batch gets NOT_LEADER_OR_FOLLOWER, a later batch
   * lands, the retried first batch then fails with OutOfOrderSequenceException and the idempotent producer
   * stalls on that partition until delivery.timeout.ms (seen here on Kafka 4.4.0 without this wait).
   */
  private static void awaitLeaders(Admin admin, String name, int partitions) throws Exception {
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      request.put(new TopicPartition(name, p), OffsetSpec.latest());
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (true) {
      try {
        admin.listOffsets(request).all().get(10, TimeUnit.SECONDS);
        return;
      } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("partitions of " + name + " not ready within 30 s", e);
        }
        Thread.sleep(100);
      }
    }
  }

  /** EventPublisher, driven from a Vert.x event-loop context, at most IN_FLIGHT unacknowledged. */
  private static PublishResult publisher(Vertx vertx, Admin admin, KafkaClientConfig config, String topicName,
      int count, FlowRecord[] events) throws Exception {
    EventPublisher p = EventPublisher.create(vertx, config, "publisher-" + topicName);
    return publisher(vertx, admin, topicName, count, events, p::publish, p::close);
  }

  /** The same run with main's EventPublisher before issue 13 (bench-only copy). */
  private static PublishResult publisherBefore(Vertx vertx, Admin admin, KafkaClientConfig config, String topicName,
      int count, FlowRecord[] events) throws Exception {
    EventPublisherBefore p = EventPublisherBefore.create(vertx, config, "before-" + topicName);
    return publisher(vertx, admin, topicName, count, events, p::publish, p::close);
  }

  @FunctionalInterface
  private interface Publish {
    io.vertx.core.Future<org.apache.kafka.clients.producer.RecordMetadata> publish(Topic<String, FlowRecord> topic,
        String key, FlowRecord value);
  }

  private static PublishResult publisher(Vertx vertx, Admin admin, String topicName, int count, FlowRecord[] events,
      Publish publisher, java.util.function.Supplier<io.vertx.core.Future<Void>> close) throws Exception {
    Topic<String, FlowRecord> topic = LatticeTopics.renamed(LatticeTopics.FLOWS, topicName);
    createTopic(admin, LatticeTopics.FLOWS, topicName);
    long[] latency = new long[count];
    CompletableFuture<PublishResult> done = new CompletableFuture<>();
    long deadline = System.nanoTime() + PHASE_LIMIT.toNanos();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> new Object() {
      int issued;
      int acked;
      int failed;
      final long start = System.nanoTime();

      boolean timerSet;

      void pump() {
        while (issued < count && issued - acked - failed < IN_FLIGHT && System.nanoTime() < deadline) {
          if (due(start, issued) > System.nanoTime()) {
            if (!timerSet) {
              timerSet = true;
              vertx.setTimer(1, id -> {
                timerSet = false;
                pump();
              });
            }
            return;
          }
          int i = issued++;
          long t0 = System.nanoTime();
          publisher.publish(topic, BenchEvents.flowKey(i & (SERDE_POOL - 1)), events[i & (SERDE_POOL - 1)])
              .onComplete(ar -> {
                if (ar.succeeded()) {
                  latency[acked++] = System.nanoTime() - t0;
                } else {
                  failed++;
                  if (failed == 1) {
                    err("publisher send failed: " + ar.cause());
                  }
                }
                if (acked + failed == issued && (issued == count || System.nanoTime() >= deadline)) {
                  done.complete(new PublishResult(acked, (System.nanoTime() - start) / 1e9,
                      Arrays.copyOf(latency, acked)));
                } else {
                  pump();
                }
              });
        }
      }
    }.pump());
    PublishResult result = done.get(PHASE_LIMIT.toSeconds() + 30, TimeUnit.SECONDS);
    awaitFuture(close.get());
    return result;
  }

  /** The peer: a raw KafkaProducer with the same settings and pre-serialized bytes, same in-flight bound. */
  private static PublishResult raw(Admin admin, KafkaClientConfig config, String topicName, int count,
      byte[][] keys, byte[][] values) throws Exception {
    createTopic(admin, LatticeTopics.FLOWS, topicName);
    long[] latency = new long[count];
    AtomicInteger acked = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Semaphore window = new Semaphore(IN_FLIGHT);
    long deadline = System.nanoTime() + PHASE_LIMIT.toNanos();
    long start = System.nanoTime();
    int issued = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config.producer("raw-" + topicName),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      while (issued < count && System.nanoTime() < deadline) {
        if (!window.tryAcquire(1, TimeUnit.SECONDS)) {
          continue;
        }
        awaitDue(due(start, issued));
        int i = issued++ & (SERDE_POOL - 1);
        long t0 = System.nanoTime();
        producer.send(new ProducerRecord<>(topicName, keys[i], values[i]), (md, e) -> {
          if (e == null) {
            latency[acked.getAndIncrement()] = System.nanoTime() - t0;
          } else if (failed.incrementAndGet() == 1) {
            err("raw send failed: " + e);
          }
          window.release();
        });
      }
      producer.flush();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new PublishResult(acked.get(), seconds, Arrays.copyOf(latency, acked.get()));
  }

  /**
   * The peer a user of plain Kafka writes: a raw KafkaProducer with the same settings and the topic's own
   * Kafka serializers (AvroSerde), encoding on the caller's thread; same in-flight bound.
   */
  private static PublishResult rawSerializing(Admin admin, KafkaClientConfig config, String topicName, int count,
      FlowRecord[] events) throws Exception {
    Topic<String, FlowRecord> topic = LatticeTopics.renamed(LatticeTopics.FLOWS, topicName);
    createTopic(admin, LatticeTopics.FLOWS, topicName);
    long[] latency = new long[count];
    AtomicInteger acked = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    Semaphore window = new Semaphore(IN_FLIGHT);
    long deadline = System.nanoTime() + PHASE_LIMIT.toNanos();
    long start = System.nanoTime();
    int issued = 0;
    try (KafkaProducer<String, FlowRecord> producer = new KafkaProducer<>(config.producer("rawser-" + topicName),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      while (issued < count && System.nanoTime() < deadline) {
        if (!window.tryAcquire(1, TimeUnit.SECONDS)) {
          continue;
        }
        awaitDue(due(start, issued));
        int i = issued++ & (SERDE_POOL - 1);
        long t0 = System.nanoTime();
        producer.send(new ProducerRecord<>(topicName, BenchEvents.flowKey(i), events[i]), (md, e) -> {
          if (e == null) {
            latency[acked.getAndIncrement()] = System.nanoTime() - t0;
          } else if (failed.incrementAndGet() == 1) {
            err("raw+serde send failed: " + e);
          }
          window.release();
        });
      }
      producer.flush();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    return new PublishResult(acked.get(), seconds, Arrays.copyOf(latency, acked.get()));
  }

  /** Kafka's own kafka-producer-perf-test (ProducerPerformance) in a child JVM, same producer settings. */
  private static void producerPerformance(Admin admin, KafkaClientConfig config, String topicName, int count,
      int recordSize, String toolsCp, int round) throws Exception {
    createTopic(admin, LatticeTopics.FLOWS, topicName);
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx512m", "-XX:+UseSerialGC", "-cp", toolsCp, "org.apache.kafka.tools.ProducerPerformance",
        "--topic", topicName, "--num-records", Integer.toString(count + PERF_WARMUP),
        "--warmup-records", Integer.toString(PERF_WARMUP), "--record-size", Integer.toString(recordSize),
        "--key-distribution", "range", "--record-key-range", Integer.toString(BenchEvents.FLOW_KEYS),
        "--throughput", "-1", "--producer-props"));
    Map<String, Object> props = config.producer("perf");
    props.forEach((k, v) -> cmd.add(k + "=" + v));
    Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    List<String> summaries = new ArrayList<>();
    try (var reader = process.inputReader()) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (line.contains("records sent") && summaries.size() < 1_000) {
          summaries.add(line.trim());
        }
      }
    }
    if (!process.waitFor(PHASE_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      process.destroyForcibly();
      err("ProducerPerformance timed out");
    }
    for (String summary : summaries.subList(Math.max(0, summaries.size() - 2), summaries.size())) {
      out("PUBLISH round=%d producer-perf-test record-size=%d: %s", round, recordSize, summary);
    }
  }

  /** Bytes on the broker's disk per topic (what lz4 batches really cost on the wire), for the fairness check. */
  private static void logSizes(Admin admin, String prefix) throws Exception {
    Map<String, Long> perTopic = new java.util.TreeMap<>();
    Map<String, Long> counts = new java.util.TreeMap<>();
    admin.describeLogDirs(List.of(1)).allDescriptions().get(30, TimeUnit.SECONDS).values().forEach(dirs ->
        dirs.values().forEach(dir -> dir.replicaInfos().forEach((tp, info) -> {
          if (tp.topic().startsWith(prefix)) {
            perTopic.merge(tp.topic(), info.size(), Long::sum);
          }
        })));
    Map<TopicPartition, OffsetSpec> request = new HashMap<>();
    for (String topic : perTopic.keySet()) {
      for (int p = 0; p < LatticeTopics.FLOWS.spec().partitions(); p++) {
        request.put(new TopicPartition(topic, p), OffsetSpec.latest());
      }
    }
    admin.listOffsets(request).all().get(30, TimeUnit.SECONDS)
        .forEach((tp, info) -> counts.merge(tp.topic(), info.offset(), Long::sum));
    perTopic.forEach((topic, size) -> out("DISK %s records=%d bytes=%d bytes/record=%.1f", topic, counts.get(topic),
        size, size / (double) Math.max(1, counts.get(topic))));
  }

  // ---------------------------------------------------------------- 3. fold

  private static void foldSection(Admin admin, KafkaClientConfig config, int resources, int rounds) throws Exception {
    String topicName = "bench.resources.fold";
    createTopic(admin, LatticeTopics.RESOURCES, topicName);
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES, topicName);
    AvroSerde<ResourceEvent> serde = AvroSerde.of(ResourceEvent.class);
    long totalBytes = 0;
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(config.producer("fold-loader"),
        new ByteArraySerializer(), new ByteArraySerializer())) {
      long deadline = System.nanoTime() + PHASE_LIMIT.toNanos();
      for (int i = 0; i < resources && System.nanoTime() < deadline; i++) {
        byte[] value = serde.encode(BenchEvents.resource(i));
        totalBytes += value.length;
        producer.send(new ProducerRecord<>(topicName, BenchEvents.resourceKey(i).getBytes(StandardCharsets.UTF_8),
            value));
      }
      producer.flush();
    }
    out("FOLD loaded %d ResourceEvents (%.0f bytes each) into %s", resources, totalBytes / (double) resources,
        topicName);
    Map<String, Object> consumerConfig = config.consumer(null, "fold-bench");
    try (DeadLetterPublisher deadLetters = DeadLetterPublisher.create(config.producer("fold-dlq"))) {
      for (int r = 1; r <= rounds + 1; r++) {
        String tag = r == 1 ? "warm-up" : "round=" + (r - 1);
        boolean rawFirst = r % 2 == 0;
        if (rawFirst) {
          rawReplay(consumerConfig, topicName, resources, tag, null);
          rawReplay(consumerConfig, topicName, resources, tag, serde);
          foldReplay(topic, consumerConfig, deadLetters, resources, tag);
        } else {
          foldReplay(topic, consumerConfig, deadLetters, resources, tag);
          rawReplay(consumerConfig, topicName, resources, tag, serde);
          rawReplay(consumerConfig, topicName, resources, tag, null);
        }
      }
    }
  }

  private static void foldReplay(Topic<String, ResourceEvent> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters, int resources, String tag) throws Exception {
    long start = System.nanoTime();
    try (TopicFold<ResourceEvent> fold = TopicFold.builder(topic, consumerConfig, deadLetters).build().start()) {
      fold.whenCaughtUp().toCompletableFuture().get(PHASE_LIMIT.toSeconds(), TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - start) / 1e9;
      int keys = fold.snapshot().size();
      if (keys != resources) {
        throw new IllegalStateException("fold caught up with " + keys + " keys, expected " + resources);
      }
      out("FOLD %s topicfold records=%d keys=%d dlq=%d seconds=%.3f rate=%.0f rec/s", tag, fold.applied(), keys,
          fold.deadLettered(), seconds, fold.applied() / seconds);
    }
  }

  /**
   * The peer: a consumer (same settings, assign + seek) that only polls bytes up to the end offsets; with
   * {@code decoder} it also decodes every value (splits the fold's cost into decoding and the rest).
   */
  private static void rawReplay(Map<String, Object> consumerConfig, String topicName, int resources, String tag,
      AvroSerde<ResourceEvent> decoder) {
    long start = System.nanoTime();
    long deadline = start + PHASE_LIMIT.toNanos();
    long records = 0;
    long bytes = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfig, new ByteArrayDeserializer(),
        new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo p : consumer.partitionsFor(topicName)) {
        partitions.add(new TopicPartition(p.topic(), p.partition()));
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (System.nanoTime() < deadline && !reached(consumer, end)) {
        for (ConsumerRecord<byte[], byte[]> record : consumer.poll(Duration.ofMillis(200))) {
          records++;
          bytes += record.value().length;
          if (decoder != null && decoder.decode(record.value()) == null) {
            throw new IllegalStateException("null decode");
          }
        }
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    out("FOLD %s %s records=%d bytes=%d seconds=%.3f rate=%.0f rec/s", tag,
        decoder == null ? "raw-consumer" : "raw-consumer+decode", records, bytes, seconds, records / seconds);
    if (records != resources) {
      throw new IllegalStateException("raw consumer read " + records + " records, expected " + resources);
    }
  }

  private static boolean reached(KafkaConsumer<byte[], byte[]> consumer, Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  // ---------------------------------------------------------------- helpers

  private static void awaitFuture(io.vertx.core.Future<?> future) throws Exception {
    future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void out(String format, Object... args) {
    System.out.println(String.format(java.util.Locale.ROOT, format, args));
    System.out.flush();
  }

  private static void err(String message) {
    System.err.println(message);
  }
}
