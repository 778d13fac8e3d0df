package dev.lattice.identity.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.configclient.tls.NodeSvid;
import dev.lattice.configclient.tls.NodeSvidClient;
import dev.lattice.configclient.tls.SvidKeyManager;
import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.delegated.DataPlaneNodeSvid;
import dev.lattice.identity.agent.delegated.DelegatedIdentityServer;
import dev.lattice.identity.agent.delegated.DelegatedIdentitySettings;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.identity.ca.IssuedX509Svid;
import dev.lattice.identity.ca.X509SvidRequest;
import dev.lattice.schemas.agent.v1.NodeIdentityGrpcClient;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDRequest;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse;
import dev.lattice.testkit.time.MutableClock;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The data plane's node SVID (lattice.agent.v1.NodeIdentity) against a real agent (real CA, real
 * signing) over a real Unix socket and gRPC, read by the real {@link NodeSvidClient}: the node's own
 * SPIFFE ID on a key that is not the agent's node key, usable at once for an mTLS handshake with a
 * distributor SVID of the same CA; rotation at half life streamed on the open stream (test clock);
 * resubscription after the agent's socket went away; an unauthorized caller refused.
 */
class DataPlaneNodeSvidTest {

  private static final Duration NODE_TTL = Duration.ofHours(1);
  private static final TrustDomain TD = TrustDomain.parse(AgentFixtures.TRUST_DOMAIN);

  @TempDir Path dir;
  private Vertx vertx;
  private MutableClock clock;
  private CaBackedSvidAuthority authority;
  private NodeAgent agent;
  private DataPlaneNodeSvid dataPlane;
  private DelegatedIdentityServer delegated;
  private NodeSvidClient client;
  private Path adminSocket;
  private int uid;

