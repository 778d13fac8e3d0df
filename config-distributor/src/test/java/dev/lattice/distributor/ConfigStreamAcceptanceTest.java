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
import dev.lattice.events.ConfigStatus;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
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
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8's acceptance over real parts: the embedded Kafka broker, the distributor service, gRPC over mTLS
 * with SVIDs from a test SPIFFE CA, and the real {@link ConfigClient}.
 */
@LatticeKafkaTest
class ConfigStreamAcceptanceTest {

  private static final String TD = "lattice.local";
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private static final AvroSerde<ConfigStatus> STATUS = AvroSerde.of(ConfigStatus.class);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  private final TestSpiffeCa ca = TestSpiffeCa.create(TD);
  private final List<ServiceLauncher> launchers = new ArrayList<>();
  private final List<ConfigClient> clients = new ArrayList<>();
  private Vertx vertx;
  private String topic;
  private String statusTopic;
  private KafkaCluster kafka;

  @BeforeEach
  void setUp(KafkaCluster kafka) {
    this.kafka = kafka;
    this.topic = kafka.uniqueTopic("lattice.config.v1");
    this.statusTopic = kafka.uniqueTopic("lattice.config.status.v1");
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    clients.forEach(ConfigClient::close);
    for (ServiceLauncher l : launchers) {
      l.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private record Distributor(ServiceLauncher launcher, ConfigDistributorService service, SocketAddress address) {}

  private Distributor startDistributor(String instance) throws Exception {
    TestSvid svid = ca.issue(NodeSpiffeIds.distributor(TrustDomain.parse(TD)).toString());
    Path cert = Files.writeString(dir.resolve(instance + ".crt"), svid.certPem());
    Path key = Files.writeString(dir.resolve(instance + ".key"), svid.keyPem());
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), ca.rootPem());
    Map<String, String> config = new HashMap<>(Map.of(
        "kafka.bootstrap.servers", kafka.bootstrapServers(),
        "distributor.topics.config", topic,
        "distributor.topics.status", statusTopic,
        "distributor.http.port", "0",
        "distributor.grpc.port", "0",
        "distributor.debounce", "10ms",
        "distributor.instance", instance,
        "distributor.tls.cert", cert.toString(),
        "distributor.tls.key", key.toString(),
        "distributor.tls.bundle", bundle.toString()));
    ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(config));
    launchers.add(launcher);
    ConfigDistributorService service = new ConfigDistributorService();
    launcher.start(List.of(service)).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> service.fold().caughtUp());
    return new Distributor(launcher, service, SocketAddress.inetSocketAddress(service.grpcPort(), "127.0.0.1"));
  }

  private ConfigClient client(String node, List<SocketAddress> endpoints, Path snapshotFile, ConfigListener listener)
      throws Exception {
    ConfigClient.Builder b = ConfigClient.builder(vertx, node).endpoints(endpoints)
        .mtls(TrustDomain.parse(TD), KeyCertOptions.wrap(ca.issue("spiffe://" + TD + "/lattice/node/" + node).keyManager()),
            () -> List.of(ca.root()))
        .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .random(new java.util.Random(7));
    if (snapshotFile != null) {
      b.snapshotFile(snapshotFile);
    }
    if (listener != null) {
      b.listener(listener);
    }
    ConfigClient c = b.build();
    clients.add(c);
    c.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    return c;
  }

  private void publish(ConfigResource r) {
    KafkaRecords.produce(kafka, topic, key(r.getNode(), r.getType(), r.getName()), SERDE.encode(r));
  }

  private void delete(String node, ConfigType type, String name) {
    KafkaRecords.produce(kafka, topic, key(node, type, name), null);
  }

  private void publishBase(String node) {
    publish(cluster(node, "c1", 8080));
    publish(route(node, "r1", "c1"));
    publish(listener(node, "l1", 9000, "r1"));
  }

  /** The latest status of {@code node} on the status topic (reads the whole topic up to its end). */
  private ConfigStatus lastStatus(String node) {
    Map<String, Object> props = kafka.consumerProps("unused");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    ConfigStatus last = null;
    try (KafkaConsumer<String, byte[]> consumer =
        new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(statusTopic, Duration.ofSeconds(10)).stream()
          .map(p -> new TopicPartition(statusTopic, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      while (partitions.stream().anyMatch(p -> consumer.position(p) < end.get(p))) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
          if (node.equals(r.key()) && r.value() != null) {
            last = STATUS.decode(r.value());
          }
        }
      }
    }
    return last;
  }

  private static String version(ConfigClient c, ConfigType type, String name) {
    ConfigResource r = c.snapshot().get(type, name);
    return r == null ? null : r.getVersion();
  }

  @Test
  void publishReceiveAckThenOneChangeIsExactlyThatResourceAndDeleteRemoves() throws Exception {
    Distributor d = startDistributor("d1");
    publishBase("node-a");
    ConfigClient c = client("node-a", List.of(d.address()), null, null);
    await().atMost(WAIT).until(() -> c.snapshot().size() == 3 && c.acks() >= 3);
    assertThat(c.snapshot().source()).isEqualTo(ConfigSnapshot.Source.STREAM);
    var served = d.service().cache().snapshot("node-a");
    await().atMost(WAIT).untilAsserted(() -> {
      ConfigStatus st = lastStatus("node-a");
      assertThat(st).isNotNull();
      assertThat(st.getConnected()).isTrue();
      assertThat(st.getInstance()).isEqualTo("d1");
      assertThat(st.getConnectedSince()).isNotNull();
      assertThat(st.getPendingVersions()).isEmpty();
      assertThat(st.getNack()).isNull();
      assertThat(st.getAckedVersions()).containsEntry("CLUSTER", served.version(ConfigType.CLUSTER))
          .containsEntry("ROUTE", served.version(ConfigType.ROUTE))
          .containsEntry("LISTENER", served.version(ConfigType.LISTENER));
    });
    long bytesBefore = c.bytesReceived();
    long resourcesBefore = c.resourcesReceived();

    ConfigResource changed = cluster("node-a", "c1", 8081);
    publish(changed);
    await().atMost(WAIT).until(() -> changed.getVersion().equals(version(c, ConfigType.CLUSTER, "c1")));
    assertThat(c.resourcesReceived() - resourcesBefore).isEqualTo(1);
    long changeBytes = c.bytesReceived() - bytesBefore;
    // one resource plus the response's envelope (type_url, nonce, system version), not the snapshot
    assertThat(changeBytes).isLessThan(SERDE.encode(changed).length + 200L).isLessThan(bytesBefore);
    assertThat(((ClusterConfig) c.snapshot().get(ConfigType.CLUSTER, "c1").getPayload()).getPort()).isEqualTo(8081);

    delete("node-a", ConfigType.LISTENER, "l1");
    await().atMost(WAIT).until(() -> c.snapshot().get(ConfigType.LISTENER, "l1") == null);
    assertThat(c.snapshot().size()).isEqualTo(2);
    assertThat(c.nacks()).isZero();
  }

  @Test
  void rejectedResourceIsNackedKeptAtItsPreviousVersionNotResentAndAFixedOneIsAcked() throws Exception {
    Distributor d = startDistributor("d1");
    publishBase("node-a");
    ConfigListener refusePort1 = s -> {
      ConfigResource c1 = s.get(ConfigType.CLUSTER, "c1");
      return c1 != null && ((ClusterConfig) c1.getPayload()).getPort() == 1
          ? Future.failedFuture("cluster c1: port 1 is reserved") : Future.succeededFuture();
    };
    ConfigClient c = client("node-a", List.of(d.address()), null, refusePort1);
    await().atMost(WAIT).until(() -> c.snapshot().size() == 3);
    String good = version(c, ConfigType.CLUSTER, "c1");

    publish(cluster("node-a", "c1", 1));
    await().atMost(WAIT).until(() -> c.nacks() == 1);
    assertThat(c.lastNack()).contains("cluster c1: port 1 is reserved");
    assertThat(version(c, ConfigType.CLUSTER, "c1")).isEqualTo(good);
    await().atMost(WAIT).untilAsserted(() -> {
      ConfigStatus st = lastStatus("node-a");
      assertThat(st.getNack()).isNotNull();
      assertThat(st.getNack().getType()).isEqualTo(ConfigType.CLUSTER);
      assertThat(st.getNack().getName()).isEqualTo("c1");
      assertThat(st.getNack().getVersion()).isEqualTo(cluster("node-a", "c1", 1).getVersion());
      assertThat(st.getNack().getError()).contains("cluster c1: port 1 is reserved");
      assertThat(st.getPendingVersions()).containsKey("CLUSTER");
    });

    // the next change arrives, and the rejected version has not come back in between
    long responses = c.responses();
    publish(cluster("node-a", "c2", 8082));
    await().atMost(WAIT).until(() -> c.snapshot().get(ConfigType.CLUSTER, "c2") != null);
    assertThat(c.nacks()).isEqualTo(1);
    assertThat(c.responses() - responses).isEqualTo(1);

    ConfigResource fixed = cluster("node-a", "c1", 8089);
    publish(fixed);
    await().atMost(WAIT).until(() -> fixed.getVersion().equals(version(c, ConfigType.CLUSTER, "c1")));
    assertThat(c.nacks()).isEqualTo(1);
    await().atMost(WAIT).untilAsserted(() -> {
      io.vertx.core.json.JsonObject proxies = new io.vertx.core.json.JsonObject(java.net.http.HttpClient.newHttpClient()
          .send(java.net.http.HttpRequest.newBuilder(d.launcher().running().get(0).url("/v1/proxies")).build(),
              java.net.http.HttpResponse.BodyHandlers.ofString()).body());
      io.vertx.core.json.JsonObject a = proxies.getJsonArray("proxies").getJsonObject(0);
      assertThat(a.getString("node")).isEqualTo("node-a");
      assertThat(a.getJsonObject("types").getJsonObject("CLUSTER").getString("state")).isEqualTo("SYNCED");
      assertThat(a.getJsonObject("types").getJsonObject("LISTENER").getString("state")).isEqualTo("SYNCED");
      assertThat(a.getJsonObject("last_nack")).isNull();
    });
    await().atMost(WAIT).untilAsserted(() -> {
      ConfigStatus st = lastStatus("node-a");
      assertThat(st.getNack()).isNull();
      assertThat(st.getPendingVersions()).isEmpty();
      assertThat(st.getAckedVersions()).containsEntry("CLUSTER",
          d.service().cache().snapshot("node-a").version(ConfigType.CLUSTER));
    });
  }

  @Test
  void reconnectingClientReceivesOnlyTheThreeChangesMadeWhileItWasAway() throws Exception {
    Distributor d = startDistributor("d1");
    publishBase("node-a");
    publish(cluster("node-a", "c2", 8082));
    publish(cluster("node-a", "c3", 8083));
    Path file = dir.resolve("node-a.snapshot");
    ConfigClient first = client("node-a", List.of(d.address()), file, null);
    await().atMost(WAIT).until(() -> first.snapshot().size() == 5 && Files.exists(file)
        && dev.lattice.configclient.SnapshotFile.load(file, "node-a").snapshot().size() == 5);
    first.close();

    ConfigResource c2 = cluster("node-a", "c2", 9082);
    publish(c2);
    delete("node-a", ConfigType.CLUSTER, "c3");
    ConfigResource c4 = cluster("node-a", "c4", 8084);
    publish(c4);
    await().atMost(WAIT).until(() -> d.service().cache().snapshot("node-a").get(ConfigType.CLUSTER, "c4") != null);

    ConfigClient again = client("node-a", List.of(d.address()), file, null);
    await().atMost(WAIT).until(() -> again.snapshot().get(ConfigType.CLUSTER, "c4") != null
        && again.snapshot().get(ConfigType.CLUSTER, "c3") == null
        && c2.getVersion().equals(version(again, ConfigType.CLUSTER, "c2")));
    assertThat(again.resourcesReceived()).isEqualTo(3);
  }

  @Test
  void persistedSnapshotIsServedWithNoDistributorAndACorruptOneIsReportedAndIgnored() throws Exception {
    Distributor d = startDistributor("d1");
    publishBase("node-a");
    Path file = dir.resolve("node-a.snapshot");
    ConfigClient first = client("node-a", List.of(d.address()), file, null);
    await().atMost(WAIT).until(() -> dev.lattice.configclient.SnapshotFile.load(file, "node-a").present()
        && dev.lattice.configclient.SnapshotFile.load(file, "node-a").snapshot().size() == 3);
    first.close();

    SocketAddress nobody;
    try (ServerSocket s = new ServerSocket(0)) {
      nobody = SocketAddress.inetSocketAddress(s.getLocalPort(), "127.0.0.1");
    }
    List<ConfigSnapshot> applied = new CopyOnWriteArrayList<>();
    ConfigClient offline = client("node-a", List.of(nobody), file, s -> {
      applied.add(s);
      return Future.succeededFuture();
    });
    // start() completed: the listener already has the persisted config, no distributor needed
    assertThat(applied).hasSize(1);
    assertThat(offline.snapshot().source()).isEqualTo(ConfigSnapshot.Source.PERSISTED);
    assertThat(offline.snapshot().size()).isEqualTo(3);
    assertThat(offline.connectedTo()).isNull();
    offline.close();

    Files.write(file, "LCS1 this file was overwritten by something else".getBytes());
    ConfigClient corrupt = client("node-a", List.of(nobody), file, null);
    assertThat(corrupt.persistedProblem()).contains(file.toString()).contains("checksum mismatch");
    assertThat(corrupt.snapshot().source()).isEqualTo(ConfigSnapshot.Source.EMPTY);
  }

  @Test
  void twoInstancesOneKilledMidStreamEveryClientConvergesWithoutLostOrDuplicatedUpdates() throws Exception {
    int nodes = 6;
    Distributor a = startDistributor("da");
    for (int n = 0; n < nodes; n++) {
      publishBase("node-" + n);
    }
    Distributor b = startDistributor("db");
    Map<String, List<String>> appliedByNode = new HashMap<>();
    List<ConfigClient> cs = new ArrayList<>();
    for (int n = 0; n < nodes; n++) {
      String node = "node-" + n;
      List<String> applied = new CopyOnWriteArrayList<>();
      appliedByNode.put(node, applied);
      ConfigSnapshot[] last = {ConfigSnapshot.empty(node)};
      ConfigListener diff = s -> {
        for (ConfigResource r : s.all()) {
          ConfigResource before = last[0].get(r.getType(), r.getName());
          if (before == null || !before.getVersion().equals(r.getVersion())) {
            applied.add(r.getType() + "/" + r.getName() + "@" + r.getVersion());
          }
        }
        last[0] = s;
        return Future.succeededFuture();
      };
      List<SocketAddress> endpoints = n % 2 == 0 ? List.of(a.address(), b.address()) : List.of(b.address(), a.address());
      cs.add(client(node, endpoints, null, diff));
    }
    await().atMost(WAIT).until(() -> cs.stream().allMatch(c -> c.snapshot().size() == 3 && c.connectedTo() != null));

    for (int round = 0; round < 6; round++) {
      if (round == 3) {
        a.launcher().stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        launchers.remove(a.launcher());
      }
      for (int n = 0; n < nodes; n++) {
        publish(cluster("node-" + n, "c1", 10_000 + round));
      }
    }
    ConfigResource last0 = cluster("node-0", "c1", 10_005);
    await().atMost(WAIT).until(() -> cs.stream().allMatch(c -> last0.getVersion().equals(version(c, ConfigType.CLUSTER, "c1"))));
    for (ConfigClient c : cs) {
      assertThat(c.connectedTo()).isEqualTo(b.address());
      List<String> applied = appliedByNode.get(c.snapshot().node());
      assertThat(applied).doesNotHaveDuplicates();
      assertThat(c.nacks()).isZero();
    }
    assertThat(cs.stream().filter(c -> c.connects() > 1)).hasSize(nodes / 2);
  }
}
