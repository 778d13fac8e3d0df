package dev.lattice.dataplane.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.identity.IdentityService;
import dev.lattice.identity.agent.NodeAgent;
import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.GrpcSvidAuthority;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.delegated.DelegatedIdentityServer;
import dev.lattice.identity.agent.delegated.DelegatedIdentitySettings;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.identity.signing.SigningClient;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import dev.lattice.testkit.time.MutableClock;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.math.BigInteger;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's identity source against the real thing: the identity service (CA, entries on a real Kafka
 * broker, the Signing gRPC API over mTLS), a real node agent attested with a join token and serving
 * the Delegated Identity API on a Unix socket, and {@link DelegatedIdentityClient} subscribing over
 * it. The agent's clock is a test clock, so rotation is driven by advancing it; the agent is stopped
 * and started again to show the client resubscribing; a CA rotation being prepared is a bundle update.
 */
@LatticeKafkaTest
class DelegatedIdentityClientTest {

  private static final String NODE = "dp-node";
  private static final String WEB = "spiffe://lattice.local/ns/default/sa/web";
  private static final String API = "spiffe://lattice.local/ns/default/sa/api";
  private static final int TTL_SECONDS = 600;
  private static final WorkloadSelectors WEB_WORKLOAD = WorkloadSelectors.of("unix:uid:4242");
  private static final WorkloadSelectors API_WORKLOAD = WorkloadSelectors.of("unix:uid:4343", "unix:gid:4343");

  @TempDir static Path dir;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static ServiceLauncher serverSide;
  private static IdentityService identity;
  private static RunningService server;
  private static Path bootstrap;

  private Vertx vertx;
  private MutableClock agentClock;
  private SigningClient signing;
  private NodeAgent agent;
  private DelegatedIdentityServer delegated;
  private DelegatedIdentityClient client;
  private Path tokenFile;
  private Path workloadSocket;
  private Path adminSocket;
  private int uid;

  @BeforeAll
  static void startIdentityService(KafkaCluster kafka) throws Exception {
    Map<String, String> config = TestIdentityService.config(kafka, dir);
    serverSide = ServiceLauncher.create(LatticeConfig.of(config));
    identity = new IdentityService();
    server = join(serverSide.start(identity));
    await().atMost(Duration.ofSeconds(60)).until(() -> get("/readyz").statusCode() == 200);
    bootstrap = dir.resolve("bundle.pem");
    Files.writeString(bootstrap, get("/v1/bundle.pem").body());
    String nodeId = "spiffe://lattice.local/lattice/node/" + NODE;
    newJoinToken(); // the node of an unused token may parent entries
    for (String[] entry : new String[][] {{WEB, "unix:uid:4242"}, {API, "unix:uid:4343"}}) {
      HttpResponse<String> created = post("/v1/entries", new JsonObject().put("spiffeId", entry[0])
          .put("parentId", nodeId).put("selectors", new JsonArray().add(entry[1]))
          .put("x509SvidTtlSeconds", TTL_SECONDS));
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    }
  }

  @AfterAll
  static void stopIdentityService() {
    if (serverSide != null) {
      serverSide.close();
    }
  }

