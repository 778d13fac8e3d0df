package dev.lattice.identity.agent;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.schemas.workload.JWTBundlesRequest;
import dev.lattice.schemas.workload.JWTBundlesResponse;
import dev.lattice.schemas.workload.JWTSVIDRequest;
import dev.lattice.schemas.workload.JWTSVIDResponse;
import dev.lattice.schemas.workload.SpiffeWorkloadAPIGrpcClient;
import dev.lattice.schemas.workload.X509SVIDRequest;
import dev.lattice.schemas.workload.X509SVIDResponse;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Workload API and the agent under bad input and failure: a call without the security header, a
 * caller no entry matches, a pid reused between attestation and reply, an identity server that goes
 * away (cached SVIDs keep being served until expiry), and a node SVID that expired (the agent attests
 * again with a fresh join token, without a restart). Real socket, real CA; time is a test clock.
 */
class WorkloadApiFailureModesTest {

  private static final Duration X509_TTL = Duration.ofMinutes(10);
  private static final Duration NODE_TTL = Duration.ofHours(1);

  @TempDir Path dir;
  private Vertx vertx;
  private MutableClock clock;
  private CaBackedSvidAuthority authority;
  private NodeAgent agent;
  private WorkloadApiTestClient client;
  private Path socket;
  private Path tokenFile;
  private int uid;

  @BeforeEach
  void start() throws Exception {
    vertx = AgentFixtures.epollVertx();
    clock = new MutableClock(Instant.now());
    uid = AgentFixtures.myUid();
    authority = new CaBackedSvidAuthority(vertx, dir.resolve("ca"), AgentFixtures.TRUST_DOMAIN, clock, NODE_TTL);
    authority.addJoinToken("token-1");
    authority.putEntry(AgentFixtures.entry("web", "/ns/default/sa/web", Set.of(Selector.unixUid(uid)),
        (int) X509_TTL.toSeconds()));
    tokenFile = dir.resolve("join-token");
    Files.writeString(tokenFile, "token-1\n");
    socket = AgentFixtures.shortSocketPath("workload.sock");
    agent = startAgent(ProcessTable.system(), socket);
    client = new WorkloadApiTestClient(vertx, socket);
  }

  private NodeAgent startAgent(ProcessTable processes, Path socketPath) throws Exception {
    // a refresh period of an hour: after the first pass, the test drives refreshes by hand
    NodeAgent a = new NodeAgent(vertx, authority,
        AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), processes, clock,
        new NodeAgent.Settings(socketPath, Duration.ofHours(1), Duration.ofSeconds(30)));
    a.start().toCompletionStage().toCompletableFuture().get();
    await().atMost(Duration.ofSeconds(10)).until(() -> a.svids().state().svids().containsKey("web"));
    return a;
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    agent.stop().toCompletionStage().toCompletableFuture().get();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static <T> T join(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get();
  }

  private WorkloadApiTestClient.Call<X509SVIDResponse> fetchX509(boolean header) {
    return client.start(SpiffeWorkloadAPIGrpcClient.FetchX509SVID, X509SVIDRequest.getDefaultInstance(), header);
  }

