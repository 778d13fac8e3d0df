package dev.lattice.identity.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.delegated.DelegatedIdentityServer;
import dev.lattice.identity.agent.delegated.DelegatedIdentitySettings;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.schemas.delegated.v1.DelegatedIdentityGrpcClient;
import dev.lattice.schemas.delegated.v1.FetchJWTSVIDsRequest;
import dev.lattice.schemas.delegated.v1.FetchJWTSVIDsResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToJWTBundlesRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToJWTBundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsByPIDRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.delegated.v1.X509SVIDWithKey;
import dev.lattice.testkit.time.MutableClock;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.vertx.core.Vertx;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * SPIRE's Delegated Identity API on the agent's admin socket, against a real agent (real CA, real
 * signing, keys made by the agent) over a real Unix socket and gRPC: the SVIDs of a workload by its
 * selectors with keys that match, rotation at half life on the open stream (time is a test clock),
 * new entries and bundle changes pushed, JWT-SVIDs and JWT bundles, callers refused by uid and by
 * SPIFFE ID, and bad selectors.
 */
class DelegatedIdentityApiTest {

  private static final Duration X509_TTL = Duration.ofMinutes(10);
  private static final String WEB = "spiffe://lattice.local/ns/default/sa/web";
  private static final String DATA_PLANE = "spiffe://lattice.local/lattice/dataplane/local";

  @TempDir Path dir;
  private Vertx vertx;
  private MutableClock clock;
  private CaBackedSvidAuthority authority;
  private NodeAgent agent;
  private DelegatedIdentityServer delegated;
  private WorkloadApiTestClient client;
  private Path workloadSocket;
  private Path adminSocket;
  private int uid;

  @BeforeEach
  void start() throws Exception {
    vertx = AgentFixtures.epollVertx();
    clock = new MutableClock(Instant.now());
    uid = AgentFixtures.myUid();
    authority = new CaBackedSvidAuthority(vertx, dir.resolve("ca"), AgentFixtures.TRUST_DOMAIN, clock, Duration.ofHours(1));
    authority.addJoinToken("token-1");
    // the proxied workload runs as another uid than this JVM: the data plane asks by its selectors
    authority.putEntry(AgentFixtures.entry("web", "/ns/default/sa/web", Set.of(Selector.parse("unix:uid:4242")),
        (int) X509_TTL.toSeconds()));
    Path tokenFile = dir.resolve("join-token");
    Files.writeString(tokenFile, "token-1\n");
    workloadSocket = AgentFixtures.shortSocketPath("workload.sock");
    adminSocket = workloadSocket.resolveSibling("admin.sock");
    agent = new NodeAgent(vertx, authority,
        AttestationSource.file(vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), clock,
        new NodeAgent.Settings(workloadSocket, Duration.ofHours(1), Duration.ofSeconds(30)));
    join(agent.start());
    await().atMost(Duration.ofSeconds(10)).until(() -> agent.svids().state().svids().containsKey("web"));
    client = new WorkloadApiTestClient(vertx, adminSocket);
  }

