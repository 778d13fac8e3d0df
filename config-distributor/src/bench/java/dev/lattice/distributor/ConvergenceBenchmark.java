package dev.lattice.distributor;

import dev.lattice.configclient.ConfigClient;
import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Convergence of the config distributor (issue 8), not part of CI: {@code config-distributor/src/bench/run.sh}.
 *
 * <p>An embedded broker and N real {@link ConfigClient}s (mTLS, one connection each) in this JVM; the policy service
 * (REST API + compiler) and the distributor ({@link ConfigDistributorService}) each in a child JVM, so their RSS is
 * their own. S services, one instance each, spread over the N nodes (S/N per node); every instance on node n carries
 * the node's egress scope ({@code WorkloadEndpoint.egressHosts}): svc-0 (a service every node calls) plus K-1 drawn at
 * random. The registry is published on {@code lattice.registry.v1} (what the static registry sync does); the compiler
 * turns it into scoped per-node config, the distributor serves it.
 *
 * <p>Measured, per affected (node, resource), to the client's listener seeing the new version (the ACK goes out right
 * after it returns):
 * <ul>
 *   <li>(b) end to end: from just before the REST call ({@code PUT /v1/resources/TrafficRoute/…}, or one POST of B
 *       TrafficRoutes for the burst) through the policy service, the compiler and the distributor;
 *   <li>(a) from the config record: CLUSTER records published straight onto {@code lattice.config.v1} (the compiled
 *       record with its endpoints' port changed), from just before the send;
 *   <li>peer in the same run: a raw {@link KafkaConsumer} (read_committed, like the distributor's fold) on the config
 *       topic — REST → compiled record visible for (b), produce → poll for (a).
 * </ul>
 * Distributor pushes and bytes from its {@code /metrics}; RSS from /proc and heap after a full GC ({@code jcmd GC.run})
 * with the snapshots folded and no client, and again with every client connected and synced.
 */
public final class ConvergenceBenchmark {

  private static final String TD = "lattice.local";
  private static final String NS = "default";
  private static final AvroSerde<ConfigResource> CONFIG_SERDE = AvroSerde.of(ConfigResource.class);
  private static final AvroSerde<WorkloadEndpoint> REGISTRY_SERDE = AvroSerde.of(WorkloadEndpoint.class);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static final String CONFIG_TOPIC = "lattice.config.v1";

  private final int nodes;
  private final int services;
  private final int perNode;
  private final int trials;
  private final int burst;
  private final Path dir;
  private final List<Set<Integer>> scope = new ArrayList<>();
  /** service → nodes that hold it. */
  private final Map<Integer, List<Integer>> holders = new HashMap<>();
  private final List<ConfigClient> clients = new ArrayList<>();
  /** node|TYPE|name → version the node held before the change (any other version = applied). */
  private final Map<String, String> awaited = new ConcurrentHashMap<>();
  private final Map<String, Long> appliedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> consumedAt = new ConcurrentHashMap<>();
  private final AtomicBoolean consuming = new AtomicBoolean(true);
  private KafkaProducer<byte[], byte[]> producer;
  /** REST answer times (µs) of the applies since the last report. */
  private final List<Long> restAnswers = new ArrayList<>();
  private String adminToken;
  private int policyPort;

  private ConvergenceBenchmark(int nodes, int services, int perNode, int trials, int burst, Path dir) {
    this.nodes = nodes;
    this.services = services;
    this.perNode = perNode;
    this.trials = trials;
    this.burst = burst;
    this.dir = dir;
  }

  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 500;
    int services = args.length > 1 ? Integer.parseInt(args[1]) : 5000;
    int perNode = args.length > 2 ? Integer.parseInt(args[2]) : 20;
    int trials = args.length > 3 ? Integer.parseInt(args[3]) : 10;
    int burst = args.length > 4 ? Integer.parseInt(args[4]) : 1000;
    Path dir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "convergence-");
    new ConvergenceBenchmark(nodes, services, perNode, trials, burst, dir).run();
    System.exit(0);
  }

  private static String node(int n) {
    return "node-" + n;
  }

  private static String host(int s) {
    return "svc-" + s + "." + NS;
  }

  private static String clusterName(int s) {
    return "outbound|80||" + host(s);
  }

  private static String routeName(int s) {
    return "outbound|80|" + host(s);
  }

  private static String awaitKey(String node, ConfigType type, String name) {
    return node + "|" + type.name() + "|" + name;
  }

  private WorkloadEndpoint instance(int s) {
    int n = s % nodes;
    List<String> egress = scope.get(n).stream().map(k -> "./svc-" + k).toList();
    return WorkloadEndpoint.newBuilder().setNamespace(NS).setWorkload("svc-" + s).setInstance("svc-" + s + "-1")
        .setServices(List.of(host(s))).setAddress("10." + (s / 62500) + "." + (s / 250 % 250) + "." + (s % 250 + 1))
        .setPorts(List.of(WorkloadPort.newBuilder().setName("http").setPort(80).setTargetPort(8080).setProtocol("HTTP")
            .build()))
        .setLabels(Map.of("app", "svc-" + s)).setNode(node(n))
        .setSpiffeId("spiffe://" + TD + "/ns/" + NS + "/sa/svc-" + s).setHealth(WorkloadHealth.HEALTHY)
        .setEgressHosts(egress).setUpdatedAt(Instant.now()).build();
  }

  private static String trafficRoute(int s, int timeoutMs) {
    return "apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata: {name: svc-" + s + ", namespace: " + NS + "}\n"
        + "spec:\n  hosts: [svc-" + s + "]\n  http:\n  - name: all\n    timeout: " + timeoutMs + "ms\n"
        + "    route:\n    - destination: {host: svc-" + s + "}\n";
  }

  private void run() throws Exception {
    Random random = new Random(42);
    for (int n = 0; n < nodes; n++) {
      Set<Integer> s = new LinkedHashSet<>();
      s.add(0);
      while (s.size() < perNode) {
        s.add(1 + random.nextInt(services - 1));
      }
      scope.add(s);
      for (int svc : s) {
        holders.computeIfAbsent(svc, k -> new ArrayList<>()).add(n);
      }
    }
    System.out.printf("convergence: %d nodes, %d services (%d instances per node), %d in each node's egress scope"
        + " (svc-0 in all), %d cores, load average %s%n", nodes, services, services / nodes, perNode,
        Runtime.getRuntime().availableProcessors(), loadavg());

    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().temporaryDataDir().build().start()) {
      try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
        new TopicProvisioner(admin).ensureCatalog().toCompletableFuture().get(60, TimeUnit.SECONDS);
      }
      Properties pp = new Properties();
      pp.put("bootstrap.servers", kafka.bootstrapServers());
      pp.put("linger.ms", "0");
      pp.put("acks", "all");
      producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());

      TestSpiffeCa ca = TestSpiffeCa.create(TD);
      int grpcPort = freePort();
      int httpPort = freePort();
      policyPort = freePort();
      List<Process> children = new ArrayList<>();
      try {
        children.add(startPolicy(kafka.bootstrapServers()));
        Process distributor = startDistributor(kafka.bootstrapServers(), ca, grpcPort, httpPort);
        children.add(distributor);

        long began = System.nanoTime();
        for (int s = 0; s < services; s++) {
          WorkloadEndpoint w = instance(s);
          String key = NS + "/" + w.getWorkload() + "/" + w.getInstance();
          producer.send(new ProducerRecord<>("lattice.registry.v1", key.getBytes(StandardCharsets.UTF_8),
              REGISTRY_SERDE.encode(w)));
        }
        producer.flush();
        Map<String, Integer> counts = awaitFolded(httpPort);
        int min = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        System.out.printf("initial config: %d registry records → compiled, folded and stable in %d ms; resources per"
            + " node %d..%d%n", services, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began), min, max);
        Memory idle = memory(distributor.pid(), httpPort);
        System.out.printf("distributor, snapshots folded, no client: RSS %.1f MiB, heap after full GC %.1f MiB%n",
            idle.rss / 1048576.0, idle.heap / 1048576.0);

        Thread peer = startRawConsumer(kafka.bootstrapServers());
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setPreferNativeTransport(true));
        long connectBegan = System.nanoTime();
        startClients(vertx, ca, grpcPort);
        awaitUntil(Duration.ofMinutes(5), () -> {
          for (int n = 0; n < nodes; n++) {
            if (clients.get(n).snapshot().size() != counts.get(node(n))) {
              return false;
            }
          }
          return true;
        });
        System.out.printf("%d clients connected and synced in %d ms%n", nodes,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectBegan));
        Thread.sleep(2000);
        Memory busy = memory(distributor.pid(), httpPort);
        System.out.printf("distributor, %d clients connected: RSS %.1f MiB, heap after full GC %.1f MiB → %.1f KB RSS,"
            + " %.1f KB heap per connected proxy beyond its snapshot%n", nodes, busy.rss / 1048576.0,
            busy.heap / 1048576.0, (busy.rss - idle.rss) / 1024.0 / nodes, (busy.heap - idle.heap) / 1024.0 / nodes);

        List<Integer> candidates = holders.keySet().stream().filter(s -> s != 0).sorted().toList();
        int[] generation = new int[services];

        // (b) end to end through REST and the compiler
        List<long[]> shared = new ArrayList<>();
        Metrics before = metrics(httpPort);
        for (int t = 0; t < trials; t++) {
          shared.add(applyRoutes(List.of(0), generation));
        }
        report("(b) REST → ACK, one TrafficRoute on svc-0 (" + nodes + " affected proxies)", shared, before,
            metrics(httpPort), trials, trials * nodes, "REST → compiled record visible");
        List<long[]> narrow = new ArrayList<>();
        before = metrics(httpPort);
        int affected = 0;
        for (int t = 0; t < trials; t++) {
          int svc = candidates.get(t * 7 % candidates.size());
          affected += holders.get(svc).size();
          narrow.add(applyRoutes(List.of(svc), generation));
        }
        report("(b) REST → ACK, one TrafficRoute on a service in few scopes (" + String.format("%.1f",
            affected / (double) trials) + " affected proxies on average)", narrow, before, metrics(httpPort), trials,
            affected, "REST → compiled record visible");
        List<Integer> burstServices = candidates.subList(0, Math.min(burst, candidates.size()));
        int burstRecords = burstServices.stream().mapToInt(s -> holders.get(s).size()).sum();
        before = metrics(httpPort);
        long[] b = applyRoutes(burstServices, generation);
        report("(b) REST → ACK, burst: one POST of " + burstServices.size() + " TrafficRoutes (" + burstRecords
            + " affected node routes)", List.of(b), before, metrics(httpPort), burstServices.size(), burstRecords,
            "REST → compiled record visible");

        // (a) from the config record
        List<long[]> direct = new ArrayList<>();
        before = metrics(httpPort);
        for (int t = 0; t < trials; t++) {
          direct.add(publishClusters(List.of(0), generation));
        }
        report("(a) record → ACK, one CLUSTER change of svc-0 (" + nodes + " records)", direct, before,
            metrics(httpPort), trials, trials * nodes, "produce → poll");
        before = metrics(httpPort);
        long[] db = publishClusters(burstServices, generation);
        report("(a) record → ACK, burst of " + burstServices.size() + " CLUSTER changes (" + burstRecords
            + " records)", List.of(db), before, metrics(httpPort), burstServices.size(), burstRecords,
            "produce → poll");

        Memory end = memory(distributor.pid(), httpPort);
        System.out.printf("distributor at the end: RSS %.1f MiB, heap after full GC %.1f MiB%n", end.rss / 1048576.0,
            end.heap / 1048576.0);
        long nacks = clients.stream().mapToLong(ConfigClient::nacks).sum();
        System.out.printf("client NACKs: %d; load average at the end %s%n", nacks, loadavg());
        consuming.set(false);
        peer.join(5000);
        clients.forEach(ConfigClient::close);
        vertx.close().await(30, TimeUnit.SECONDS);
      } finally {
        for (Process p : children) {
          p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        producer.close();
      }
    }
  }

  /**
   * Applies a TrafficRoute (a new timeout) for each of {@code svcs} through the REST API — one PUT for one service,
   * one multi-document POST for several — and waits until every node holding it has applied the new route table.
   * Returns per (node, route) latencies in µs: [proxy applied..., then raw Kafka...] as two halves.
   */
  private long[] applyRoutes(List<Integer> svcs, int[] generation) throws Exception {
    beginAwait();
    StringBuilder body = new StringBuilder();
    for (int s : svcs) {
      generation[s]++;
      for (int n : holders.get(s)) {
        String name = routeName(s);
        ConfigResource held = clients.get(n).snapshot().get(ConfigType.ROUTE, name);
        awaited.put(awaitKey(node(n), ConfigType.ROUTE, name), held == null ? "" : held.getVersion());
      }
      body.append(body.length() == 0 ? "" : "---\n").append(trafficRoute(s, 1000 + generation[s]));
    }
    long t0 = System.nanoTime();
    HttpRequest.Builder req = svcs.size() == 1
        ? HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + policyPort + "/v1/resources/TrafficRoute/" + NS
            + "/svc-" + svcs.get(0))).PUT(HttpRequest.BodyPublishers.ofString(body.toString()))
        : HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + policyPort + "/v1/resources"))
            .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
    HttpResponse<String> answer = HTTP.send(req.header("Content-Type", "application/yaml")
        .header("Authorization", "Bearer " + adminToken).timeout(Duration.ofSeconds(60)).build(),
        HttpResponse.BodyHandlers.ofString());
    restAnswers.add(TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - t0));
    if (answer.statusCode() / 100 != 2) {
      throw new IllegalStateException("apply answered " + answer.statusCode() + ": " + answer.body());
    }
    return awaitApplied(t0, Duration.ofMinutes(3));
  }

  /**
   * Publishes, for each of {@code svcs} and every node holding it, the node's compiled CLUSTER record with its
   * endpoints' port changed, straight onto the config topic; waits until every node applied it.
   */
  private long[] publishClusters(List<Integer> svcs, int[] generation) throws Exception {
    beginAwait();
    List<ConfigResource> records = new ArrayList<>();
    for (int s : svcs) {
      generation[s]++;
      for (int n : holders.get(s)) {
        ConfigResource held = clients.get(n).snapshot().get(ConfigType.CLUSTER, clusterName(s));
        ClusterConfig c = (ClusterConfig) held.getPayload();
        List<ClusterEndpoint> eps = new ArrayList<>();
        for (ClusterEndpoint e : c.getEndpoints()) {
          eps.add(ClusterEndpoint.newBuilder(e).setPort(9000 + generation[s]).build());
        }
        ClusterConfig changed = ClusterConfig.newBuilder(c).setEndpoints(eps).build();
        records.add(ConfigResource.newBuilder(held).setPayload(changed)
            .setVersion(CanonicalEncoding.sha256Hex(changed)).build());
        awaited.put(awaitKey(node(n), ConfigType.CLUSTER, clusterName(s)), held.getVersion());
      }
    }
    long t0 = System.nanoTime();
    for (ConfigResource r : records) {
      String key = r.getNode() + "/" + r.getType().name() + "/" + r.getName();
      producer.send(new ProducerRecord<>(CONFIG_TOPIC, key.getBytes(StandardCharsets.UTF_8), CONFIG_SERDE.encode(r)));
    }
    producer.flush();
    return awaitApplied(t0, Duration.ofMinutes(3));
  }

  private void beginAwait() {
    awaited.clear();
    appliedAt.clear();
    consumedAt.clear();
  }

  private long[] awaitApplied(long t0, Duration max) throws Exception {
    int want = awaited.size();
    awaitUntil(max, () -> appliedAt.size() >= want && consumedAt.size() >= want);
    long[] out = new long[want * 2];
    int i = 0;
    for (String k : awaited.keySet()) {
      out[i] = TimeUnit.NANOSECONDS.toMicros(appliedAt.get(k) - t0);
      out[want + i] = TimeUnit.NANOSECONDS.toMicros(consumedAt.get(k) - t0);
      i++;
    }
    Thread.sleep(300); // let ACKs land before the next change
    awaited.clear();
    return out;
  }

  private void report(String what, List<long[]> runs, Metrics before, Metrics after, int changes, int records,
      String peerWhat) {
    List<Long> dist = new ArrayList<>();
    List<Long> raw = new ArrayList<>();
    List<Long> allAcked = new ArrayList<>();
    List<Long> rawAll = new ArrayList<>();
    for (long[] r : runs) {
      int half = r.length / 2;
      long max = 0;
      long rawMax = 0;
      for (int i = 0; i < half; i++) {
        dist.add(r[i]);
        raw.add(r[half + i]);
        max = Math.max(max, r[i]);
        rawMax = Math.max(rawMax, r[half + i]);
      }
      allAcked.add(max);
      rawAll.add(rawMax);
    }
    System.out.printf("%s, %d run(s):%n", what, runs.size());
    System.out.printf("  → proxy applied (ACK sent): p50 %.1f ms, p99 %.1f ms, max %.1f ms; until every affected proxy"
        + " (per run): median %.1f ms, max %.1f ms%n", pct(dist, 50), pct(dist, 99), pct(dist, 100), pct(allAcked, 50),
        pct(allAcked, 100));
    System.out.printf("  peer, raw read_committed KafkaConsumer on the config topic (%s): p50 %.1f ms, p99 %.1f ms;"
        + " last record per run: median %.1f ms%n", peerWhat, pct(raw, 50), pct(raw, 99), pct(rawAll, 50));
    if (!restAnswers.isEmpty()) {
      System.out.printf("  REST answered (write acknowledged by the broker): p50 %.1f ms, max %.1f ms%n",
          pct(restAnswers, 50), pct(restAnswers, 100));
      restAnswers.clear();
    }
    double pushes = after.pushes - before.pushes;
    double bytes = after.bytes - before.bytes;
    System.out.printf("  distributor: %.0f pushes, %.0f bytes pushed = %.2f pushes and %.0f bytes per change (%.2f pushes"
        + " per affected proxy-resource); its own histogram, fold → ACK received: mean %.1f ms over %.0f ACKed"
        + " resources%n", pushes, bytes, pushes / changes, bytes / changes, pushes / records,
        1000 * (after.convergenceSum - before.convergenceSum) / Math.max(1, after.convergenceCount
            - before.convergenceCount), after.convergenceCount - before.convergenceCount);
  }

  private static String loadavg() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).trim();
    } catch (java.io.IOException e) {
      return "?";
    }
  }

  private static double pct(List<Long> micros, int p) {
    if (micros.isEmpty()) {
      return Double.NaN;
    }
    long[] a = micros.stream().mapToLong(Long::longValue).toArray();
    Arrays.sort(a);
    int idx = (int) Math.ceil(p / 100.0 * a.length) - 1;
    return a[Math.max(0, Math.min(a.length - 1, idx))] / 1000.0;
  }

  private void startClients(Vertx vertx, TestSpiffeCa ca, int grpcPort) throws Exception {
    SocketAddress endpoint = SocketAddress.inetSocketAddress(grpcPort, "127.0.0.1");
    for (int n = 0; n < nodes; n++) {
      String node = node(n);
      TestSvid svid = ca.issue(NodeSpiffeIds.node(TrustDomain.parse(TD), node).toString());
      ConfigClient c = ConfigClient.builder(vertx, node).endpoints(List.of(endpoint))
          .mtls(TrustDomain.parse(TD), KeyCertOptions.wrap(svid.keyManager()), () -> List.of(ca.root()))
          .backoff(Duration.ofMillis(100), Duration.ofSeconds(2)).random(new Random(n))
          .listener(snapshot -> applied(node, snapshot)).build();
      clients.add(c);
      c.start().await(30, TimeUnit.SECONDS);
    }
  }

  private Future<Void> applied(String node, ConfigSnapshot snapshot) {
    long now = System.nanoTime();
    if (!awaited.isEmpty()) {
      for (Map.Entry<String, String> e : awaited.entrySet()) {
        String k = e.getKey();
        if (!k.startsWith(node + "|") || appliedAt.containsKey(k)) {
          continue;
        }
        String[] parts = k.split("\\|", 3);
        ConfigResource r = snapshot.get(ConfigType.valueOf(parts[1]), parts[2]);
        if (r != null && !r.getVersion().equals(e.getValue())) {
          appliedAt.putIfAbsent(k, now);
        }
      }
    }
    return Future.succeededFuture();
  }

  private Thread startRawConsumer(String bootstrap) {
    Properties cp = new Properties();
    cp.put("bootstrap.servers", bootstrap);
    cp.put("enable.auto.commit", "false");
    cp.put("isolation.level", "read_committed");
    cp.put("fetch.max.wait.ms", "100");
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = new ArrayList<>();
    for (PartitionInfo p : consumer.partitionsFor(CONFIG_TOPIC)) {
      parts.add(new TopicPartition(CONFIG_TOPIC, p.partition()));
    }
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    parts.forEach(consumer::position);
    Thread t = new Thread(() -> {
      try (consumer) {
        while (consuming.get()) {
          for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            if (rec.value() == null) {
              continue;
            }
            ConfigResource r = CONFIG_SERDE.decode(rec.value());
            String k = awaitKey(r.getNode(), r.getType(), r.getName());
            String before = awaited.get(k);
            if (before != null && !before.equals(r.getVersion())) {
              consumedAt.putIfAbsent(k, now);
            }
          }
        }
      }
    }, "raw-kafka-peer");
    t.setDaemon(true);
    t.start();
    return t;
  }

  private Process startPolicy(String bootstrap) throws Exception {
    String cp = System.getProperty("bench.policy.classpath");
    if (cp == null) {
      throw new IllegalStateException("-Dbench.policy.classpath not set (run.sh sets it)");
    }
    Path data = Files.createDirectories(dir.resolve("policy"));
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math",
        "-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", ""),
        "-cp", cp, BenchServiceMain.class.getName(), "dev.lattice.policy.PolicyService",
        "--kafka.bootstrap.servers=" + bootstrap, "--policy.http.port=" + policyPort, "--data.dir=" + data,
        "--kafka.streams.state.dir=" + data.resolve("streams")));
    cmd.addAll(extraArgs("bench.policy.args"));
    Path log = dir.resolve("policy.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    awaitReady(p, log, URI.create("http://127.0.0.1:" + policyPort + "/readyz"));
    adminToken = Files.readAllLines(data.resolve("admin.token")).stream()
        .filter(l -> !l.isBlank() && !l.startsWith("#")).findFirst().orElseThrow();
    System.out.printf("policy service pid %d (log %s), compiler: exactly_once_v2, other Streams settings default unless"
        + " bench.policy.args says%n",
        p.pid(), log);
    return p;
  }

  private Process startDistributor(String bootstrap, TestSpiffeCa ca, int grpcPort, int httpPort) throws Exception {
    TestSvid svid = ca.issue(NodeSpiffeIds.distributor(TrustDomain.parse(TD)).toString());
    Path cert = Files.writeString(dir.resolve("d.crt"), svid.certPem());
    Path key = Files.writeString(dir.resolve("d.key"), svid.keyPem());
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), ca.rootPem());
    List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx1g", "-Dorg.apache.avro.SERIALIZABLE_PACKAGES=dev.lattice,java.lang,java.util,java.math",
        "-Dlogback.configurationFile=" + System.getProperty("logback.configurationFile", ""),
        "-cp", System.getProperty("java.class.path"), ConfigDistributorService.class.getName(),
        "--kafka.bootstrap.servers=" + bootstrap, "--distributor.http.port=" + httpPort,
        "--distributor.grpc.port=" + grpcPort, "--distributor.instance=bench",
        "--data.dir=" + Files.createDirectories(dir.resolve("distributor")),
        "--distributor.tls.cert=" + cert, "--distributor.tls.key=" + key, "--distributor.tls.bundle=" + bundle));
    cmd.addAll(extraArgs("bench.distributor.args"));
    Path log = dir.resolve("distributor.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    awaitReady(p, log, URI.create("http://127.0.0.1:" + httpPort + "/readyz"));
    System.out.printf("distributor pid %d (log %s), debounce: default%n", p.pid(), log);
    return p;
  }

  /** Extra {@code --key=value} arguments for a child, space-separated in a system property. */
  private static List<String> extraArgs(String property) {
    String v = System.getProperty(property, "").trim();
    if (!v.isEmpty()) {
      System.out.printf("%s: %s%n", property, v);
    }
    return v.isEmpty() ? List.of() : List.of(v.split("\\s+"));
  }

  private static void awaitReady(Process p, Path log, URI readyz) throws Exception {
    awaitUntil(Duration.ofMinutes(2), () -> {
      if (!p.isAlive()) {
        throw new IllegalStateException(readyz + ": exited: " + Files.readString(log));
      }
      return status(readyz) == 200;
    });
  }

  /** Waits until every node has config and the counts stayed the same for 3 s; returns node → resource count. */
  private Map<String, Integer> awaitFolded(int httpPort) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + httpPort + "/v1/nodes");
    Map<String, Integer> last = new HashMap<>();
    long stableSince = System.nanoTime();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (true) {
      JsonArray ns = new JsonObject(get(uri)).getJsonArray("nodes");
      Map<String, Integer> now = new HashMap<>();
      for (Object o : ns) {
        JsonObject j = (JsonObject) o;
        now.put(j.getString("node"), j.getInteger("resources_count"));
      }
      if (!now.equals(last) || now.size() < nodes) {
        last = now;
        stableSince = System.nanoTime();
      } else if (System.nanoTime() - stableSince > TimeUnit.SECONDS.toNanos(3)) {
        return now;
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("config not stable within 10 min: " + now.size() + " nodes");
      }
      Thread.sleep(250);
    }
  }

  private record Memory(long rss, long heap) {}

  private record Metrics(double pushes, double bytes, double convergenceSum, double convergenceCount) {}

  private static Memory memory(long pid, int httpPort) throws Exception {
    Process gc = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "jcmd").toString(), String.valueOf(pid),
        "GC.run").redirectErrorStream(true).start();
    gc.getInputStream().readAllBytes();
    gc.waitFor(60, TimeUnit.SECONDS);
    Thread.sleep(500);
    long rss = 0;
    for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        rss = Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    double heap = sum(get(URI.create("http://127.0.0.1:" + httpPort + "/metrics")), "jvm_memory_used_bytes", "area=\"heap\"");
    return new Memory(rss, (long) heap);
  }

  private static Metrics metrics(int httpPort) throws Exception {
    String text = get(URI.create("http://127.0.0.1:" + httpPort + "/metrics"));
    return new Metrics(sum(text, "lattice_distributor_pushes_total", ""), sum(text, "lattice_distributor_pushed_bytes_total", ""),
        sum(text, "lattice_distributor_proxy_convergence_seconds_sum", ""),
        sum(text, "lattice_distributor_proxy_convergence_seconds_count", ""));
  }

  private static double sum(String prometheus, String name, String mustContain) {
    double total = 0;
    for (String line : prometheus.split("\n")) {
      if (line.startsWith(name + "{") || line.startsWith(name + " ")) {
        if (line.contains(mustContain)) {
          total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
      }
    }
    return total;
  }

  private static String get(URI uri) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private static int status(URI uri) {
    try {
      return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding())
          .statusCode();
    } catch (Exception e) {
      return -1;
    }
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @FunctionalInterface
  private interface Check {
    boolean ok() throws Exception;
  }

  private static void awaitUntil(Duration max, Check check) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!check.ok()) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("not reached within " + max);
      }
      Thread.sleep(20);
    }
  }
}
