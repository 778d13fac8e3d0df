package dev.lattice.cli.distributor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lattice.cli.CliRun;
import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.configclient.ConfigClient;
import dev.lattice.distributor.ConfigDistributorService;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code lattice status} (proxy table) and {@code lattice config-dump} against a real distributor on the
 * embedded broker, with a real config client connected as node {@code n1} (plaintext stream: mTLS is the
 * distributor's own tests' business).
 */
@LatticeKafkaTest
class DistributorCommandsTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static ServiceLauncher launcher;
  private static RunningService distributor;
  private static ConfigDistributorService service;
  private static Vertx vertx;
  private static ConfigClient client;
  private static ServerSocket kafkaPort;
  private static String bootstrap;
  private static String topic;

  @TempDir Path dir;

  @BeforeAll
  static void start(KafkaCluster kafka) throws Exception {
    bootstrap = kafka.bootstrapServers();
    topic = kafka.uniqueTopic("cli-config");
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", bootstrap);
    cfg.put("distributor.topics.config", topic);
    cfg.put("distributor.topics.status", kafka.uniqueTopic("cli-config-status"));
    cfg.put("distributor.http.port", "0");
    cfg.put("distributor.grpc.port", "0");
    cfg.put("distributor.grpc.plaintext", "true");
    cfg.put("distributor.debounce", "10ms");
    cfg.put("distributor.instance", "cli-test");
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    service = new ConfigDistributorService();
    distributor = launcher.start(service).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    CliRun.awaitReady(distributor);
    publish("n1/CLUSTER/backend", cluster("n1", "backend", 8080));
    await().atMost(Duration.ofSeconds(30)).until(() -> service.cache().nodes().contains("n1"));
    vertx = Vertx.vertx();
    client = ConfigClient.builder(vertx, "n1")
        .endpoints(List.of(SocketAddress.inetSocketAddress(service.grpcPort(), "127.0.0.1"))).plaintext().build();
    client.start().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(30)).until(() -> client.snapshot().get(ConfigType.CLUSTER, "backend") != null);
    kafkaPort = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
  }

  @AfterAll
  static void stop() throws Exception {
    client.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    launcher.stop().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    kafkaPort.close();
  }

  static ConfigResource cluster(String node, String name, int port) {
    ClusterConfig c = ClusterConfig.newBuilder().setName(name).setHost(name + ".svc").setPort(port).build();
    return ConfigResource.newBuilder().setNode(node).setType(ConfigType.CLUSTER).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(c)).setPayload(c).build();
  }

  static void publish(String key, ConfigResource value) throws Exception {
    Map<String, Object> props = Map.of("bootstrap.servers", bootstrap, "acks", "all");
    try (var serde = AvroSerde.of(ConfigResource.class);
        var producer = new KafkaProducer<>(props, new StringSerializer(), serde.serializer())) {
      producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }
  }

  CliRun lattice(String... args) throws Exception {
    Map<String, URI> services = new LinkedHashMap<>();
    services.put("distributor", distributor.baseUrl());
    new ServiceEndpoints(services, "127.0.0.1:" + kafkaPort.getLocalPort(), "test")
        .write(dir.resolve(ServiceEndpoints.FILE_NAME));
    return CliRun.of(Map.of(), dir, args);
  }

  @Test
  void statusShowsTheProxyTableSyncedPerTypeWithTheAckedVersion() throws Exception {
    String version = service.cache().snapshot("n1").version(ConfigType.CLUSTER);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      CliRun status = lattice("status");
      assertThat(status.out()).as(status.err()).contains("distributor");
      List<String> lines = status.out().lines().toList();
      int header = lines.indexOf(lines.stream().filter(l -> l.startsWith("NODE")).findFirst().orElse("missing"));
      assertThat(header).as(status.out()).isPositive();
      assertThat(lines.get(header)).contains("CLUSTER", "ROUTE", "LISTENER", "CONNECTED", "AGE");
      assertThat(lines.get(header + 1)).startsWith("n1").contains("SYNCED (" + version.substring(0, 8) + ")")
          .containsPattern("yes\\s+\\d+[smhd]\\s*$");
    });
  }

  @Test
  void configDumpPrintsWhatTheNodeIsServedAsJsonAndFiltersByType() throws Exception {
    CliRun dump = lattice("config-dump", "n1");
    assertThat(dump.exit()).as(dump.err()).isZero();
    JsonNode json = JSON.readTree(dump.out());
    assertThat(json.path("node").asText()).isEqualTo("n1");
    JsonNode backend = json.path("resources").path("CLUSTER").path("backend");
    assertThat(backend.path("version").asText()).isEqualTo(cluster("n1", "backend", 8080).getVersion());
    assertThat(backend.path("payload").path("port").asInt()).isEqualTo(8080);

    CliRun clusters = lattice("config-dump", "n1", "--type", "cluster");
    assertThat(clusters.exit()).as(clusters.err()).isZero();
    assertThat(JSON.readTree(clusters.out()).path("resources").fieldNames()).toIterable().containsExactly("CLUSTER");

    CliRun noRoutes = lattice("config-dump", "n1", "--type", "ROUTE");
    assertThat(noRoutes.exit()).isEqualTo(1);
    assertThat(noRoutes.err()).contains("--type ROUTE: node n1 has no ROUTE resources (it has: CLUSTER)");
  }

  @Test
  void configDumpOfAnUnknownNodeNamesTheNodesWithConfig() throws Exception {
    CliRun unknown = lattice("config-dump", "nobody");
    assertThat(unknown.exit()).isEqualTo(1);
    assertThat(unknown.err()).contains("Error from server (NotFound)", "node 'nobody' has no config", "n1");
    CliRun bad = lattice("config-dump", "a/b");
    assertThat(bad.exit()).isEqualTo(2);
    assertThat(bad.err()).contains("node: 'a/b' (expected: a node id without '/')");
  }
}