  private static HttpResponse<String> get(String path) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(server.url(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static HttpResponse<String> post(String path, JsonObject body) throws Exception {
    return HTTP.send(HttpRequest.newBuilder(server.url(path)).POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + AdminTokenFile.at(dir.resolve("admin.token")).tokens().get(0))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String newJoinToken() throws Exception {
    HttpResponse<String> token = post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", NODE));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    return new JsonObject(token.body()).getString("token");
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @BeforeEach
  void startAgent() throws Exception {
    vertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(2)).withTransport(Transport.EPOLL).build();
    assertThat(vertx.isNativeTransportEnabled()).as("epoll (peer credentials)").isTrue();
    agentClock = new MutableClock(Instant.now());
    uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    Path sockets = Files.createTempDirectory(Path.of("/tmp"), "lattice-dp-");
    workloadSocket = sockets.resolve("workload.sock");
    adminSocket = sockets.resolve("admin.sock");
    tokenFile = dir.resolve("join-token-" + System.nanoTime());
    startAgent(Set.of(uid));
  }

  /** A node agent for {@link #NODE} with a fresh join token, and its Delegated Identity API. */
  private void startAgent(Set<Integer> authorizedUids) throws Exception {
    Files.writeString(tokenFile, newJoinToken());
    List<X509Certificate> roots = CertificateFactory.getInstance("X.509")
        .generateCertificates(Files.newInputStream(bootstrap)).stream().map(c -> (X509Certificate) c).toList();
    signing = SigningClient.create(vertx, SocketAddress.inetSocketAddress(identity.signingPort(), "127.0.0.1"),
        TrustDomain.parse("lattice.local"), roots);
    agent = new NodeAgent(vertx, new GrpcSvidAuthority(signing, agentClock),
        AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), agentClock,
        new NodeAgent.Settings(workloadSocket, Duration.ofMillis(200), Duration.ofSeconds(1)));
    join(agent.start());
    delegated = new DelegatedIdentityServer(vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, authorizedUids, Set.of()));
    join(delegated.listen());
  }

  private void stopAgent() throws Exception {
    join(delegated.close());
    join(agent.stop());
    join(signing.close());
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    stopAgent();
    join(vertx.close());
  }

  private DelegatedIdentityClient startClient(WorkloadSelectors... workloads) {
    DelegatedIdentityClient.Settings settings = new DelegatedIdentityClient.Settings(adminSocket,
        Duration.ofMillis(50), Duration.ofMillis(500), Duration.ofSeconds(1));
    client = DelegatedIdentityClient.start(vertx, settings, Clock.systemUTC(), List.of(workloads));
    return client;
  }

  private static IdentitySnapshot first(DelegatedIdentityClient client) throws Exception {
    return client.firstSnapshot().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static BigInteger serial(IdentitySnapshot snapshot, String spiffeId) {
    return snapshot.svid(spiffeId).orElseThrow().leaf().getSerialNumber();
  }

  @Test
  void theProxyHoldsItsWorkloadsSvidsAndFollowsRotationBundlesAndAgentRestarts() throws Exception {
    DelegatedIdentityClient source = startClient(WEB_WORKLOAD);
    List<IdentitySnapshot> seen = new CopyOnWriteArrayList<>();
    source.addListener(seen::add);
    await().atMost(Duration.ofSeconds(60)).until(() -> source.current().svid(WEB).isPresent());
    assertThat(first(source).bundles()).containsKey("lattice.local");
    IdentitySnapshot initial = source.current();
    HeldSvid web = initial.svid(WEB).orElseThrow();
    assertThat(initial.svids()).containsOnlyKeys(WEB);
    // the chain validates against the bundle held, and the key is the leaf's
    PKIXParameters pkix = new PKIXParameters(initial.bundle("lattice.local").stream()
        .map(r -> new TrustAnchor(r, null)).collect(Collectors.toSet()));
    pkix.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(web.chain()), pkix);
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(web.privateKey());
    signer.update(new byte[] {1, 2, 3});
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(web.leaf().getPublicKey());
    verifier.update(new byte[] {1, 2, 3});
    assertThat(verifier.verify(signer.sign())).isTrue();

    // rotation: past half life on the agent's clock, the agent renews and the proxy gets a new snapshot
    BigInteger before = serial(initial, WEB);
    long revision = initial.revision();
    agentClock.advance(Duration.ofSeconds(TTL_SECONDS / 2 + 1));
    await().atMost(Duration.ofSeconds(30)).until(() -> !serial(source.current(), WEB).equals(before));
    assertThat(source.current().revision()).isGreaterThan(revision);
    assertThat(seen).isNotEmpty();
    assertThat(seen.get(seen.size() - 1)).isSameAs(source.current());

    // a bundle change: a CA rotation being prepared adds a root
    int roots = source.current().bundle("lattice.local").size();
    identity.certificateAuthority().prepare();
    await().atMost(Duration.ofSeconds(30)).until(() -> source.current().bundle("lattice.local").size() == roots + 1);

    // the agent goes away: the proxy keeps its SVIDs, then resubscribes to the new agent
    BigInteger beforeRestart = serial(source.current(), WEB);
    int reconnects = source.reconnects();
    stopAgent();
    assertThat(source.current().svid(WEB)).isPresent();
    startAgent(Set.of(uid));
    await().atMost(Duration.ofSeconds(60)).until(() -> !serial(source.current(), WEB).equals(beforeRestart));
    assertThat(source.reconnects()).isGreaterThan(reconnects);
    assertThat(source.current().bundle("lattice.local")).hasSize(roots + 1);
  }

  @Test
  void workloadsComeAndGoWithWatch() throws Exception {
    DelegatedIdentityClient source = startClient(WEB_WORKLOAD);
    assertThat(first(source).bundles()).containsKey("lattice.local");
    await().atMost(Duration.ofSeconds(60)).until(() -> source.current().svid(WEB).isPresent());
    source.watch(List.of(WEB_WORKLOAD, API_WORKLOAD));
    await().atMost(Duration.ofSeconds(60)).until(() -> source.current().svids().keySet().equals(Set.of(WEB, API)));
    source.watch(List.of(API_WORKLOAD));
    await().atMost(Duration.ofSeconds(10)).until(() -> source.current().svids().keySet().equals(Set.of(API)));
    // selectors that match no entry: no SVID, and no error
    source.watch(List.of(API_WORKLOAD, WorkloadSelectors.of("unix:uid:1")));
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
        .until(() -> source.current().svids().keySet().equals(Set.of(API)));
  }

  @Test
  void aProxyThatIsNotAnAuthorizedDelegateFailsToStartWithTheAgentsReason() throws Exception {
    stopAgent();
    startAgent(Set.of(uid + 1));
    DelegatedIdentityClient source = startClient(WEB_WORKLOAD);
    assertThatThrownBy(() -> first(source))
        .isInstanceOf(ExecutionException.class)
        .hasMessageContaining("PERMISSION_DENIED")
        .hasMessageContaining("not an authorized delegate");
    assertThat(source.current().svids()).isEmpty();
  }
}