  private void serve(Set<Integer> uids, Set<String> spiffeIds) throws Exception {
    delegated = new DelegatedIdentityServer(vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, uids, spiffeIds));
    join(delegated.listen());
  }

  @AfterEach
  void stop() throws Exception {
    client.close();
    if (delegated != null) {
      join(delegated.close());
    }
    join(agent.stop());
    join(vertx.close());
  }

  private static <T> T join(io.vertx.core.Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
  }

  private static SubscribeToX509SVIDsRequest bySelectors(String... selectors) {
    SubscribeToX509SVIDsRequest.Builder request = SubscribeToX509SVIDsRequest.newBuilder();
    for (String s : selectors) {
      Selector parsed = Selector.parse(s);
      request.addSelectors(dev.lattice.schemas.spire.types.Selector.newBuilder()
          .setType(parsed.type()).setValue(parsed.value()));
    }
    return request.build();
  }

  private WorkloadApiTestClient.Call<SubscribeToX509SVIDsResponse> subscribe(SubscribeToX509SVIDsRequest request) {
    return client.start(DelegatedIdentityGrpcClient.SubscribeToX509SVIDs, request, false);
  }

  private static <R> R awaitMessage(WorkloadApiTestClient.Call<R> call, int count) {
    await().atMost(Duration.ofSeconds(10)).until(() -> call.messages.size() >= count
        || (call.status != null && call.status != GrpcStatus.OK));
    assertThat(call.status).as("status %s: %s", call.status, call.statusMessage).isIn(null, GrpcStatus.OK);
    return call.messages.get(count - 1);
  }

  private static void awaitStatus(WorkloadApiTestClient.Call<?> call, GrpcStatus status, String messagePart) {
    await().atMost(Duration.ofSeconds(10)).until(() -> call.status != null);
    assertThat(call.status).as(call.statusMessage).isEqualTo(status);
    assertThat(call.statusMessage).as("status message of %s", status).contains(messagePart);
  }

  private static List<X509Certificate> certificates(Collection<com.google.protobuf.ByteString> ders) throws Exception {
    CertificateFactory factory = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new java.util.ArrayList<>();
    for (com.google.protobuf.ByteString der : ders) {
      factory.generateCertificates(new ByteArrayInputStream(der.toByteArray()))
          .forEach(c -> out.add((X509Certificate) c));
    }
    return out;
  }

  private static BigInteger serialOf(SubscribeToX509SVIDsResponse response) throws Exception {
    return certificates(response.getX509Svids(0).getX509Svid().getCertChainList()).get(0).getSerialNumber();
  }

  @Test
  void anAuthorizedUidGetsTheWorkloadsSvidWithItsKeyAndTheBundles() throws Exception {
    serve(Set.of(uid), Set.of());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(adminSocket))).isEqualTo("rwxrwx---");

    SubscribeToX509SVIDsResponse first = awaitMessage(subscribe(bySelectors("unix:uid:4242")), 1);
    assertThat(first.getX509SvidsCount()).isEqualTo(1);
    X509SVIDWithKey svid = first.getX509Svids(0);
    assertThat(svid.getX509Svid().getId().getTrustDomain()).isEqualTo("lattice.local");
    assertThat(svid.getX509Svid().getId().getPath()).isEqualTo("/ns/default/sa/web");
    X509Certificate leaf = certificates(svid.getX509Svid().getCertChainList()).get(0);
    assertThat(svid.getX509Svid().getExpiresAt()).isEqualTo(leaf.getNotAfter().toInstant().getEpochSecond());
    assertThat(leaf.getSubjectAlternativeNames().stream().map(n -> String.valueOf(n.get(1))).toList())
        .containsExactly(WEB);
    // the key is the one the agent made for this certificate
    PrivateKey key = KeyFactory.getInstance("EC").generatePrivate(
        new PKCS8EncodedKeySpec(svid.getX509SvidKey().toByteArray()));
    Signature signer = Signature.getInstance("SHA256withECDSA");
    signer.initSign(key);
    signer.update("proof".getBytes(StandardCharsets.UTF_8));
    byte[] signature = signer.sign();
    Signature verifier = Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(leaf.getPublicKey());
    verifier.update("proof".getBytes(StandardCharsets.UTF_8));
    assertThat(verifier.verify(signature)).isTrue();

    SubscribeToX509BundlesResponse bundles = awaitMessage(client.start(
        DelegatedIdentityGrpcClient.SubscribeToX509Bundles, SubscribeToX509BundlesRequest.getDefaultInstance(), false), 1);
    assertThat(bundles.getCaCertificatesMap()).containsOnlyKeys("spiffe://lattice.local");
    List<X509Certificate> roots = certificates(List.of(bundles.getCaCertificatesMap().get("spiffe://lattice.local")));
    java.security.cert.PKIXParameters pkix = new java.security.cert.PKIXParameters(roots.stream()
        .map(r -> new java.security.cert.TrustAnchor(r, null)).collect(java.util.stream.Collectors.toSet()));
    pkix.setRevocationEnabled(false);
    java.security.cert.CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509")
        .generateCertPath(certificates(svid.getX509Svid().getCertChainList())), pkix);

    // a caller whose selectors match nothing gets an empty set, not a hang
    SubscribeToX509SVIDsResponse none = awaitMessage(subscribe(bySelectors("unix:uid:7")), 1);
    assertThat(none.getX509SvidsCount()).isZero();
    await().atMost(Duration.ofSeconds(5)).until(() -> delegated.streamCount() == 3);
  }

  @Test
  void rotationNewEntriesAndBundleChangesArePushedOnTheOpenStreams() throws Exception {
    serve(Set.of(uid), Set.of());
    WorkloadApiTestClient.Call<SubscribeToX509SVIDsResponse> svids = subscribe(bySelectors("unix:uid:4242", "unix:gid:1"));
    WorkloadApiTestClient.Call<SubscribeToX509BundlesResponse> bundles = client.start(
        DelegatedIdentityGrpcClient.SubscribeToX509Bundles, SubscribeToX509BundlesRequest.getDefaultInstance(), false);
    BigInteger firstSerial = serialOf(awaitMessage(svids, 1));
    SubscribeToX509BundlesResponse firstBundles = awaitMessage(bundles, 1);

    // half life: the agent renews, the stream carries the new SVID without being asked
    clock.advance(X509_TTL.dividedBy(2).plusSeconds(1));
    join(agent.svids().refresh());
    BigInteger rotated = serialOf(awaitMessage(svids, 2));
    assertThat(rotated).isNotEqualTo(firstSerial);
    assertThat(svids.messages).hasSize(2);

    // a second entry for the same workload: the full set again
    authority.putEntry(AgentFixtures.entry("web-admin", "/ns/default/sa/web-admin",
        Set.of(Selector.parse("unix:uid:4242")), (int) X509_TTL.toSeconds()));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(svids.messages.get(svids.messages.size() - 1).getX509SvidsList())
            .extracting(s -> s.getX509Svid().getId().getPath())
            .containsExactlyInAnyOrder("/ns/default/sa/web", "/ns/default/sa/web-admin"));

    // a CA rotation being prepared adds a root: the bundle stream carries both
    authority.ca().prepare();
    SubscribeToX509BundlesResponse next = awaitMessage(bundles, 2);
    assertThat(certificates(List.of(next.getCaCertificatesMap().get("spiffe://lattice.local"))))
        .hasSize(certificates(List.of(firstBundles.getCaCertificatesMap().get("spiffe://lattice.local"))).size() + 1);

    // the entry goes away: the set shrinks to nothing
    authority.removeEntry("web");
    authority.removeEntry("web-admin");
    await().atMost(Duration.ofSeconds(10)).until(() ->
        svids.messages.get(svids.messages.size() - 1).getX509SvidsCount() == 0);
    assertThat(svids.status).isNull();
  }

  @Test
  void jwtSvidsAndJwtBundlesForTheWorkload() throws Exception {
    serve(Set.of(uid), Set.of());
    FetchJWTSVIDsResponse jwts = awaitMessage(client.start(DelegatedIdentityGrpcClient.FetchJWTSVIDs,
        FetchJWTSVIDsRequest.newBuilder().addAudience("orders-api")
            .addAllSelectors(bySelectors("unix:uid:4242").getSelectorsList()).build(), false), 1);
    assertThat(jwts.getSvidsCount()).isEqualTo(1);
    assertThat(jwts.getSvids(0).getId().getPath()).isEqualTo("/ns/default/sa/web");
    SubscribeToJWTBundlesResponse jwks = awaitMessage(client.start(DelegatedIdentityGrpcClient.SubscribeToJWTBundles,
        SubscribeToJWTBundlesRequest.getDefaultInstance(), false), 1);
    byte[] jwksDoc = jwks.getBundlesMap().get("spiffe://lattice.local").toByteArray();
    io.spiffe.bundle.jwtbundle.JwtBundle bundle = io.spiffe.bundle.jwtbundle.JwtBundle.parse(
        io.spiffe.spiffeid.TrustDomain.parse("lattice.local"), jwksDoc);
    JwtSvid parsed = JwtSvid.parseAndValidate(jwts.getSvids(0).getToken(), bundle, Set.of("orders-api"));
    assertThat(parsed.getSpiffeId().toString()).isEqualTo(WEB);

    WorkloadApiTestClient.Call<FetchJWTSVIDsResponse> noAudience = client.start(DelegatedIdentityGrpcClient.FetchJWTSVIDs,
        FetchJWTSVIDsRequest.newBuilder().addAllSelectors(bySelectors("unix:uid:4242").getSelectorsList()).build(), false);
    awaitStatus(noAudience, GrpcStatus.INVALID_ARGUMENT, "audience");
  }

  @Test
  void aCallerWhoseUidIsNotAuthorizedIsRefusedOnEveryMethod() throws Exception {
    serve(Set.of(uid + 1), Set.of());
    awaitStatus(subscribe(bySelectors("unix:uid:4242")), GrpcStatus.PERMISSION_DENIED, "not an authorized delegate");
    awaitStatus(client.start(DelegatedIdentityGrpcClient.SubscribeToX509Bundles,
        SubscribeToX509BundlesRequest.getDefaultInstance(), false), GrpcStatus.PERMISSION_DENIED, "uid " + uid);
    awaitStatus(client.start(DelegatedIdentityGrpcClient.SubscribeToJWTBundles,
        SubscribeToJWTBundlesRequest.getDefaultInstance(), false), GrpcStatus.PERMISSION_DENIED, "delegate");
    awaitStatus(client.start(DelegatedIdentityGrpcClient.FetchJWTSVIDs, FetchJWTSVIDsRequest.newBuilder()
        .addAudience("a").addAllSelectors(bySelectors("unix:uid:4242").getSelectorsList()).build(), false),
        GrpcStatus.PERMISSION_DENIED, "delegate");
    assertThat(delegated.streamCount()).isZero();
  }

  @Test
  void aCallerAuthorizedBySpiffeIdLosesItsStreamsWhenItsEntryGoes() throws Exception {
    serve(Set.of(), Set.of(DATA_PLANE));
    // no entry gives this process the data plane's SPIFFE ID yet
    awaitStatus(subscribe(bySelectors("unix:uid:4242")), GrpcStatus.PERMISSION_DENIED, "not an authorized delegate");

    authority.putEntry(AgentFixtures.entry("dataplane", "/lattice/dataplane/local", Set.of(Selector.unixUid(uid)), 600));
    await().atMost(Duration.ofSeconds(10)).until(() -> agent.svids().state().entries().containsKey("dataplane"));
    WorkloadApiTestClient.Call<SubscribeToX509SVIDsResponse> svids = subscribe(bySelectors("unix:uid:4242"));
    assertThat(awaitMessage(svids, 1).getX509SvidsCount()).isEqualTo(1);

    authority.removeEntry("dataplane");
    awaitStatus(svids, GrpcStatus.PERMISSION_DENIED, "authorized SPIFFE ID is gone");
    await().atMost(Duration.ofSeconds(5)).until(() -> delegated.streamCount() == 0);
  }

  @ParameterizedTest
  @CsvSource(value = {
      "'', '', selectors: none",
      "unix, '', selector value for type 'unix' is empty",
      "'', uid:1, selector type: ''",
      "un:ix, uid:1, selector type: 'un:ix'",
  })
  void badSelectorsAreInvalidArguments(String type, String value, String message) throws Exception {
    serve(Set.of(uid), Set.of());
    SubscribeToX509SVIDsRequest request = type.isEmpty() && value.isEmpty()
        ? SubscribeToX509SVIDsRequest.getDefaultInstance()
        : SubscribeToX509SVIDsRequest.newBuilder().addSelectors(
            dev.lattice.schemas.spire.types.Selector.newBuilder().setType(type).setValue(value)).build();
    awaitStatus(subscribe(request), GrpcStatus.INVALID_ARGUMENT, message);
  }

  @Test
  void theApiIsOnlyOnTheAdminSocketAndByPidIsNotServed() throws Exception {
    serve(Set.of(uid), Set.of());
    awaitStatus(client.start(DelegatedIdentityGrpcClient.SubscribeToX509SVIDsByPID,
        SubscribeToX509SVIDsByPIDRequest.newBuilder().setPid(1).build(), false), GrpcStatus.UNIMPLEMENTED, "");
    try (WorkloadApiTestClient workload = new WorkloadApiTestClient(vertx, workloadSocket)) {
      awaitStatus(workload.start(DelegatedIdentityGrpcClient.SubscribeToX509SVIDs, bySelectors("unix:uid:4242"), false),
          GrpcStatus.UNIMPLEMENTED, "");
    }
  }

  @Test
  void settingsNeedAnAuthorizedCallerAndValidValues() {
    assertThatThrownBy(() -> new DelegatedIdentitySettings(adminSocket, Set.of(), Set.of()))
        .hasMessageContaining("at least one authorized caller");
    assertThatThrownBy(() -> new DelegatedIdentitySettings(adminSocket, Set.of(), Set.of("lattice.local/dp")))
        .hasMessageContaining("'lattice.local/dp' (expected: spiffe://");
    assertThatThrownBy(() -> DelegatedIdentitySettings.parseUids("1000, root"))
        .hasMessageContaining("'root' (expected: a number");
    assertThat(DelegatedIdentitySettings.parseUids(" 1000 ,1001,")).containsExactly(1000, 1001);
  }
}
