package dev.lattice.telemetry.aggregate;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.kit.deadletter.DeadLetterDeserializationHandler;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

/**
 * A {@link TopologyTestDriver} around the telemetry topology: pipe flows (their record timestamp is the
 * producer's; event time comes from the flow), read the final metrics, read the dead-letter topic. Closes
 * the driver on {@link #close()}.
 */
public final class TelemetryDriver implements AutoCloseable {

  public static final TelemetryTopics TOPICS = TelemetryTopics.standard();

  final TopologyTestDriver driver;
  final TestInputTopic<String, FlowRecord> flows;
  final TestInputTopic<byte[], byte[]> rawFlows;
  final TestOutputTopic<String, EdgeMetrics> metrics;
  final TestOutputTopic<byte[], byte[]> deadLetters;

  public TelemetryDriver(TelemetryOptions options) {
    this(options, tempStateDir());
  }

  TelemetryDriver(TelemetryOptions options, Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "telemetry-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationHandler.class.getName());
    driver = new TopologyTestDriver(TelemetryTopology.build(TOPICS, options), props, Instant.EPOCH);
    flows = driver.createInputTopic(TOPICS.flows().name(), TOPICS.flows().keySerde().serializer(),
        TOPICS.flows().valueSerde().serializer());
    rawFlows = driver.createInputTopic(TOPICS.flows().name(), new ByteArraySerializer(), new ByteArraySerializer());
    metrics = driver.createOutputTopic(TOPICS.metrics().name(), TOPICS.metrics().keySerde().deserializer(),
        TOPICS.metrics().valueSerde().deserializer());
    deadLetters = driver.createOutputTopic(TOPICS.flows().deadLetterTopic(), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  static Path tempStateDir() {
    try {
      return Files.createTempDirectory("telemetry-ttd");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Pipes a flow keyed by its source, with the completion time as record timestamp. */
  public void pipe(FlowRecord flow) {
    flows.pipeInput(new TestRecord<>(FlowGenerator.key(flow), flow,
        Instant.ofEpochMilli(FlowSignals.completedAtMillis(flow))));
  }

  /** Every metrics record emitted so far, by topic key (later records replace earlier ones). */
  public Map<String, EdgeMetrics> drainMetrics() {
    Map<String, EdgeMetrics> out = new LinkedHashMap<>();
    metrics.readKeyValuesToList().forEach(kv -> {
      if (out.put(kv.key, kv.value) != null) {
        throw new AssertionError("metrics key emitted twice: " + kv.key);
      }
    });
    return out;
  }

  /** Sum of Streams' {@code dropped-records-total} over every task. */
  double droppedRecords() {
    return driver.metrics().entrySet().stream()
        .filter(e -> e.getKey().name().equals("dropped-records-total"))
        .mapToDouble(e -> ((Number) e.getValue().metricValue()).doubleValue()).sum();
  }

  @Override
  public void close() {
    driver.close();
  }
}
