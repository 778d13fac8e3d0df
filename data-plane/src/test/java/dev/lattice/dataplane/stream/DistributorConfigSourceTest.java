package dev.lattice.dataplane.stream;

import dev.lattice.dataplane.identity.TestIdentityService;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.dataplane.NodeProxy;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.distributor.ConfigDistributorService;
import dev.lattice.distributor.status.ConfigStatusReporter;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.WorkloadHealth;
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
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import dev.lattice.testkit.time.MutableClock;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Stream mode of the proxy against the real parts: the identity service (CA on a real broker, Signing gRPC over
 * mTLS), a real node agent attested with a join token serving the data plane's node SVID
 * ({@code lattice.agent.v1.NodeIdentity}) on its admin Unix socket, and a real distributor that mints its own
 * SVID from identity and serves the config stream over mTLS. The proxy takes its node from the SVID, gets its
 * listener, route and cluster from the distributor and serves real traffic with them; a change on the topic
 * reaches the traffic; after the agent rotates the node SVID (its clock past half life) the next connection to a
 * restarted distributor presents the new certificate.
 */
@LatticeKafkaTest
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class DistributorConfigSourceTest {

  private static final String NODE = "dp-stream-node";
  private static final TrustDomain TD = TrustDomain.parse("lattice.local");
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir static Path dir;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private static ServiceLauncher identityLauncher;
  private static IdentityService identity;
  private static RunningService identityServer;
  private static List<X509Certificate> roots;
  private static KafkaCluster kafka;

  private Vertx vertx;
  private MutableClock agentClock;
  private SigningClient signing;
  private NodeAgent agent;
  private DataPlaneNodeSvid dataPlaneSvid;
  private DelegatedIdentityServer delegated;
  private Path adminSocket;
  private ServiceLauncher distributorLauncher;
  private ConfigDistributorService distributor;
  private RunningService distributorServer;
  private NodeProxy proxy;
  private DistributorConfigSource source;
  private String configTopic;
  private String statusTopic;
  private int grpcPort;

  @BeforeAll
  static void startIdentityService(KafkaCluster cluster) throws Exception {
    kafka = cluster;
    Map<String, String> config = TestIdentityService.config(kafka, dir);
    identityLauncher = ServiceLauncher.create(LatticeConfig.of(config));
    identity = new IdentityService();
    identityServer = join(identityLauncher.start(identity));
    await().atMost(WAIT).until(() -> get(identityServer.url("/readyz")).statusCode() == 200);
    roots = CertificateFactory.getInstance("X.509")
        .generateCertificates(new java.io.ByteArrayInputStream(get(identityServer.url("/v1/bundle.pem")).body().getBytes()))
        .stream().map(c -> (X509Certificate) c).toList();
  }

  @AfterAll
  static void stopIdentityService() {
    if (identityLauncher != null) {
      identityLauncher.close();
    }
  }

  private static HttpResponse<String> get(URI uri) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static String newJoinToken() throws Exception {
    HttpResponse<String> token = HTTP.send(HttpRequest.newBuilder(identityServer.url("/v1/tokens"))
        .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("ttl", "10m").put("nodeId", NODE).encode()))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + AdminTokenFile.at(dir.resolve("admin.token")).tokens().get(0))
        .build(), HttpResponse.BodyHandlers.ofString());
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    return new JsonObject(token.body()).getString("token");
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static int freePort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(2)).withTransport(Transport.EPOLL).build();
    assertThat(vertx.isNativeTransportEnabled()).as("epoll (Unix sockets, peer credentials)").isTrue();
    configTopic = kafka.createTopic(kafka.uniqueTopic("lattice.config.v1"), 1, Map.of("cleanup.policy", "compact"));
    kafka.createTopic(configTopic + ".dlq", 1, Map.of());
    statusTopic = kafka.uniqueTopic("lattice.config.status.v1");
    grpcPort = freePort();
    startAgent();
    startDistributor();
  }

  /** A node agent for {@link #NODE} (test clock) with the data plane's node SVID on its admin socket. */
  private void startAgent() throws Exception {
    agentClock = new MutableClock(Instant.now());
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    Path sockets = Files.createTempDirectory(Path.of("/tmp"), "lattice-dps-");
    Path workloadSocket = sockets.resolve("workload.sock");
    adminSocket = sockets.resolve("admin.sock");
    Path tokenFile = dir.resolve("join-token-" + System.nanoTime());
    Files.writeString(tokenFile, newJoinToken());
    signing = SigningClient.create(vertx, SocketAddress.inetSocketAddress(identity.signingPort(), "127.0.0.1"), TD, roots);
    GrpcSvidAuthority authority = new GrpcSvidAuthority(signing, agentClock);
    agent = new NodeAgent(vertx, authority,
        AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), agentClock,
        new NodeAgent.Settings(workloadSocket, Duration.ofMillis(200), Duration.ofSeconds(1)));
    join(agent.start());
    await().atMost(WAIT).until(agent::ready);
    dataPlaneSvid = new DataPlaneNodeSvid(vertx, authority, agent.node()::current, agentClock);
    dataPlaneSvid.start(Duration.ofMillis(50));
    delegated = new DelegatedIdentityServer(vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, Set.of(uid), Set.of()), dataPlaneSvid);
    join(delegated.listen());
  }

  /** The distributor on {@link #grpcPort}, its SVID minted by the identity service (as ./lattice up runs it). */
  private void startDistributor() throws Exception {
    Map<String, String> config = new HashMap<>();
    config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    config.put("ports.ephemeral", "true");
    config.put("distributor.http.port", "0");
    config.put("distributor.grpc.port", String.valueOf(grpcPort));
    config.put("distributor.topics.config", configTopic);
    config.put("distributor.topics.status", statusTopic);
    config.put("distributor.debounce", "10ms");
    config.put("distributor.instance", "dps-" + System.nanoTime());
    config.put("distributor.identity.url", identityServer.baseUrl().toString());
    config.put(AdminTokenFile.CONFIG_KEY, dir.resolve("admin.token").toString());
    distributorLauncher = ServiceLauncher.create(LatticeConfig.of(config));
    distributor = new ConfigDistributorService();
    distributorServer = join(distributorLauncher.start(distributor));
    await().atMost(WAIT).until(() -> get(distributorServer.url("/readyz")).statusCode() == 200);
  }

  private void stopDistributor() throws Exception {
    if (distributorLauncher != null) {
      join(distributorLauncher.stop());
      distributorLauncher = null;
    }
  }

  @AfterEach
  void stop() throws Exception {
    if (source != null) {
      source.close();
    }
    if (proxy != null) {
      join(proxy.close());
    }
    stopDistributor();
    dataPlaneSvid.close();
    join(delegated.close());
    join(agent.stop());
    join(signing.close());
    join(vertx.close());
  }

  private static ConfigResource resource(ConfigType type, String name, SpecificRecord payload) {
    return ConfigResource.newBuilder().setNode(NODE).setType(type).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(payload)).setPayload(payload).build();
  }

  private void publish(ConfigResource r) {
    KafkaRecords.produce(kafka, configTopic, NODE + "/" + r.getType().name() + "/" + r.getName(), SERDE.encode(r));
  }

  /** An outbound HTTP listener (ephemeral port) → route r → cluster echo at 127.0.0.1:{@code backendPort}. */
  private void publishOutbound(int backendPort) {
    publish(resource(ConfigType.CLUSTER, "echo", ClusterConfig.newBuilder().setName("echo").setHost("echo.default")
        .setPort(8080).setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("127.0.0.1").setPort(backendPort)
            .setHealth(WorkloadHealth.HEALTHY).build())).build()));
    RouteRule rule = RouteRule.newBuilder().setName("default/echo")
        .setClusters(List.of(WeightedCluster.newBuilder().setCluster("echo").setWeight(100).build())).build();
    publish(resource(ConfigType.ROUTE, "r", RouteConfig.newBuilder().setName("r").setVirtualHosts(List.of(
        VirtualHost.newBuilder().setName("echo").setDomains(List.of("*")).setRoutes(List.of(rule)).build())).build()));
    publish(resource(ConfigType.LISTENER, "out", ListenerConfig.newBuilder().setName("out").setPort(0)
        .setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP).setRouteConfig("r").build()));
  }

  private HttpServer backend(String body) throws Exception {
    return join(vertx.createHttpServer().requestHandler(req -> req.response().end(body)).listen(0, "127.0.0.1"));
  }

  private DistributorConfigSource.Settings settings() {
    return DistributorConfigSource.Settings.agent(List.of(SocketAddress.inetSocketAddress(grpcPort, "127.0.0.1")),
        adminSocket, TD).withBackoff(Duration.ofMillis(50), Duration.ofMillis(500));
  }

  /** Starts the proxy the way {@code lattice proxy --distributor … --agent-socket …} does. */
  private void startProxy() throws Exception {
    DistributorConfigSource.Identity id = join(DistributorConfigSource.identity(vertx, settings(), Clock.systemUTC()));
    assertThat(id.node()).as("the node of the agent's SVID").isEqualTo(NODE);
    ProxySettings proxySettings = ProxySettings.defaults(id.node());
    proxy = join(NodeProxy.start(vertx, ProxyConfig.of("empty", proxySettings, List.of(), List.of(), List.of(), List.of(),
        List.of()), NodeProxy.Options.admin(-1, null)));
    source = join(DistributorConfigSource.start(vertx, proxy.server(), proxySettings, settings(), id));
  }

  private String callThroughProxy() throws Exception {
    var out = proxy.server().address("out");
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + out.getPort() + "/hello"))
        .timeout(Duration.ofSeconds(10)).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    return r.body();
  }

  private String serialPresented() {
    ConfigStatusReporter.PresentedSvid p = distributor.status().presentedSvid(NODE);
    return p == null ? null : p.serial();
  }

  @Test
  void theProxyServesTheDistributorsConfigOverMtlsWithTheAgentsNodeSvid() throws Exception {
    HttpServer one = backend("one");
    publishOutbound(one.actualPort());
    startProxy();

    await().atMost(WAIT).until(() -> proxy.server().config().listeners().containsKey("out"));
    assertThat(callThroughProxy()).isEqualTo("one");
    assertThat(source.client().acks()).isGreaterThanOrEqualTo(3);
    assertThat(source.client().nacks()).isZero();
    // the distributor authenticated the node SVID the agent made for the data plane (not the agent's own)
    X509Certificate presented = source.nodeSvid().keyManager().leaf();
    await().atMost(WAIT).until(() -> presented.getSerialNumber().toString(16).equals(serialPresented()));
    assertThat(presented.getSerialNumber()).isNotEqualTo(agent.node().current().orElseThrow().svid().leaf().getSerialNumber());
    JsonObject proxies = new JsonObject(get(distributorServer.url("/v1/proxies")).body());
    JsonObject mine = proxies.getJsonArray("proxies").stream().map(JsonObject.class::cast)
        .filter(p -> p.getString("node").equals(NODE)).findFirst().orElseThrow();
    assertThat(mine.getBoolean("connected")).isTrue();
    assertThat(mine.getJsonObject("svid").getString("serial")).isEqualTo(presented.getSerialNumber().toString(16));
    await().atMost(WAIT).untilAsserted(() -> assertThat(new JsonObject(get(distributorServer.url("/v1/proxies")).body())
        .getJsonArray("proxies").getJsonObject(0).getJsonObject("types").getJsonObject("LISTENER").getString("state"))
        .isEqualTo("SYNCED"));

    // a change on the topic reaches the traffic without a restart
    HttpServer two = backend("two");
    publishOutbound(two.actualPort());
    await().atMost(WAIT).ignoreExceptions().until(() -> callThroughProxy().equals("two"));
    join(one.close());
    join(two.close());
  }

  @Test
  void aRotatedNodeSvidIsPresentedOnTheNextConnection() throws Exception {
    HttpServer one = backend("one");
    publishOutbound(one.actualPort());
    startProxy();
    await().atMost(WAIT).until(() -> proxy.server().config().listeners().containsKey("out"));
    X509Certificate first = source.nodeSvid().keyManager().leaf();
    await().atMost(WAIT).until(() -> first.getSerialNumber().toString(16).equals(serialPresented()));

    // past half life on the agent's clock: the agent signs a new node SVID and streams it to the proxy
    agentClock.advance(Duration.ofMinutes(31));
    await().atMost(WAIT).until(() -> !source.nodeSvid().keyManager().leaf().getSerialNumber().equals(first.getSerialNumber()));
    X509Certificate second = source.nodeSvid().keyManager().leaf();
    assertThat(source.nodeSvid().subscriptions()).as("rotation came on the open subscription").isEqualTo(1);

    // the distributor restarts (same port): the proxy reconnects presenting the rotated SVID, keeping its config
    long connects = source.client().connects();
    stopDistributor();
    assertThat(callThroughProxy()).as("served from the last good config while the distributor is away").isEqualTo("one");
    startDistributor();
    // (nothing differs after the restart, so no response comes yet: the distributor's view is the proof)
    await().atMost(WAIT).until(() -> source.client().connects() > connects
        && second.getSerialNumber().toString(16).equals(serialPresented()));
    HttpServer two = backend("two");
    publishOutbound(two.actualPort());
    await().atMost(WAIT).ignoreExceptions().until(() -> callThroughProxy().equals("two"));
    assertThat(source.client().nacks()).isZero();
    join(one.close());
    join(two.close());
  }

  @Test
  void aConfiguredNodeOtherThanTheSvidsIsRefused() throws Exception {
    assertThatThrownBy(() -> join(DistributorConfigSource.identity(vertx, settings().withNode("someone-else"),
        Clock.systemUTC())))
        .hasMessageContaining("node: someone-else (expected: " + NODE);
    assertThatThrownBy(() -> DistributorConfigSource.Settings.plaintext(
        List.of(SocketAddress.inetSocketAddress(grpcPort, "127.0.0.1")), null))
        .hasMessageContaining("node: not set");
  }
}