  @BeforeEach
  void start() throws Exception {
    vertx = AgentFixtures.epollVertx();
    clock = new MutableClock(Instant.now());
    uid = AgentFixtures.myUid();
    authority = new CaBackedSvidAuthority(vertx, dir.resolve("ca"), AgentFixtures.TRUST_DOMAIN, clock, NODE_TTL);
    authority.addJoinToken("token-1");
    Path tokenFile = dir.resolve("join-token");
    Files.writeString(tokenFile, "token-1\n");
    Path workloadSocket = AgentFixtures.shortSocketPath("workload.sock");
    adminSocket = workloadSocket.resolveSibling("admin.sock");
    // the agent's own timer ticks once at start (period 1 h): its node credential stays the first one
    agent = new NodeAgent(vertx, authority,
        AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), clock,
        new NodeAgent.Settings(workloadSocket, Duration.ofHours(1), Duration.ofSeconds(30)));
    join(agent.start());
    await().atMost(Duration.ofSeconds(10)).until(agent::ready);
    dataPlane = new DataPlaneNodeSvid(vertx, authority, agent.node()::current, clock);
    dataPlane.start(Duration.ofMillis(50));
  }

  private void serve(Set<Integer> uids) throws Exception {
    delegated = new DelegatedIdentityServer(vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, uids, Set.of()), dataPlane);
    join(delegated.listen());
  }

  @AfterEach
  void stop() throws Exception {
    if (client != null) {
      client.close();
    }
    dataPlane.close();
    if (delegated != null) {
      join(delegated.close());
    }
    join(agent.stop());
    join(vertx.close());
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private NodeSvid subscribe() throws Exception {
    client = new NodeSvidClient(vertx, adminSocket, TD, clock, Duration.ofMillis(50), Duration.ofMillis(500));
    return join(client.start());
  }

  @Test
  void theDataPlaneGetsTheNodesIdentityOnAKeyOfItsOwn() throws Exception {
    serve(Set.of(uid));
    NodeSvid svid = subscribe();
    NodeCredential agentNode = agent.node().current().orElseThrow();

    assertThat(svid.id().toString()).isEqualTo(agentNode.svid().spiffeId());
    assertThat(NodeSpiffeIds.nodeOf(svid.id(), TD)).contains("n1");
    // a separate key made on the node: neither the agent's node key nor its certificate
    assertThat(svid.chain().get(0).getPublicKey()).isNotEqualTo(agentNode.svid().leaf().getPublicKey());
    assertThat(svid.key().getEncoded()).isNotEqualTo(agentNode.key().getEncoded());
    assertThat(svid.chain().get(0).getSerialNumber()).isNotEqualTo(agentNode.svid().leaf().getSerialNumber());
    assertThat(svid.bundle()).containsExactlyElementsOf(authority.bundle().x509Authorities());
    assertThat(authority.nodeRenewals.get()).isEqualTo(1);
    assertThat(dataPlane.signedCount()).isEqualTo(1);
    assertThat(client.keyManager().leaf()).isEqualTo(svid.chain().get(0));
    // the agent's own credential was not replaced and still authenticates to the server
    assertThat(agent.node().current()).contains(agentNode);
    join(authority.signJwt(agentNode, "none", List.of("x")).recover(err ->
        err.getMessage().contains("UNAUTHENTICATED") ? Future.failedFuture(err) : Future.succeededFuture(null)));

    // and the data plane authenticates with it over real mTLS to a distributor SVID of the same CA
    assertThat(handshakeAsDistributor(client)).isEqualTo(svid.id());
  }

  @Test
  void rotationAtHalfLifeIsStreamedWithANewKey() throws Exception {
    serve(Set.of(uid));
    NodeSvid first = subscribe();
    AtomicReference<NodeSvid> latest = new AtomicReference<>();
    client.onUpdate(latest::set);

    clock.advance(NODE_TTL.dividedBy(2).plusMinutes(1));
    // onUpdate may first see the SVID already streamed (it raced the registration): wait for a new one.
    await().atMost(Duration.ofSeconds(10)).until(() -> latest.get() != null
        && !latest.get().chain().get(0).getSerialNumber().equals(first.chain().get(0).getSerialNumber()));

    NodeSvid second = latest.get();
    assertThat(second.id()).isEqualTo(first.id());
    assertThat(second.chain().get(0).getSerialNumber()).isNotEqualTo(first.chain().get(0).getSerialNumber());
    assertThat(second.key().getEncoded()).isNotEqualTo(first.key().getEncoded());
    assertThat(second.expiresAt()).isAfter(first.expiresAt());
    assertThat(client.keyManager().leaf()).isEqualTo(second.chain().get(0));
    assertThat(client.current()).contains(second);
    assertThat(dataPlane.signedCount()).isEqualTo(2);
    assertThat(client.subscriptions()).as("rotation came on the open stream").isEqualTo(1);
    assertThat(client.rejected()).isZero();
    // nothing more before the next half life
    Thread.sleep(300);
    assertThat(dataPlane.signedCount()).isEqualTo(2);
  }

  @Test
  void theClientResubscribesWhenTheAgentSocketComesBack() throws Exception {
    serve(Set.of(uid));
    NodeSvid first = subscribe();
    join(delegated.close());
    serve(Set.of(uid));
    await().atMost(Duration.ofSeconds(10)).until(() -> client.subscriptions() >= 2 && client.received() >= 2);
    // the same SVID again (not re-signed): the agent holds it, the client keeps serving it meanwhile
    assertThat(client.current().orElseThrow().chain()).isEqualTo(first.chain());
    assertThat(dataPlane.signedCount()).isEqualTo(1);
  }

  @Test
  void aCallerThatIsNotAnAuthorizedDelegateIsRefused() throws Exception {
    serve(Set.of(uid + 1));
    try (WorkloadApiTestClient raw = new WorkloadApiTestClient(vertx, adminSocket)) {
      WorkloadApiTestClient.Call<SubscribeToNodeX509SVIDResponse> call = raw.start(
          NodeIdentityGrpcClient.SubscribeToNodeX509SVID, SubscribeToNodeX509SVIDRequest.getDefaultInstance(), false);
      await().atMost(Duration.ofSeconds(10)).until(() -> call.status != null);
      assertThat(call.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
      assertThat(call.statusMessage).contains("not an authorized delegate");
      assertThat(call.messages).isEmpty();
    }
  }

  /** A TLS server with a distributor SVID that requires a node SVID; returns the client ID it saw. */
  private SpiffeId handshakeAsDistributor(NodeSvidClient node) throws Exception {
    KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
    generator.initialize(new ECGenParameterSpec("secp256r1"));
    KeyPair key = generator.generateKeyPair();
    IssuedX509Svid distributorSvid = authority.ca().issue(new X509SvidRequest(NodeSpiffeIds.distributor(TD),
        key.getPublic(), Duration.ofMinutes(10), List.of()));
    SvidKeyManager serverKeys = new SvidKeyManager();
    serverKeys.update(key.getPrivate(), distributorSvid.chain());
    List<X509Certificate> anchors = authority.bundle().x509Authorities();
    SvidTrustManager nodesOnly = new SvidTrustManager(() -> anchors, id -> NodeSpiffeIds.nodeOf(id, TD).isPresent(),
        "a node SVID");
    AtomicReference<SpiffeId> seen = new AtomicReference<>();
    NetServer server = vertx.createNetServer(new NetServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
        .setClientAuth(ClientAuth.REQUIRED).setKeyCertOptions(KeyCertOptions.wrap(serverKeys))
        .setTrustOptions(TrustOptions.wrap(nodesOnly)))
        .connectHandler(socket -> {
          try {
            X509Certificate leaf = (X509Certificate) socket.sslSession().getPeerCertificates()[0];
            seen.set(SvidTrustManager.spiffeIdOf(leaf));
            socket.write("ok");
          } catch (Exception e) {
            socket.close();
          }
        });
    join(server.listen());
    SvidTrustManager distributorOnly = new SvidTrustManager(node::trustAnchors,
        id -> id.equals(NodeSpiffeIds.distributor(TD)), "the distributor SVID");
    var netClient = vertx.createNetClient(new NetClientOptions().setSsl(true)
        .setKeyCertOptions(KeyCertOptions.wrap(node.keyManager())).setTrustOptions(TrustOptions.wrap(distributorOnly))
        .setHostnameVerificationAlgorithm(""));
    try {
      var socket = join(netClient.connect(server.actualPort(), "127.0.0.1"));
      await().atMost(Duration.ofSeconds(10)).until(() -> seen.get() != null);
      socket.close();
      return seen.get();
    } finally {
      join(netClient.close());
      join(server.close());
    }
  }
}
