package dev.lattice.distributor;

import dev.lattice.configclient.ConfigClient;
import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
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
 * <p>An embedded broker and N real {@link ConfigClient}s (mTLS, one connection each) in this JVM; the distributor in
 * a child JVM ({@link ConfigDistributorService#main}) so its RSS is its own. S services; every node is scoped to K of
 * them — svc-0 (a service every node calls) plus K-1 drawn at random — and holds, per service, what the compiler emits
 * for it (listener, route table, cluster with 3 endpoints). Scoping is not in the compiler yet, so the records the
 * compiler would emit for scoped nodes are published directly on {@code lattice.config.v1}: the figures are (a), from
 * the config record to the proxy applying it (the ACK goes out right after), not (b) from a REST apply.
 *
 * <p>Measured, each from the nanoTime just before a record is handed to the producer (same JVM) to the client's
 * listener seeing that version: one change of svc-0 (N affected nodes, N records) repeated T times; one change of a
 * service in few scopes, T times; a burst of B changes (B services, every node holding one). Peer in the same run: a
 * raw {@link KafkaConsumer} on the same topic, the same records, produce → poll. Distributor pushes and bytes from
 * its {@code /metrics}; RSS from /proc and heap after a full GC ({@code jcmd GC.run}) with the snapshots folded but no
 * client connected, and again with every client connected and synced.
 */
public final class ConvergenceBenchmark {

  private static final String TD = "lattice.local";
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private final int nodes;
  private final int services;
  private final int perNode;
  private final int trials;
  private final int burst;
  private final Path dir;
  private final List<Set<Integer>> scope = new ArrayList<>();
  /** service → nodes that hold it. */
  private final Map<Integer, List<Integer>> holders = new HashMap<>();
  /** node|cluster|version awaited → nanoTime of the record's send. */
  private final Map<String, Long> sentAt = new ConcurrentHashMap<>();
  private final Map<String, Long> appliedAt = new ConcurrentHashMap<>();
  private final Map<String, Long> consumedAt = new ConcurrentHashMap<>();
  private final AtomicBoolean consuming = new AtomicBoolean(true);
  private KafkaProducer<byte[], byte[]> producer;
  private String topic;

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
    return "svc-" + s + ".default.svc.cluster.local";
  }

  private static String clusterName(int s) {
    return "outbound|80||" + host(s);
  }

  private static ConfigResource resource(String node, ConfigType type, String name, org.apache.avro.specific.SpecificRecord p) {
    return ConfigResource.newBuilder().setNode(node).setType(type).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(p)).setPayload(p).build();
  }

  private static ConfigResource cluster(String node, int s, int generation) {
    List<ClusterEndpoint> endpoints = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      endpoints.add(ClusterEndpoint.newBuilder().setAddress("10." + (s / 250) + "." + (s % 250) + "." + (10 + i))
          .setPort(8080 + generation).setNode("node-" + ((s + i) % 997)).setSpiffeId("spiffe://" + TD + "/ns/default/sa/svc-" + s)
          .setLabels(Map.of("app", "svc-" + s, "version", "v1")).setHealth(WorkloadHealth.HEALTHY).setWeight(1).build());
    }
    return resource(node, ConfigType.CLUSTER, clusterName(s), ClusterConfig.newBuilder().setName(clusterName(s))
        .setHost(host(s)).setPort(80).setEndpoints(endpoints).setMtls(true).build());
  }

  private static List<ConfigResource> service(String node, int s) {
    String name = "outbound|80|" + host(s);
    RouteRule rule = RouteRule.newBuilder().setName("default/svc-" + s)
        .setClusters(List.of(WeightedCluster.newBuilder().setCluster(clusterName(s)).setWeight(100).build())).build();
    ConfigResource route = resource(node, ConfigType.ROUTE, name, RouteConfig.newBuilder().setName(name).setVirtualHosts(
        List.of(VirtualHost.newBuilder().setName(host(s)).setDomains(List.of(host(s), "svc-" + s, "svc-" + s + ":80"))
            .setRoutes(List.of(rule)).build())).build());
    ConfigResource listener = resource(node, ConfigType.LISTENER, name, ListenerConfig.newBuilder().setName(name)
        .setPort(20000 + s).setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP).setRouteConfig(name).build());
    return List.of(cluster(node, s, 0), route, listener);
  }

  private long send(ConfigResource r) {
    String key = r.getNode() + "/" + r.getType().name() + "/" + r.getName();
    long t = System.nanoTime();
    producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), SERDE.encode(r)));
    return t;
  }

  private static String awaitKey(String node, String name, String version) {
    return node + "|" + name + "|" + version;
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
    System.out.printf("convergence: %d nodes, %d services, %d per node (svc-0 in all), %d resources per node, %d cores,"
        + " load average %s%n", nodes, services, perNode, perNode * 3, Runtime.getRuntime().availableProcessors(), loadavg());

    try (EmbeddedKafkaBroker kafka = EmbeddedKafkaBroker.builder().temporaryDataDir().build().start()) {
      topic = "lattice.config.v1";
      Properties pp = new Properties();
      pp.put("bootstrap.servers", kafka.bootstrapServers());
      pp.put("linger.ms", "0");
      pp.put("acks", "all");
      producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());

      TestSpiffeCa ca = TestSpiffeCa.create(TD);
      int grpcPort = freePort();
      int httpPort = freePort();
      Process child = startDistributor(kafka.bootstrapServers(), ca, grpcPort, httpPort);
      try {
        long began = System.nanoTime();
        for (int n = 0; n < nodes; n++) {
          for (int s : scope.get(n)) {
            service(node(n), s).forEach(this::send);
          }
        }
        producer.flush();
        awaitFolded(httpPort);
        System.out.printf("initial config: %d records published and folded in %d ms%n", nodes * perNode * 3,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began));
        Memory idle = memory(child.pid(), httpPort);
        System.out.printf("distributor, snapshots folded, no client: RSS %.1f MiB, heap after full GC %.1f MiB%n",
            idle.rss / 1048576.0, idle.heap / 1048576.0);

        Thread peer = startRawConsumer(kafka.bootstrapServers());
        Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2).setPreferNativeTransport(true));
        long connectBegan = System.nanoTime();
        List<ConfigClient> clients = startClients(vertx, ca, grpcPort);
        awaitUntil(Duration.ofMinutes(5), () -> clients.stream().allMatch(c -> c.snapshot().size() == perNode * 3));
        System.out.printf("%d clients connected and synced in %d ms%n", nodes,
            TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - connectBegan));
        Thread.sleep(2000);
        Memory busy = memory(child.pid(), httpPort);
        System.out.printf("distributor, %d clients connected: RSS %.1f MiB, heap after full GC %.1f MiB → %.1f KB RSS, %.1f KB heap"
            + " per connected proxy beyond its snapshot%n", nodes, busy.rss / 1048576.0, busy.heap / 1048576.0,
            (busy.rss - idle.rss) / 1024.0 / nodes, (busy.heap - idle.heap) / 1024.0 / nodes);

        int[] generation = new int[services];
        // one change of svc-0: every node holds it
        List<long[]> shared = new ArrayList<>();
        Metrics before = metrics(httpPort);
        for (int t = 0; t < trials; t++) {
          shared.add(change(List.of(0), generation));
        }
        Metrics after = metrics(httpPort);
        report("one change, svc-0 (" + nodes + " affected proxies)", shared, before, after, trials, trials * nodes);
        // one change of a service held by few nodes
        List<long[]> narrow = new ArrayList<>();
        List<Integer> candidates = holders.keySet().stream().filter(s -> s != 0).sorted().toList();
        before = metrics(httpPort);
        int affected = 0;
        for (int t = 0; t < trials; t++) {
          int svc = candidates.get(t * 7 % candidates.size());
          affected += holders.get(svc).size();
          narrow.add(change(List.of(svc), generation));
        }
        after = metrics(httpPort);
        report("one change, a service in few scopes (" + String.format("%.1f", affected / (double) trials) + " affected proxies on average)",
            narrow, before, after, trials, affected);
        // a burst: B different services changed at once
        List<Integer> burstServices = candidates.subList(0, Math.min(burst, candidates.size()));
        int burstRecords = burstServices.stream().mapToInt(s -> holders.get(s).size()).sum();
        before = metrics(httpPort);
        long[] b = change(burstServices, generation);
        after = metrics(httpPort);
        report("burst of " + burstServices.size() + " changes (" + burstRecords + " records)", List.of(b), before, after,
            burstServices.size(), burstRecords);
        Memory end = memory(child.pid(), httpPort);
        System.out.printf("distributor at the end: RSS %.1f MiB, heap after full GC %.1f MiB%n", end.rss / 1048576.0,
            end.heap / 1048576.0);
        long nacks = clients.stream().mapToLong(ConfigClient::nacks).sum();
        System.out.printf("client NACKs: %d; load average at the end %s%n", nacks, loadavg());
        consuming.set(false);
        peer.join(5000);
        clients.forEach(ConfigClient::close);
        vertx.close().await(30, TimeUnit.SECONDS);
      } finally {
        child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        producer.close();
      }
    }
  }

  /**
   * Publishes a new cluster version of each of {@code svcs} to every node holding it and waits until every one has
   * applied it. Returns per-record latencies in µs: [distributor path..., then raw Kafka...] as two halves.
   */
  private long[] change(List<Integer> svcs, int[] generation) throws Exception {
    sentAt.clear();
    appliedAt.clear();
    consumedAt.clear();
    List<ConfigResource> records = new ArrayList<>();
    for (int s : svcs) {
      generation[s]++;
      for (int n : holders.get(s)) {
        records.add(cluster(node(n), s, generation[s]));
      }
    }
    for (ConfigResource r : records) {
      sentAt.put(awaitKey(r.getNode(), r.getName(), r.getVersion()), 0L);
    }
    for (ConfigResource r : records) {
      sentAt.put(awaitKey(r.getNode(), r.getName(), r.getVersion()), send(r));
    }
    producer.flush();
    awaitUntil(Duration.ofMinutes(2), () -> appliedAt.size() >= records.size() && consumedAt.size() >= records.size());
    long[] out = new long[records.size() * 2];
    int i = 0;
    for (Map.Entry<String, Long> e : sentAt.entrySet()) {
      out[i] = TimeUnit.NANOSECONDS.toMicros(appliedAt.get(e.getKey()) - e.getValue());
      out[records.size() + i] = TimeUnit.NANOSECONDS.toMicros(consumedAt.get(e.getKey()) - e.getValue());
      i++;
    }
    Thread.sleep(300); // let ACKs land before the next change
    return out;
  }

  private static void report(String what, List<long[]> runs, Metrics before, Metrics after, int changes, int records) {
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
    System.out.printf("  record → proxy applied (ACK sent): p50 %.1f ms, p99 %.1f ms; until every affected proxy: median %.1f ms,"
        + " max %.1f ms%n", pct(dist, 50), pct(dist, 99), pct(allAcked, 50), pct(allAcked, 100));
    System.out.printf("  peer, raw KafkaConsumer on the same records (produce → poll): p50 %.1f ms, p99 %.1f ms; last record:"
        + " median %.1f ms%n", pct(raw, 50), pct(raw, 99), pct(rawAll, 50));
    double pushes = after.pushes - before.pushes;
    double bytes = after.bytes - before.bytes;
    System.out.printf("  distributor: %.0f pushes, %.0f bytes pushed = %.2f pushes and %.0f bytes per change (%.2f pushes per"
        + " affected proxy); its own histogram, fold → ACK received: mean %.1f ms over %.0f ACKed resources%n", pushes, bytes,
        pushes / changes, bytes / changes, pushes / records,
        1000 * (after.convergenceSum - before.convergenceSum) / Math.max(1, after.convergenceCount - before.convergenceCount),
        after.convergenceCount - before.convergenceCount);
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

  private List<ConfigClient> startClients(Vertx vertx, TestSpiffeCa ca, int grpcPort) throws Exception {
    List<ConfigClient> clients = new ArrayList<>();
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
    return clients;
  }

  private Future<Void> applied(String node, ConfigSnapshot snapshot) {
    long now = System.nanoTime();
    if (!sentAt.isEmpty()) {
      for (ConfigResource r : snapshot.resources(ConfigType.CLUSTER).values()) {
        String k = awaitKey(node, r.getName(), r.getVersion());
        if (sentAt.containsKey(k)) {
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
    cp.put("fetch.max.wait.ms", "100");
    KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    List<TopicPartition> parts = new ArrayList<>();
    for (PartitionInfo p : consumer.partitionsFor(topic)) {
      parts.add(new TopicPartition(topic, p.partition()));
    }
    consumer.assign(parts);
    consumer.seekToEnd(parts);
    parts.forEach(consumer::position);
    Thread t = new Thread(() -> {
      try (consumer) {
        while (consuming.get()) {
          for (ConsumerRecord<byte[], byte[]> rec : consumer.poll(Duration.ofMillis(100))) {
            long now = System.nanoTime();
            ConfigResource r = SERDE.decode(rec.value());
            String k = awaitKey(r.getNode(), r.getName(), r.getVersion());
            if (sentAt.containsKey(k)) {
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
        "--distributor.tls.cert=" + cert, "--distributor.tls.key=" + key, "--distributor.tls.bundle=" + bundle));
    Path log = dir.resolve("distributor.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    URI readyz = URI.create("http://127.0.0.1:" + httpPort + "/readyz");
    awaitUntil(Duration.ofMinutes(2), () -> {
      if (!p.isAlive()) {
        throw new IllegalStateException("distributor exited: " + Files.readString(log));
      }
      return status(readyz) == 200;
    });
    System.out.printf("distributor pid %d (log %s), debounce: default%n", p.pid(), log);
    return p;
  }

  private void awaitFolded(int httpPort) throws Exception {
    URI uri = URI.create("http://127.0.0.1:" + httpPort + "/v1/nodes");
    int want = perNode * 3;
    awaitUntil(Duration.ofMinutes(5), () -> {
      io.vertx.core.json.JsonArray ns = new io.vertx.core.json.JsonObject(get(uri)).getJsonArray("nodes");
      return ns.size() == nodes && ns.stream().allMatch(o -> ((io.vertx.core.json.JsonObject) o).getInteger("resources_count") == want);
    });
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
