package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.deadletter.DeadLetterDeserializationHandler;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A {@link TopologyTestDriver} around the compiler topology with explicit record timestamps: pipe
 * resources and workloads, read what one step emitted, keep a compacted view of the config topic.
 * Closes the driver on {@link #close()}.
 */
final class CompilerDriver implements AutoCloseable {

  static final CompilerTopics TOPICS = CompilerTopics.standard();

  final TopologyTestDriver driver;
  private final TestInputTopic<String, ResourceEvent> resources;
  private final TestInputTopic<String, WorkloadEndpoint> registry;
  private final TestOutputTopic<String, ConfigResource> config;
  /** Compacted view of everything emitted so far. */
  final Map<String, ConfigResource> compacted = new TreeMap<>();
  private Instant clock = MeshFixtures.T0;

  CompilerDriver(CompilerOptions options) {
    this(options, tempStateDir());
  }

  CompilerDriver(CompilerOptions options, Path stateDir) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "policy-compiler-test");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationHandler.class.getName());
    driver = new TopologyTestDriver(CompilerTopology.build(TOPICS, options), props, clock);
    resources = driver.createInputTopic(TOPICS.resources().name(),
        TOPICS.resources().keySerde().serializer(), TOPICS.resources().valueSerde().serializer());
    registry = driver.createInputTopic(TOPICS.registry().name(),
        TOPICS.registry().keySerde().serializer(), TOPICS.registry().valueSerde().serializer());
    config = driver.createOutputTopic(TOPICS.config().name(),
        TOPICS.config().keySerde().deserializer(), TOPICS.config().valueSerde().deserializer());
  }

  static Path tempStateDir() {
    try {
      return Files.createTempDirectory("compiler-ttd");
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private Instant tick() {
    clock = clock.plusSeconds(1);
    return clock;
  }

  /** Pipes a resource (null = delete) and returns what it emitted, in order. */
  List<KeyValue<String, ConfigResource>> apply(ResourceEvent event) {
    resources.pipeInput(MeshState.key(event), event, tick());
    return drain();
  }

  List<KeyValue<String, ConfigResource>> delete(ResourceEvent event) {
    resources.pipeInput(MeshState.key(event), null, tick());
    return drain();
  }

  List<KeyValue<String, ConfigResource>> register(WorkloadEndpoint w) {
    registry.pipeInput(MeshFixtures.registryKey(w), w, tick());
    return drain();
  }

  List<KeyValue<String, ConfigResource>> deregister(WorkloadEndpoint w) {
    registry.pipeInput(MeshFixtures.registryKey(w), null, tick());
    return drain();
  }

  /** Pipes raw bytes onto the resources topic. */
  void pipeRawResource(String key, byte[] value) {
    driver.createInputTopic(TOPICS.resources().name(), new StringSerializer(), new ByteArraySerializer())
        .pipeInput(key, value, tick());
  }

  List<KeyValue<String, byte[]>> deadLetters(String topic) {
    return driver.createOutputTopic(topic + ".dlq", new org.apache.kafka.common.serialization.StringDeserializer(),
        new ByteArrayDeserializer()).readKeyValuesToList();
  }

  List<KeyValue<String, ConfigResource>> advance(Duration wallClock) {
    driver.advanceWallClockTime(wallClock);
    return drain();
  }

  List<KeyValue<String, ConfigResource>> drain() {
    List<KeyValue<String, ConfigResource>> out = new ArrayList<>(config.readKeyValuesToList());
    for (KeyValue<String, ConfigResource> kv : out) {
      if (kv.value == null) compacted.remove(kv.key);
      else compacted.put(kv.key, kv.value);
    }
    return out;
  }

  /** The last emission per key of one step (keys in emission order). */
  static Map<String, ConfigResource> byKey(List<KeyValue<String, ConfigResource>> out) {
    Map<String, ConfigResource> m = new LinkedHashMap<>();
    out.forEach(kv -> m.put(kv.key, kv.value));
    return m;
  }

  Map<String, String> warnings() {
    KeyValueStore<String, String> store = driver.getKeyValueStore(CompilerTopology.WARNINGS_STORE);
    Map<String, String> m = new TreeMap<>();
    try (var it = store.all()) {
      it.forEachRemaining(kv -> m.put(kv.key, kv.value));
    }
    return m;
  }

  @Override
  public void close() {
    driver.close();
  }
}
