package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;

/**
 * The policy compiler as a Kafka Streams topology: a pure function of {@code lattice.resources.v1} ×
 * {@code lattice.registry.v1} → {@code lattice.config.v1}. No Properties, no lifecycle: the
 * {@link CompilerRunner} sets {@code exactly_once_v2} and runs it.
 *
 * <p>Shape: both inputs are re-keyed to one constant key and merged onto the single-partition
 * repartition topic {@code <app>-compiler-input-repartition}, so one task sees every change in one
 * order; the {@code compile} processor folds them into {@link MeshCompiler} (state in the stores below)
 * and forwards only changed compiled resources and tombstones. Stores (stable names):
 * {@value #RESOURCES_STORE}, {@value #REGISTRY_STORE} (accepted inputs), {@value #EMITTED_STORE}
 * ({@code node/TYPE/name} → last emitted version), {@value #WARNINGS_STORE}
 * ({@code kind/namespace/name#topic} → warning).
 */
public final class CompilerTopology {

  public static final String RESOURCES_STORE = "compiler-resources";
  public static final String REGISTRY_STORE = "compiler-registry";
  public static final String EMITTED_STORE = "compiler-emitted";
  public static final String WARNINGS_STORE = "compiler-warnings";
  /** The key every input is re-keyed to before the single-partition repartition. */
  static final String MESH_KEY = "mesh";

  private CompilerTopology() {}

  /** The topology with default options: root namespace {@code lattice-system}, no admission check. */
  public static Topology build(CompilerTopics topics) {
    return build(topics, CompilerOptions.defaults(ResourceAdmission.ACCEPT_ALL));
  }

  /** The topology. */
  public static Topology build(CompilerTopics topics, CompilerOptions options) {
    StreamsBuilder builder = new StreamsBuilder();
    Serde<String> strings = Serdes.String();
    Serde<CompilerInput> inputSerde = CompilerInput.serde(topics);

    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(RESOURCES_STORE),
        strings, topics.resources().valueSerde()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(REGISTRY_STORE),
        strings, topics.registry().valueSerde()));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(EMITTED_STORE),
        strings, strings));
    builder.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(WARNINGS_STORE),
        strings, strings));

    KStream<String, ResourceEvent> resources = builder.stream(topics.resources().name(),
        Consumed.with(topics.resources().keySerde(), topics.resources().valueSerde())
            .withName("resources-source"));
    KStream<String, WorkloadEndpoint> registry = builder.stream(topics.registry().name(),
        Consumed.with(topics.registry().keySerde(), topics.registry().valueSerde())
            .withName("registry-source"));

    KStream<String, CompilerInput> resourceInputs = resources
        .filter((k, v) -> k != null, Named.as("resources-with-key"))
        .map((k, v) -> KeyValue.pair(MESH_KEY, CompilerInput.resource(k, v)), Named.as("resources-to-input"));
    KStream<String, CompilerInput> registryInputs = registry
        .filter((k, v) -> k != null, Named.as("registry-with-key"))
        .map((k, v) -> KeyValue.pair(MESH_KEY, CompilerInput.workload(k, v)), Named.as("registry-to-input"));

    KStream<String, ConfigResource> compiled = resourceInputs
        .merge(registryInputs, Named.as("merge-inputs"))
        .repartition(Repartitioned.<String, CompilerInput>as("compiler-input")
            .withKeySerde(strings).withValueSerde(inputSerde).withNumberOfPartitions(1))
        .process(() -> new CompilerProcessor(options), Named.as("compile"),
            RESOURCES_STORE, REGISTRY_STORE, EMITTED_STORE, WARNINGS_STORE);

    compiled.to(topics.config().name(),
        Produced.with(topics.config().keySerde(), topics.config().valueSerde()).withName("config-sink"));
    return builder.build();
  }
}