  private static BigInteger serialOf(X509SVIDResponse response) throws Exception {
    X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
        new ByteArrayInputStream(response.getSvids(0).getX509Svid().toByteArray()));
    return leaf.getSerialNumber();
  }

  private BigInteger firstSerialServed() throws Exception {
    WorkloadApiTestClient.Call<X509SVIDResponse> call = fetchX509(true);
    await().atMost(Duration.ofSeconds(5)).until(() -> !call.messages.isEmpty() || call.status != null);
    assertThat(call.status).as("status %s", call.statusMessage).isNull();
    call.cancel();
    return serialOf(call.messages.get(0));
  }

  @Test
  void callsWithoutTheSecurityHeaderAreInvalidArguments() {
    WorkloadApiTestClient.Call<X509SVIDResponse> x509 = fetchX509(false);
    WorkloadApiTestClient.Call<JWTSVIDResponse> jwt = client.start(SpiffeWorkloadAPIGrpcClient.FetchJWTSVID,
        JWTSVIDRequest.newBuilder().addAudience("a").build(), false);
    await().atMost(Duration.ofSeconds(5)).until(() -> x509.status != null && jwt.status != null);
    assertThat(x509.status).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(x509.statusMessage).contains("security header");
    assertThat(x509.messages).isEmpty();
    assertThat(jwt.status).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
  }

  @Test
  void aJwtSvidRequestWithoutAudienceIsAnInvalidArgument() {
    WorkloadApiTestClient.Call<JWTSVIDResponse> jwt = client.start(SpiffeWorkloadAPIGrpcClient.FetchJWTSVID,
        JWTSVIDRequest.getDefaultInstance(), true);
    await().atMost(Duration.ofSeconds(5)).until(() -> jwt.status != null);
    assertThat(jwt.status).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(jwt.statusMessage).contains("audience");
  }

  @Test
  void garbageOrForeignJwtsAreInvalidArgumentsAndForeignIdentitiesAreDenied() {
    WorkloadApiTestClient.Call<dev.lattice.schemas.workload.ValidateJWTSVIDResponse> garbage = client.start(
        SpiffeWorkloadAPIGrpcClient.ValidateJWTSVID, dev.lattice.schemas.workload.ValidateJWTSVIDRequest.newBuilder()
            .setAudience("a").setSvid("not.a.jwt").build(), true);
    WorkloadApiTestClient.Call<dev.lattice.schemas.workload.ValidateJWTSVIDResponse> noAudience = client.start(
        SpiffeWorkloadAPIGrpcClient.ValidateJWTSVID, dev.lattice.schemas.workload.ValidateJWTSVIDRequest.newBuilder()
            .setSvid("x").build(), true);
    WorkloadApiTestClient.Call<JWTSVIDResponse> foreign = client.start(SpiffeWorkloadAPIGrpcClient.FetchJWTSVID,
        JWTSVIDRequest.newBuilder().addAudience("a").setSpiffeId("spiffe://lattice.local/ns/kube-system/sa/admin")
            .build(), true);
    await().atMost(Duration.ofSeconds(5))
        .until(() -> garbage.status != null && noAudience.status != null && foreign.status != null);
    assertThat(garbage.status).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(garbage.statusMessage).startsWith("JWT-SVID rejected");
    assertThat(noAudience.status).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
    assertThat(foreign.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(foreign.statusMessage).contains("not entitled to spiffe://lattice.local/ns/kube-system/sa/admin");
  }

  @Test
  void aCallerThatMatchesNoEntryIsDenied() {
    // the only entry now needs a group this process is not in, on top of its uid: ALL must match
    authority.removeEntry("web");
    authority.putEntry(new AgentEntry("web-admins", "spiffe://lattice.local/ns/default/sa/admin",
        Set.of(Selector.unixUid(uid), Selector.unixGid(4_000_000)), 600, 300, List.of(), "", 2));
    await().atMost(Duration.ofSeconds(5)).until(() -> agent.svids().state().entries().containsKey("web-admins"));

    WorkloadApiTestClient.Call<X509SVIDResponse> x509 = fetchX509(true);
    WorkloadApiTestClient.Call<JWTSVIDResponse> jwt = client.start(SpiffeWorkloadAPIGrpcClient.FetchJWTSVID,
        JWTSVIDRequest.newBuilder().addAudience("a").build(), true);
    WorkloadApiTestClient.Call<JWTBundlesResponse> bundles = client.start(
        SpiffeWorkloadAPIGrpcClient.FetchJWTBundles, JWTBundlesRequest.getDefaultInstance(), true);
    await().atMost(Duration.ofSeconds(5))
        .until(() -> x509.status != null && jwt.status != null && bundles.status != null);
    assertThat(x509.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(x509.statusMessage).contains("no registration entry matches").contains("unix:uid:" + uid);
    assertThat(jwt.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
    assertThat(bundles.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
  }

  @Test
  void aPidReusedBetweenAttestationAndReplyIsDenied() throws Exception {
    AtomicInteger reads = new AtomicInteger();
    ProcessTable real = ProcessTable.system();
    // plays "the caller exited and another process got its pid": the second read sees a new start time
    ProcessTable pidReused = pid -> reads.incrementAndGet() == 1
        ? real.startTime(pid)
        : OptionalLong.of(real.startTime(pid).orElse(0) + 1);
    Path otherSocket = AgentFixtures.shortSocketPath("reused.sock");
    authority.addJoinToken("token-1");
    NodeAgent second = startAgent(pidReused, otherSocket);
    try (WorkloadApiTestClient otherClient = new WorkloadApiTestClient(vertx, otherSocket)) {
      WorkloadApiTestClient.Call<X509SVIDResponse> call = otherClient.start(
          SpiffeWorkloadAPIGrpcClient.FetchX509SVID, X509SVIDRequest.getDefaultInstance(), true);
      await().atMost(Duration.ofSeconds(5)).until(() -> call.status != null);
      assertThat(call.status).isEqualTo(GrpcStatus.PERMISSION_DENIED);
      assertThat(call.statusMessage).contains("pid was reused");
      assertThat(call.messages).isEmpty();
    } finally {
      join(second.stop());
    }
  }

  @Test
  void streamsPushRotatedSvidsAndNewBundlesWithoutBeingAsked() throws Exception {
    WorkloadApiTestClient.Call<X509SVIDResponse> x509 = fetchX509(true);
    WorkloadApiTestClient.Call<JWTBundlesResponse> bundles = client.start(
        SpiffeWorkloadAPIGrpcClient.FetchJWTBundles, JWTBundlesRequest.getDefaultInstance(), true);
    await().atMost(Duration.ofSeconds(5)).until(() -> x509.messages.size() == 1 && bundles.messages.size() == 1);

    clock.advance(X509_TTL.dividedBy(2));
    join(agent.svids().refresh());
    await().atMost(Duration.ofSeconds(5)).until(() -> x509.messages.size() == 2);
    assertThat(serialOf(x509.messages.get(1))).isNotEqualTo(serialOf(x509.messages.get(0)));

    authority.ca().prepare(); // a new CA generation is published: a new JWT key in the bundle
    await().atMost(Duration.ofSeconds(5)).until(() -> bundles.messages.size() == 2);
    String jwks = bundles.messages.get(1).getBundlesOrThrow("spiffe://lattice.local").toStringUtf8();
    assertThat(jwks.split("\"kid\"")).hasSize(3);
    assertThat(x509.status).isNull();
    assertThat(bundles.status).isNull();

    // clients that go away leave nothing subscribed behind
    assertThat(agent.svids().listenerCount()).isEqualTo(2);
    x509.cancel();
    bundles.cancel();
    await().atMost(Duration.ofSeconds(5)).until(() -> agent.svids().listenerCount() == 0);
  }

  @Test
  void whenTheServerIsAwayCachedSvidsAreServedUntilExpiryAndRenewedWhenItIsBack() throws Exception {
    BigInteger original = firstSerialServed();
    authority.setAway(true);

    clock.advance(X509_TTL.dividedBy(2).plusSeconds(1)); // past half life: renewal due, server away
    join(agent.svids().refresh());
    assertThat(firstSerialServed()).isEqualTo(original);
    WorkloadApiTestClient.Call<JWTSVIDResponse> jwt = client.start(SpiffeWorkloadAPIGrpcClient.FetchJWTSVID,
        JWTSVIDRequest.newBuilder().addAudience("a").build(), true);
    await().atMost(Duration.ofSeconds(5)).until(() -> jwt.status != null);
    assertThat(jwt.status).as("no cached JWT-SVID and no server: %s", jwt.statusMessage).isEqualTo(GrpcStatus.UNAVAILABLE);

    clock.advance(X509_TTL.dividedBy(2)); // past expiry: no longer served
    join(agent.svids().refresh());
    assertThat(agent.svids().state().svids()).isEmpty();

    authority.setAway(false);
    clock.advance(Duration.ofSeconds(31)); // the per-entry retry backoff
    join(agent.node().refresh());
    join(agent.svids().refresh());
    assertThat(firstSerialServed()).isNotEqualTo(original);
  }

  @Test
  void anAgentWhoseNodeSvidExpiredAttestsAgainWithAFreshTokenWithoutRestart() throws Exception {
    String firstNode = agent.nodeCredential().orElseThrow().svid().spiffeId();
    authority.setAway(true);
    clock.advance(NODE_TTL.dividedBy(2).plusSeconds(1));
    join(agent.node().refresh()); // renewal fails: the current node SVID stays
    assertThat(agent.nodeCredential()).isPresent();

    clock.advance(NODE_TTL.dividedBy(2));
    assertThat(agent.nodeCredential()).as("expired").isEmpty();
    io.vertx.core.Future<?> reattest = agent.node().refresh(); // token-1 is burned and the server away
    await().atMost(Duration.ofSeconds(5)).until(reattest::isComplete);
    assertThat(reattest.failed()).isTrue();

    // back: token-1 was burned, so the operator drops a new one in the token file
    authority.setAway(false);
    authority.addJoinToken("token-2");
    Files.writeString(tokenFile, "token-2\n");
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      agent.node().refresh();
      assertThat(agent.nodeCredential()).isPresent();
    });
    assertThat(agent.node().attestations()).isEqualTo(2);
    assertThat(agent.nodeCredential().orElseThrow().svid().spiffeId()).isNotEqualTo(firstNode);

    // and the workload SVIDs flow again through the new node identity
    clock.advance(Duration.ofSeconds(31));
    join(agent.svids().refresh());
    assertThat(agent.svids().state().svids()).containsKey("web");
    assertThat(agent.svids().state().svids().get("web").expiredAt(clock.instant())).isFalse();
  }

  @Test
  void theNodeSvidIsRenewedFromHalfLifeWithoutReattesting() throws Exception {
    BigInteger before = agent.nodeCredential().orElseThrow().svid().leaf().getSerialNumber();
    clock.advance(NODE_TTL.dividedBy(2).plusSeconds(1));
    join(agent.node().refresh());
    assertThat(authority.nodeRenewals.get()).isEqualTo(1);
    assertThat(agent.node().attestations()).isEqualTo(1);
    assertThat(agent.nodeCredential().orElseThrow().svid().leaf().getSerialNumber()).isNotEqualTo(before);
  }
}
