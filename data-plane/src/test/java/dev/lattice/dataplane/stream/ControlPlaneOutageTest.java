package dev.lattice.dataplane.stream;

import dev.lattice.dataplane.identity.TestIdentityService;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.dataplane.NodeProxy;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.telemetry.FlowExporter;
import dev.lattice.distributor.ConfigDistributorService;
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
import dev.lattice.identity.IdentityService;
import dev.lattice.identity.agent.NodeAgent;
import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.GrpcSvidAuthority;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.delegated.DataPlaneNodeSvid;
import dev.lattice.identity.agent.delegated.DelegatedIdentityServer;
import dev.lattice.identity.agent.delegated.DelegatedIdentitySettings;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.identity.signing.SigningClient;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import dev.lattice.testkit.time.MutableClock;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9's control-plane-down acceptance on the real parts: a real distributor and the proxy's flow records on
 * a broker of this test's own (so it can stop it), the proxy's node SVID from a real node agent (identity
 * service on the shared broker: the node's agent stays up, as on a real node). Steady traffic through the
 * proxy; the distributor and the broker stop mid-traffic → every request still succeeds on the last config,
 * flow records are dropped and counted on the admin API ({@code /stats}); the proxy restarted with both still
 * down comes up from its persisted snapshot and serves the same config; when both return it reconnects by itself,
 * a change reaches the traffic and flow records are delivered again.
 *
 * <p>{@code kafka.producer.delivery.timeout.ms} is 3 s here (an operator override; the proxy's default is 30 s)
 * so a record the broker never takes is counted within the test; every wait is a bounded condition.
 */
@LatticeKafkaTest
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ControlPlaneOutageTest {
  private static final String NODE = "dp-outage-node";
  private static final TrustDomain TD = TrustDomain.parse("lattice.local");
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  private ServiceLauncher identityLauncher;
  private IdentityService identity;
  private RunningService identityServer;
  private List<X509Certificate> roots;
  private EmbeddedKafkaBroker broker;
  private Vertx vertx;
  private SigningClient signing;
  private NodeAgent agent;
  private DataPlaneNodeSvid dataPlaneSvid;
  private DelegatedIdentityServer delegated;
  private Path adminSocket;
  private ServiceLauncher distributorLauncher;
  private String configTopic;
  private int grpcPort;
  private NodeProxy proxy;
  private DistributorConfigSource source;
  private HttpServer backend;

  @BeforeEach
  void start(KafkaCluster kafka) throws Exception {
    Map<String, String> config = TestIdentityService.config(kafka, dir);
    identityLauncher = ServiceLauncher.create(LatticeConfig.of(config));
    identity = new IdentityService();
    identityServer = join(identityLauncher.start(identity));
    await().atMost(WAIT).until(() -> get(identityServer.url("/readyz")).statusCode() == 200);
    roots = CertificateFactory.getInstance("X.509")
        .generateCertificates(new java.io.ByteArrayInputStream(get(identityServer.url("/v1/bundle.pem")).body().getBytes()))
        .stream().map(c -> (X509Certificate) c).toList();

    broker = EmbeddedKafkaBroker.builder().temporaryDataDir().quietLogs(true).build().start();
    configTopic = "lattice.config.v1";
    try (Admin admin = Admin.create(Map.of("bootstrap.servers", broker.bootstrapServers()))) {
      admin.createTopics(List.of(
          new NewTopic(configTopic, 1, (short) 1).configs(Map.of("cleanup.policy", "compact")),
          new NewTopic(configTopic + ".dlq", 1, (short) 1),
          new NewTopic(LatticeTopics.FLOWS.name(), 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(2)).withTransport(Transport.EPOLL).build();
    assertThat(vertx.isNativeTransportEnabled()).as("epoll (Unix sockets, peer credentials)").isTrue();
    grpcPort = freePort();
    startAgent();
    startDistributor();
    backend = join(vertx.createHttpServer().requestHandler(req -> req.response().end("one")).listen(0, "127.0.0.1"));
  }

  @AfterEach
  void stop() throws Exception {
    closeProxy();
    if (distributorLauncher != null) {
      join(distributorLauncher.stop());
    }
    if (broker != null) {
      broker.close();
    }
    if (dataPlaneSvid != null) {
      dataPlaneSvid.close();
      join(delegated.close());
      join(agent.stop());
      join(signing.close());
    }
    if (vertx != null) {
      join(vertx.close());
    }
    if (identityLauncher != null) {
      identityLauncher.close();
    }
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  /** A node agent for {@link #NODE} with the data plane's node SVID on its admin socket. */
  private void startAgent() throws Exception {
    MutableClock agentClock = new MutableClock(Instant.now());
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    Path sockets = Files.createTempDirectory(Path.of("/tmp"), "lattice-dpo-");
    adminSocket = sockets.resolve("admin.sock");
    HttpResponse<String> token = http.send(HttpRequest.newBuilder(identityServer.url("/v1/tokens"))
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("ttl", "10m").put("nodeId", NODE).encode()))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + AdminTokenFile.at(dir.resolve("admin.token")).tokens().get(0))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    Path tokenFile = dir.resolve("join-token");
    Files.writeString(tokenFile, new JsonObject(token.body()).getString("token"));
    signing = SigningClient.create(vertx, SocketAddress.inetSocketAddress(identity.signingPort(), "127.0.0.1"), TD, roots);
    GrpcSvidAuthority authority = new GrpcSvidAuthority(signing, agentClock);
    agent = new NodeAgent(vertx, authority, AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), agentClock,
        new NodeAgent.Settings(sockets.resolve("workload.sock"), Duration.ofMillis(200), Duration.ofSeconds(1)));
    join(agent.start());
    await().atMost(WAIT).until(agent::ready);
    dataPlaneSvid = new DataPlaneNodeSvid(vertx, authority, agent.node()::current, agentClock);
    dataPlaneSvid.start(Duration.ofMillis(50));
    delegated = new DelegatedIdentityServer(vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, Set.of(uid), Set.of()), dataPlaneSvid);
    join(delegated.listen());
  }

  /** The distributor on {@link #grpcPort} and this test's broker, its SVID minted by the identity service. */
  private void startDistributor() throws Exception {
    Map<String, String> config = new HashMap<>();
    config.put("kafka.bootstrap.servers", broker.bootstrapServers());
    config.put("ports.ephemeral", "true");
    config.put("distributor.http.port", "0");
    config.put("distributor.grpc.port", String.valueOf(grpcPort));
    config.put("distributor.topics.config", configTopic);
    config.put("distributor.debounce", "10ms");
    config.put("distributor.instance", "dpo-" + System.nanoTime());
    config.put("distributor.identity.url", identityServer.baseUrl().toString());
    config.put(AdminTokenFile.CONFIG_KEY, dir.resolve("admin.token").toString());
    distributorLauncher = ServiceLauncher.create(LatticeConfig.of(config));
    RunningService running = join(distributorLauncher.start(new ConfigDistributorService()));
    await().atMost(WAIT).until(() -> get(running.url("/readyz")).statusCode() == 200);
  }

  private void publish(ConfigType type, String name, SpecificRecord payload) throws Exception {
    ConfigResource r = ConfigResource.newBuilder().setNode(NODE).setType(type).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(payload)).setPayload(payload).build();
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(Map.of(
        "bootstrap.servers", broker.bootstrapServers()), new org.apache.kafka.common.serialization.StringSerializer(),
        new org.apache.kafka.common.serialization.ByteArraySerializer())) {
      producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(configTopic, NODE + "/" + type.name() + "/" + name,
          SERDE.encode(r))).get(30, TimeUnit.SECONDS);
    }
  }

  /** Starts the proxy as {@code lattice proxy --distributor … --agent-socket … --snapshot-file … --kafka …} does. */
  private void startProxy() throws Exception {
    DistributorConfigSource.Settings settings = DistributorConfigSource.Settings.agent(
            List.of(SocketAddress.inetSocketAddress(grpcPort, "127.0.0.1")), adminSocket, TD)
        .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .withSnapshotFile(Files.createDirectories(dir.resolve("proxy-state")).resolve("config.snapshot"));
    DistributorConfigSource.Identity id = join(DistributorConfigSource.identity(vertx, settings, Clock.systemUTC()));
    ProxySettings proxySettings = ProxySettings.defaults(id.node());
    KafkaClientConfig kafka = KafkaClientConfig.from(LatticeConfig.of(Map.of(
        "kafka.bootstrap.servers", broker.bootstrapServers(),
        "kafka.producer.delivery.timeout.ms", "3000",
        "kafka.producer.request.timeout.ms", "1000")), "data-plane");
    proxy = join(NodeProxy.start(vertx, ProxyConfig.of("empty", proxySettings, List.of(), List.of(), List.of(), List.of(),
        List.of()), NodeProxy.Options.admin(0, AdminTokenFile.at(dir.resolve("admin.token"))).withKafka(kafka)
        .withFlows(new FlowExporter.Options(1_024, 64, Duration.ofMillis(20)))));
    source = join(DistributorConfigSource.start(vertx, proxy.server(), proxySettings, settings, id));
  }

  private void closeProxy() throws Exception {
    if (source != null) {
      source.close();
      source = null;
    }
    if (proxy != null) {
      join(proxy.close());
      proxy = null;
    }
  }

  private URI out(String path) {
    return URI.create("http://127.0.0.1:" + proxy.server().address("out").getPort() + path);
  }

  /** {@code type → name → version} of the snapshot the proxy's config client applied. */
  private Map<ConfigType, Map<String, String>> resourceVersions() {
    Map<ConfigType, Map<String, String>> m = new HashMap<>();
    for (ConfigType t : List.of(ConfigType.LISTENER, ConfigType.ROUTE, ConfigType.CLUSTER)) {
      m.put(t, source.client().snapshot().versions(t));
    }
    assertThat(m.get(ConfigType.LISTENER)).containsKey("out");
    return m;
  }

  /** The proxy's admin {@code /stats}, as numbers. */
  private Map<String, Long> stats() throws Exception {
    Map<String, Long> m = new HashMap<>();
    for (String line : get(URI.create("http://127.0.0.1:" + proxy.admin().port() + "/stats")).body().split("\n")) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        try {
          m.put(line.substring(0, colon), Long.parseLong(line.substring(colon + 2).trim()));
        } catch (NumberFormatException e) {
          // not a counter
        }
      }
    }
    return m;
  }

  private long flowsLost() throws Exception {
    Map<String, Long> s = stats();
    return s.getOrDefault("lattice.flows.dropped_buffer_full", 0L) + s.getOrDefault("lattice.flows.failed", 0L);
  }

  @Test
  void distributorAndBrokerDownMidTrafficCostFlowRecordsNotRequestsAndARestartServesThePersistedConfig() throws Exception {
    publish(ConfigType.CLUSTER, "echo", ClusterConfig.newBuilder().setName("echo").setHost("echo.default").setPort(8080)
        .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("127.0.0.1").setPort(backend.actualPort())
            .setHealth(WorkloadHealth.HEALTHY).build())).build());
    publish(ConfigType.ROUTE, "r", RouteConfig.newBuilder().setName("r").setVirtualHosts(List.of(VirtualHost.newBuilder()
        .setName("echo").setDomains(List.of("*")).setRoutes(List.of(RouteRule.newBuilder().setName("default/echo")
            .setClusters(List.of(WeightedCluster.newBuilder().setCluster("echo").setWeight(100).build())).build())).build()))
        .build());
    publish(ConfigType.LISTENER, "out", ListenerConfig.newBuilder().setName("out").setPort(0)
        .setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP).setRouteConfig("r").build());
    startProxy();
    await().atMost(WAIT).until(() -> proxy.server().config().listeners().containsKey("out"));
    String version = proxy.server().config().version();
    Map<ConfigType, Map<String, String>> resources = resourceVersions();

    Traffic traffic = new Traffic(() -> out("/hello"));
    try {
      traffic.start();
      // flowing: requests served and their flow records on the broker
      await().atMost(WAIT).until(() -> traffic.ok.get() >= 50 && stats().getOrDefault("lattice.flows.sent", 0L) > 0);
      assertThat(source.client().connectedTo()).isNotNull();
      long lostBefore = flowsLost();

      // the control plane goes away mid-traffic
      join(distributorLauncher.stop());
      distributorLauncher = null;
      assertThat(broker.stop()).as("broker stopped within its timeout").isTrue();
      long okAtStop = traffic.ok.get();
      await().atMost(WAIT).until(() -> flowsLost() > lostBefore && traffic.ok.get() >= okAtStop + 200);
      assertThat(source.client().connectedTo()).as("the stream is down").isNull();
      Map<String, Long> down = stats();
      System.out.printf("control plane down: %d requests ok before, %d during the outage, %d failed; flows sent %d,"
          + " failed %d, dropped (buffer full) %d%n", okAtStop, traffic.ok.get() - okAtStop, traffic.failures.size(),
          down.get("lattice.flows.sent"), down.get("lattice.flows.failed"), down.get("lattice.flows.dropped_buffer_full"));
      assertThat(proxy.server().config().version()).as("still the last config").isEqualTo(version);
    } finally {
      traffic.close();
    }
    assertThat(traffic.failures).as("failed requests while the distributor and the broker were away").isEmpty();
    // every request was a flow record offered (the last one is offered as its exchange completes)
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      Map<String, Long> s = stats();
      assertThat(s.get("lattice.flows.accepted") + s.get("lattice.flows.dropped_buffer_full")).isEqualTo(traffic.ok.get());
    });

    // restart the proxy with both still down: it comes up with the persisted snapshot, nothing else to ask
    closeProxy();
    startProxy();
    assertThat(source.client().persistedProblem()).isNull();
    assertThat(resourceVersions()).as("the persisted config, applied at start").isEqualTo(resources);
    assertThat(proxy.server().config().listeners()).containsKey("out");
    for (int i = 0; i < 50; i++) {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(out("/after-restart/" + i)).timeout(Duration.ofSeconds(10))
          .GET().build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("one");
    }
    assertThat(source.client().connectedTo()).isNull();
    // its flow records cannot go anywhere either: counted, not waited for
    await().atMost(WAIT).until(() -> flowsLost() > 0);

    // the control plane returns (same addresses): the proxy reconnects by itself, a change reaches the traffic,
    // and flow records are delivered again
    long connects = source.client().connects();
    broker.start();
    startDistributor();
    // (the distributor has nothing newer than the persisted versions, so no response comes yet: count the connect)
    await().atMost(WAIT).until(() -> source.client().connects() > connects);
    HttpServer two = join(vertx.createHttpServer().requestHandler(req -> req.response().end("two")).listen(0, "127.0.0.1"));
    publish(ConfigType.CLUSTER, "echo", ClusterConfig.newBuilder().setName("echo").setHost("echo.default").setPort(8080)
        .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("127.0.0.1").setPort(two.actualPort())
            .setHealth(WorkloadHealth.HEALTHY).build())).build());
    await().atMost(WAIT).until(() -> http.send(HttpRequest.newBuilder(out("/back")).timeout(Duration.ofSeconds(10)).GET()
        .build(), HttpResponse.BodyHandlers.ofString()).body().equals("two"));
    await().atMost(WAIT).until(() -> stats().getOrDefault("lattice.flows.sent", 0L) > 0);
    assertThat(source.client().nacks()).isZero();
    join(two.close());
  }

  /**
   * Requests from one thread through the proxy's HTTP/1.1 keep-alive pool, ~2 ms apart, each one checked
   * (200 and the backend's body); anything else is a failure with its reason. Bounded: 5 minutes at most.
   */
  private final class Traffic implements AutoCloseable {
    final AtomicLong ok = new AtomicLong();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final Supplier<URI> target;
    private final Thread thread = new Thread(this::run, "outage-traffic");

    Traffic(Supplier<URI> target) {
      this.target = target;
      thread.setDaemon(true);
    }

    void start() {
      thread.start();
    }

    private void run() {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      while (!stop.get() && System.nanoTime() < deadline) {
        try {
          HttpResponse<String> r = http.send(HttpRequest.newBuilder(target.get()).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
          if (r.statusCode() == 200 && r.body().equals("one")) {
            ok.incrementAndGet();
          } else {
            failures.add(r.statusCode() + " " + r.body());
          }
          Thread.sleep(2); // pacing only: a steady flow on a shared machine
        } catch (InterruptedException e) {
          return;
        } catch (Exception e) {
          failures.add(e.toString());
        }
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      thread.join(15_000);
    }
  }
}
