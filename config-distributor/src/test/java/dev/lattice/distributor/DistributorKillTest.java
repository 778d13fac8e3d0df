package dev.lattice.distributor;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.key;
import static dev.lattice.distributor.ConfigFixtures.listener;
import static dev.lattice.distributor.ConfigFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.configclient.ConfigClient;
import dev.lattice.configclient.ConfigListener;
import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8: two distributor instances, one of them a child JVM ({@link ConfigDistributorService#main}) that is
 * killed with SIGKILL mid-stream — no shutdown hook, no goodbye to its clients — and later restarted on the
 * same ports; then the other instance stops mid-stream too. Every client converges on the last published
 * version of every resource, and no client ever applies a cluster version twice or goes back to an older
 * one (the published ports increase, so each client's applied ports must strictly increase). Real broker
 * (embedded, reached by the child over TCP), real gRPC over mTLS, the real {@link ConfigClient}. Bounded:
 * the test times out after 4 minutes and every wait is bounded.
 */
@LatticeKafkaTest
class DistributorKillTest {

  private static final String TD = "lattice.local";
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final int NODES = 6;

  @TempDir Path dir;

  private final TestSpiffeCa ca = TestSpiffeCa.create(TD);
  private final List<ConfigClient> clients = new ArrayList<>();
  private final List<Process> children = new ArrayList<>();
  private ServiceLauncher inProcess;
  private Vertx vertx;
  private KafkaCluster kafka;
  private String topic;
  private String statusTopic;

  @BeforeEach
  void setUp(KafkaCluster kafka) {
    this.kafka = kafka;
    topic = kafka.uniqueTopic("lattice.config.v1");
    statusTopic = kafka.uniqueTopic("lattice.config.status.v1");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(ConfigClient::close);
    for (Process p : children) {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    if (inProcess != null) {
      inProcess.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Map<String, String> config(String instance, int grpcPort, int httpPort) throws Exception {
    TestSvid svid = ca.issue(NodeSpiffeIds.distributor(TrustDomain.parse(TD)).toString());
    Path cert = Files.writeString(dir.resolve(instance + ".crt"), svid.certPem());
    Path key = Files.writeString(dir.resolve(instance + ".key"), svid.keyPem());
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), ca.rootPem());
    return new HashMap<>(Map.of(
        "kafka.bootstrap.servers", kafka.bootstrapServers(),
        "distributor.topics.config", topic,
        "distributor.topics.status", statusTopic,
        "distributor.http.port", String.valueOf(httpPort),
        "distributor.grpc.port", String.valueOf(grpcPort),
        "distributor.debounce", "10ms",
        "distributor.instance", instance,
        "distributor.tls.cert", cert.toString(),
        "distributor.tls.key", key.toString(),
        "distributor.tls.bundle", bundle.toString()));
  }

  /** Starts a distributor in a child JVM and waits until its /readyz says it caught up with the topic. */
  private Process startChild(String instance, int grpcPort, int httpPort, Path log) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), ConfigDistributorService.class.getName()));
    config(instance, grpcPort, httpPort).forEach((k, v) -> cmd.add("--" + k + "=" + v));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    children.add(p);
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    URI readyz = URI.create("http://127.0.0.1:" + httpPort + "/readyz");
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).ignoreExceptions().until(() -> {
      assertThat(p.isAlive()).as(() -> "child " + instance + " alive; its log:\n" + tail(log)).isTrue();
      return http.send(HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(2)).build(),
          HttpResponse.BodyHandlers.ofString()).statusCode() == 200;
    });
    return p;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
    } catch (java.io.IOException e) {
      return "(unreadable: " + e + ")";
    }
  }

  private ConfigDistributorService startInProcess(String instance) throws Exception {
    inProcess = ServiceLauncher.create(LatticeConfig.of(config(instance, 0, 0)));
    ConfigDistributorService service = new ConfigDistributorService();
    inProcess.start(List.of(service)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> service.fold().caughtUp());
    return service;
  }

  private void publish(ConfigResource r) {
    KafkaRecords.produce(kafka, topic, key(r.getNode(), r.getType(), r.getName()), SERDE.encode(r));
  }

  private static int port(ConfigSnapshot s) {
    ConfigResource c1 = s.get(ConfigType.CLUSTER, "c1");
    return c1 == null ? -1 : ((ClusterConfig) c1.getPayload()).getPort();
  }

  @Test
  @Timeout(value = 4, unit = TimeUnit.MINUTES)
  void aDistributorKilledWithSigkillMidStreamAndRestartedLosesAndDuplicatesNoUpdate() throws Exception {
    // the in-process instance first: it provisions the topics (compacted config topic) before anything is published
    ConfigDistributorService other = startInProcess("db");
    for (int n = 0; n < NODES; n++) {
      publish(cluster("node-" + n, "c1", 8000));
      publish(route("node-" + n, "r1", "c1"));
      publish(listener("node-" + n, "l1", 9000, "r1"));
    }
    int childGrpc = freePort();
    int childHttp = freePort();
    Path childLog = dir.resolve("child.log");
    Process child = startChild("dk", childGrpc, childHttp, childLog);
    SocketAddress a = SocketAddress.inetSocketAddress(childGrpc, "127.0.0.1");
    SocketAddress b = SocketAddress.inetSocketAddress(other.grpcPort(), "127.0.0.1");

    Map<String, List<Integer>> appliedPorts = new HashMap<>();
    List<ConfigClient> cs = new ArrayList<>();
    for (int n = 0; n < NODES; n++) {
      String node = "node-" + n;
      List<Integer> applied = new CopyOnWriteArrayList<>();
      appliedPorts.put(node, applied);
      int[] last = {-1};
      ConfigListener record = s -> {
        int p = port(s);
        if (p != last[0]) {
          applied.add(p);
          last[0] = p;
        }
        return Future.succeededFuture();
      };
      // every node starts on the child; the in-process instance is its fallback
      ConfigClient c = ConfigClient.builder(vertx, node).endpoints(List.of(a, b))
          .mtls(TrustDomain.parse(TD), KeyCertOptions.wrap(ca.issue("spiffe://" + TD + "/lattice/node/" + node)
              .keyManager()), () -> List.of(ca.root()))
          .backoff(Duration.ofMillis(50), Duration.ofMillis(500)).random(new java.util.Random(n))
          .listener(record).build();
      clients.add(c);
      cs.add(c);
      c.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    await().atMost(WAIT).until(() -> cs.stream().allMatch(c -> c.snapshot().size() == 3 && a.equals(c.connectedTo())));

    int round = 0;
    // phase 1: updates flowing, then SIGKILL the child between two rounds of the same burst
    for (; round < 10; round++) {
      if (round == 4) {
        child.destroyForcibly(); // SIGKILL on Linux: no shutdown hook, streams cut without a status
        assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).isEqualTo(137);
      }
      for (int n = 0; n < NODES; n++) {
        publish(cluster("node-" + n, "c1", 10_000 + round));
      }
      Thread.sleep(20);
    }
    int afterKill = 10_000 + round - 1;
    await().atMost(WAIT).until(() -> cs.stream().allMatch(c -> port(c.snapshot()) == afterKill && b.equals(c.connectedTo())));

    // phase 2: the killed instance restarts on the same ports and rebuilds from the topic; then the other
    // instance stops mid-burst and everyone moves back to the restarted one
    startChild("dk", childGrpc, childHttp, childLog);
    for (; round < 20; round++) {
      if (round == 14) {
        inProcess.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        inProcess = null;
      }
      for (int n = 0; n < NODES; n++) {
        publish(cluster("node-" + n, "c1", 10_000 + round));
      }
      Thread.sleep(20);
    }
    int finalPort = 10_000 + round - 1;
    await().atMost(WAIT).until(() -> cs.stream().allMatch(c -> port(c.snapshot()) == finalPort && a.equals(c.connectedTo())));

    for (ConfigClient c : cs) {
      String node = c.snapshot().node();
      List<Integer> applied = appliedPorts.get(node);
      assertThat(applied).as("%s applied ports", node).doesNotHaveDuplicates().isSorted();
      assertThat(applied.get(0)).isEqualTo(8000);
      assertThat(applied.get(applied.size() - 1)).isEqualTo(finalPort);
      assertThat(c.nacks()).as("%s nacks", node).isZero();
      assertThat(c.connects()).as("%s: child, other, restarted child", node).isGreaterThanOrEqualTo(3);
      // the other resources came through both failovers untouched
      assertThat(c.snapshot().get(ConfigType.ROUTE, "r1")).isNotNull();
      assertThat(c.snapshot().get(ConfigType.LISTENER, "l1")).isNotNull();
    }
    assertThat(Files.readString(childLog, StandardCharsets.UTF_8)).doesNotContain("Exception in thread \"main\"");
  }
}
