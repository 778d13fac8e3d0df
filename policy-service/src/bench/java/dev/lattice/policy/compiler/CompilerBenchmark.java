package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.deadletter.DeadLetterDeserializationHandler;
import java.nio.file.Files;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Policy-compiler benchmark on the TopologyTestDriver (single thread, real serdes and RocksDB stores, no
 * broker round trips). For N services (2 instances each, v1/v2, spread over 100 namespaces and 10 nodes)
 * with 3 policies each (TrafficRoute 90/10 split, DestinationPolicy with 2 subsets, AuthorizationPolicy):
 *
 * <ol>
 *   <li>full compile through the topology: every registry record then every resource, to the last output;
 *   <li>full compile of the compiler core alone ({@link MeshCompiler#reconcileAll()} over restored state);
 *   <li>incremental recompile latency of one edit (a TrafficRoute weight change, an AuthorizationPolicy
 *       change, a new endpoint), through the topology, p50/p99 over repeated edits.
 * </ol>
 */
public final class CompilerBenchmark {

  private static final Logger LOG = LoggerFactory.getLogger(CompilerBenchmark.class);
  static final int NAMESPACES = 100;
  static final int NODES = 10;
  static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

  public static void main(String[] args) throws Exception {
    int[] sizes = args.length == 0 ? new int[] {1000, 10000} : Arrays.stream(args).mapToInt(Integer::parseInt).toArray();
    for (int n : sizes) run(n);
  }

  record Mesh(List<WorkloadEndpoint> workloads, List<ResourceEvent> resources) {}

  static Mesh mesh(int services) {
    List<WorkloadEndpoint> workloads = new ArrayList<>();
    List<ResourceEvent> resources = new ArrayList<>();
    for (int i = 0; i < services; i++) {
      String ns = "ns-" + (i % NAMESPACES);
      String svc = "svc-" + i;
      for (String v : List.of("v1", "v2")) {
        workloads.add(MeshFixtures.workload(ns, svc, svc + "-" + v, svc,
            "10." + (i / 65536) + "." + ((i / 256) % 256) + "." + (i % 256) + (v.equals("v1") ? "" : "0"),
            8080, "HTTP", "node-" + ((i * 2 + (v.equals("v1") ? 0 : 1)) % NODES), Map.of("app", svc, "version", v)));
      }
      resources.add(MeshFixtures.split(ns, svc, svc, "v1", 90, "v2", 10, T0.plusSeconds(i)));
      resources.add(MeshFixtures.subsets(ns, svc, svc, T0.plusSeconds(i)));
      resources.add(MeshFixtures.allowFrom(ns, svc, Map.of("app", svc),
          "lattice.local/ns/" + ns + "/sa/svc-" + ((i + 1) % services), "GET", T0.plusSeconds(i)));
    }
    return new Mesh(workloads, resources);
  }

  static void run(int services) throws Exception {
    Mesh mesh = mesh(services);
    CompilerTopics topics = CompilerTopics.standard();
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench");
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("bench").toString());
    props.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class.getName());
    try (TopologyTestDriver driver = new TopologyTestDriver(
        CompilerTopology.build(topics, CompilerOptions.defaults(ValidatedAdmission.INSTANCE)), props, T0)) {
      TestInputTopic<String, ResourceEvent> resources = driver.createInputTopic(topics.resources().name(),
          topics.resources().keySerde().serializer(), topics.resources().valueSerde().serializer());
      TestInputTopic<String, WorkloadEndpoint> registry = driver.createInputTopic(topics.registry().name(),
          topics.registry().keySerde().serializer(), topics.registry().valueSerde().serializer());
      TestOutputTopic<String, byte[]> out = driver.createOutputTopic(topics.config().name(),
          new StringDeserializer(), new ByteArrayDeserializer());

      long start = System.nanoTime();
      Instant t = T0;
      for (WorkloadEndpoint w : mesh.workloads()) {
        registry.pipeInput(MeshFixtures.registryKey(w), w, t = t.plusMillis(1));
      }
      long afterRegistry = System.nanoTime();
      long emitted = out.getQueueSize();
      out.readValuesToList();
      for (ResourceEvent r : mesh.resources()) {
        resources.pipeInput(MeshState.key(r), r, t = t.plusMillis(1));
      }
      long end = System.nanoTime();
      long emittedResources = out.getQueueSize();
      out.readValuesToList();
      LOG.info("[{} services] full compile via topology: {} registry records → {} config records in {} ms; "
              + "{} resources → {} config records in {} ms; total {} ms",
          services, mesh.workloads().size(), emitted, ms(afterRegistry - start), mesh.resources().size(),
          emittedResources, ms(end - afterRegistry), ms(end - start));

      // the compiler core alone: restore the same inputs, then one full compile
      MeshCompiler core = new MeshCompiler(CompilerOptions.DEFAULT_ROOT_NAMESPACE, ValidatedAdmission.INSTANCE);
      mesh.workloads().forEach(core::restoreWorkload);
      mesh.resources().forEach(core::restoreResource);
      long c0 = System.nanoTime();
      core.finishRestore();
      MeshCompiler.Result full = core.reconcileAll();
      long c1 = System.nanoTime();
      LOG.info("[{} services] full compile, compiler core only: {} compiled resources in {} ms",
          services, full.changes().size(), ms(c1 - c0));

      // peer in the same run: the same compiled records through a pass-through topology (deserialize,
      // serialize, produce) on the same driver settings — the Streams + serde floor with no compiling
      long b = baseline(full.changes(), topics, props);
      LOG.info("[{} services] baseline pass-through topology: {} config records in {} ms ({} records/s)",
          services, full.changes().size(), ms(b), (long) (full.changes().size() / (b / 1e9)));

      int rounds = 200;
      long[] route = new long[rounds];
      long[] authz = new long[rounds];
      long[] endpoint = new long[rounds];
      long routeOut = 0;
      long authzOut = 0;
      long endpointOut = 0;
      for (int i = 0; i < rounds; i++) {
        int s = (i * 7919) % services;
        String ns = "ns-" + (s % NAMESPACES);
        String svc = "svc-" + s;
        ResourceEvent edit = MeshFixtures.split(ns, svc, svc, "v1", 50 + (i % 40), "v2", 50 - (i % 40), T0.plusSeconds(s));
        long a = System.nanoTime();
        resources.pipeInput(MeshState.key(edit), edit, t = t.plusMillis(1));
        routeOut += out.readValuesToList().size();
        route[i] = System.nanoTime() - a;

        ResourceEvent ap = MeshFixtures.allowFrom(ns, svc, Map.of("app", svc), "lattice.local/ns/" + ns + "/sa/edit-" + i,
            "GET", T0.plusSeconds(s));
        a = System.nanoTime();
        resources.pipeInput(MeshState.key(ap), ap, t = t.plusMillis(1));
        authzOut += out.readValuesToList().size();
        authz[i] = System.nanoTime() - a;

        WorkloadEndpoint extra = MeshFixtures.workload(ns, svc, svc + "-extra-" + i, svc, "10.200." + (i / 256) + "." + (i % 256),
            8080, "HTTP", "node-" + (i % NODES), Map.of("app", svc, "version", "v2"));
        a = System.nanoTime();
        registry.pipeInput(MeshFixtures.registryKey(extra), extra, t = t.plusMillis(1));
        endpointOut += out.readValuesToList().size();
        endpoint[i] = System.nanoTime() - a;
      }
      LOG.info("[{} services] incremental, TrafficRoute weight edit: p50 {} ms, p99 {} ms, {} config records per edit",
          services, p(route, 50), p(route, 99), routeOut / rounds);
      LOG.info("[{} services] incremental, AuthorizationPolicy edit: p50 {} ms, p99 {} ms, {} config records per edit",
          services, p(authz, 50), p(authz, 99), authzOut / rounds);
      LOG.info("[{} services] incremental, new endpoint: p50 {} ms, p99 {} ms, {} config records per edit",
          services, p(endpoint, 50), p(endpoint, 99), endpointOut / rounds);
    }
  }

  static long baseline(List<MeshCompiler.Change> changes, CompilerTopics topics, Properties base) throws Exception {
    org.apache.kafka.streams.StreamsBuilder builder = new org.apache.kafka.streams.StreamsBuilder();
    builder.stream("baseline-in", org.apache.kafka.streams.kstream.Consumed.with(
            topics.config().keySerde(), topics.config().valueSerde()))
        .to("baseline-out", org.apache.kafka.streams.kstream.Produced.with(
            topics.config().keySerde(), topics.config().valueSerde()));
    Properties props = new Properties();
    props.putAll(base);
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, "bench-baseline");
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("baseline").toString());
    try (TopologyTestDriver driver = new TopologyTestDriver(builder.build(), props, T0)) {
      TestInputTopic<String, dev.lattice.events.ConfigResource> in = driver.createInputTopic("baseline-in",
          topics.config().keySerde().serializer(), topics.config().valueSerde().serializer());
      TestOutputTopic<String, byte[]> out = driver.createOutputTopic("baseline-out",
          new StringDeserializer(), new ByteArrayDeserializer());
      long start = System.nanoTime();
      int i = 0;
      for (MeshCompiler.Change c : changes) {
        in.pipeInput(c.key(), c.value(), T0.plusMillis(i++));
        if (i % 10_000 == 0) out.readValuesToList();
      }
      out.readValuesToList();
      return System.nanoTime() - start;
    }
  }

  static String ms(long nanos) {
    return String.format("%.1f", nanos / 1e6);
  }

  static String p(long[] nanos, int percentile) {
    long[] sorted = nanos.clone();
    Arrays.sort(sorted);
    return ms(sorted[Math.min(sorted.length - 1, (int) Math.ceil(percentile / 100.0 * sorted.length) - 1)]);
  }
}
