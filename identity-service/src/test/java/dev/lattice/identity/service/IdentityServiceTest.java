package dev.lattice.identity.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import dev.lattice.identity.IdentityService;
import dev.lattice.identity.agent.authority.GrpcSvidAuthority;
import dev.lattice.identity.agent.authority.JwtToken;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.authority.NodeAttestationResult;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.SignedX509Svid;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.svid.AttestationBackoff;
import dev.lattice.identity.agent.svid.NodeIdentityManager;
import dev.lattice.identity.bundle.BundleJwks;
import dev.lattice.identity.ca.CaAuthority;
import dev.lattice.identity.ca.CaKeys;
import dev.lattice.identity.signing.Csrs;
import dev.lattice.identity.signing.SigningClient;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.schemas.identity.v1.AttestNodeRequest;
import dev.lattice.schemas.identity.v1.AttestNodeResponse;
import dev.lattice.schemas.identity.v1.JwtSvidResponse;
import dev.lattice.schemas.identity.v1.NodeSnapshot;
import dev.lattice.schemas.identity.v1.X509SvidResponse;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.spiffe.bundle.jwtbundle.JwtBundle;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The identity service end to end on a real broker: REST, node attestation and signing over real
 * (m)TLS gRPC, the Kafka topics, the DLQ, a restart, and a scan of every topic for private keys.
 */
@LatticeKafkaTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class IdentityServiceTest {

  static final TrustDomain TD = TrustDomain.parse("lattice.local");

  Path dir;
  KafkaCluster kafka;
  Map<String, String> config;
  ServiceLauncher launcher;
  IdentityService service;
  RunningService running;
  Vertx clientVertx;
  SigningClient node;
  KeyPair nodeKey;
  List<X509Certificate> nodeChain;
  String nodeSpiffeId;
  final List<PrivateKey> keysMade = new ArrayList<>();
  final HttpClient http = HttpClient.newHttpClient();

  @BeforeAll
  void start(KafkaCluster kafka, @TempDir Path dir) throws Exception {
    this.kafka = kafka;
    this.dir = dir;
    config = new HashMap<>();
    config.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    config.put("identity.http.port", "0");
    config.put("identity.signing.port", "0");
    config.put("identity.bundle.endpoint.port", "0");
    config.put("identity.data.dir", dir.resolve("identity").toString());
    config.put(AdminTokenFile.CONFIG_KEY, dir.resolve("admin.token").toString());
    config.put("identity.topics.entries", kafka.uniqueTopic("lattice.entries.v1"));
    config.put("identity.topics.bundles", kafka.uniqueTopic("lattice.bundles.v1"));
    config.put("identity.topics.audit", kafka.uniqueTopic("lattice.identity.audit.v1"));
    startService();
    clientVertx = Vertx.vertx();
  }

  void startService() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.of(config));
    service = new IdentityService();
    running = result(launcher.start(service));
    await().atMost(Duration.ofSeconds(30)).until(() -> get("/readyz").statusCode() == 200);
  }

  @AfterAll
  void stop() throws Exception {
    if (node != null) {
      result(node.close());
    }
    if (clientVertx != null) {
      result(clientVertx.close());
    }
    if (launcher != null) {
      launcher.close();
    }
  }

  SigningClient newClient() {
    return SigningClient.create(clientVertx, SocketAddress.inetSocketAddress(service.signingPort(), "127.0.0.1"), TD,
        service.certificateAuthority().bundle().x509Authorities());
  }

  @Test
  @Order(0)
  void everyWriteNeedsTheAdminCredentialAndPublicReadsStayOpen() throws Exception {
    JsonObject entry = entry("spiffe://lattice.local/ns/default/sa/x", "spiffe://lattice.local/lattice/node/x", "unix:uid:1");
    HttpResponse<String> anonymous = post("/v1/tokens", new JsonObject().put("ttl", "10m"), null);
    assertThat(anonymous.statusCode()).as(anonymous.body()).isEqualTo(401);
    assertThat(anonymous.body()).contains("needs the admin credential");
    assertThat(post("/v1/entries", entry, null).statusCode()).isEqualTo(401);
    assertThat(post("/v1/tokens", new JsonObject(), "Bearer lat_guess").statusCode()).isEqualTo(403);
    assertThat(post("/v1/entries", entry, "Bearer " + adminToken() + "0").statusCode()).isEqualTo(403);

    // Every write route the service has (walked from its router, so a route added later is covered
    // too), and a path no route serves: 401 without a credential, 403 with a wrong one.
    Set<String> writes = new java.util.TreeSet<>();
    for (io.vertx.ext.web.Route route : service.httpRoutes()) {
      if (route.getPath() == null) {
        continue;
      }
      Set<io.vertx.core.http.HttpMethod> methods = route.methods() == null
          ? Set.of(io.vertx.core.http.HttpMethod.POST, io.vertx.core.http.HttpMethod.PUT,
              io.vertx.core.http.HttpMethod.PATCH, io.vertx.core.http.HttpMethod.DELETE)
          : route.methods();
      for (io.vertx.core.http.HttpMethod m : methods) {
        if (!Set.of("GET", "HEAD", "OPTIONS").contains(m.name())) {
          writes.add(m.name() + " " + route.getPath().replaceAll(":[A-Za-z]+", "probe").replace("*", "probe"));
        }
      }
    }
    assertThat(writes).contains("POST /v1/entries", "DELETE /v1/entries/probe", "POST /v1/tokens", "DELETE /v1/tokens/probe");
    writes.add("POST /v1/no-such-route");
    for (String write : writes) {
      String method = write.substring(0, write.indexOf(' '));
      String path = write.substring(write.indexOf(' ') + 1);
      assertThat(send(method, path, null).statusCode()).as("anonymous " + write).isEqualTo(401);
      assertThat(send(method, path, "Bearer lat_wrong").statusCode()).as("wrong token " + write).isEqualTo(403);
      assertThat(send(method, path, "Basic YWRtaW46YWRtaW4=").statusCode()).as("other scheme " + write).isEqualTo(401);
    }
    for (String open : List.of("/v1/bundle", "/v1/bundle.pem", "/v1/entries", "/v1/endpoints", "/healthz", "/readyz")) {
      assertThat(get(open).statusCode()).as(open).isEqualTo(200);
    }
    assertThat(new JsonObject(get("/v1/entries").body()).getJsonArray("entries")).as("nothing was written").isEmpty();
  }

  HttpResponse<String> send(String method, String path, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(running.url(path))
        .method(method, HttpRequest.BodyPublishers.ofString("{\"ttl\":\"10m\"}")).header("Content-Type", "application/json");
    if (authorization != null) b.header("Authorization", authorization);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  @Order(1)
  void nodeAttestsWithAJoinTokenOnce() throws Exception {
    JsonObject token = new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "10m")).body());
    assertThat(token.getString("spiffeId")).isEqualTo("spiffe://lattice.local/lattice/node/" + token.getString("nodeId"));
    nodeSpiffeId = token.getString("spiffeId");

    node = newClient();
    nodeKey = CaKeys.newP256();
    keysMade.add(nodeKey.getPrivate());
    AttestNodeResponse attested = result(node.attestNode(AttestNodeRequest.newBuilder()
        .setJoinToken(token.getString("token")).setCsr(ByteString.copyFrom(Csrs.csr(nodeKey, null))).build()));
    assertThat(attested.getSvid().getSpiffeId()).isEqualTo(nodeSpiffeId);
    assertThat(attested.getBundle().getX509AuthoritiesCount()).isEqualTo(1);
    List<X509Certificate> chain = certs(attested.getSvid().getCertChainList());
    verifyChain(chain);
    node.updateCredential(nodeKey.getPrivate(), chain);
    nodeChain = chain;

    // reused token
    assertStatus(node.attestNode(AttestNodeRequest.newBuilder().setJoinToken(token.getString("token"))
        .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()), GrpcStatus.PERMISSION_DENIED, "already used");
    // unknown token
    assertStatus(node.attestNode(AttestNodeRequest.newBuilder().setJoinToken("nope")
        .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()), GrpcStatus.PERMISSION_DENIED, "unknown");
    // the node is on the entries topic now
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().isAttestedNode(io.spiffe.spiffeid.SpiffeId.parse(nodeSpiffeId)));
  }

  String entryId;

  @Test
  @Order(2)
  void restValidatesEntriesWithClearErrors() throws Exception {
    JsonObject ok = entry("spiffe://lattice.local/ns/default/sa/web", nodeSpiffeId, "k8s:ns:default", "unix:uid:1000")
        .put("dnsNames", new io.vertx.core.json.JsonArray().add("web.default.svc"));
    HttpResponse<String> created = post("/v1/entries", ok);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    entryId = new JsonObject(created.body()).getString("id");

    assertError(post("/v1/entries", entry("spiffe://Lattice.local/ns/a", nodeSpiffeId, "unix:uid:1")), "lowercase");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/a/", nodeSpiffeId, "unix:uid:1")), "trailing slash");
    assertError(post("/v1/entries", entry("spiffe://other.org/ns/a", nodeSpiffeId, "unix:uid:1")), "expected: 'lattice.local'");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/a", "spiffe://lattice.local/lattice/node/ghost", "unix:uid:1")),
        "parentId: spiffe://lattice.local/lattice/node/ghost is unknown");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/a", nodeSpiffeId, "unix:uid:abc")), "is not a number");
    // a workload must never be handed the signing server's own identity, nor anything under /lattice/
    assertError(post("/v1/entries", entry("spiffe://lattice.local/lattice/server", nodeSpiffeId, "unix:uid:0")),
        "not under /lattice/, which is reserved");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/lattice/anything/new", nodeSpiffeId, "unix:uid:0")),
        "not under /lattice/, which is reserved");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/default/sa/evil", nodeSpiffeId, "unix:uid:0")
        .put("dnsNames", new io.vertx.core.json.JsonArray().add("*.evil.com"))), "no wildcard DNS names");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/a", nodeSpiffeId, "k8s:pod-label:app")), "k8s:pod-label:<key>=<value>");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/a", nodeSpiffeId, "docker:image:x")), "unknown type 'docker'");
    assertError(post("/v1/entries", entry("spiffe://lattice.local/ns/default/sa/web", nodeSpiffeId, "unix:uid:1000", "k8s:ns:default")),
        "duplicate: entry " + entryId);

    JsonObject listed = new JsonObject(get("/v1/entries").body());
    assertThat(listed.getJsonArray("entries").stream().map(o -> ((JsonObject) o).getString("id"))).contains(entryId);
    assertThat(get("/v1/entries/nope").statusCode()).isEqualTo(404);
  }

  @Test
  @Order(3)
  void nodeGetsAnX509SvidForItsEntry() throws Exception {
    KeyPair workload = CaKeys.newP256();
    keysMade.add(workload.getPrivate());
    X509SvidResponse svid = result(node.signX509Svid(entryId, Csrs.csr(workload, "spiffe://lattice.local/ns/default/sa/web")));
    List<X509Certificate> chain = certs(svid.getCertChainList());
    verifyChain(chain);
    assertThat(chain.get(0).getPublicKey()).isEqualTo(workload.getPublic());
    assertThat(chain.get(0).getSubjectAlternativeNames()).extracting(l -> l.get(1).toString())
        .containsExactlyInAnyOrder("spiffe://lattice.local/ns/default/sa/web", "web.default.svc");
    // 1h TTL, backdated up to 10s (never before the CA's own notBefore)
    assertThat(Duration.between(chain.get(0).getNotBefore().toInstant(), chain.get(0).getNotAfter().toInstant()))
        .isBetween(Duration.ofHours(1), Duration.ofHours(1).plusSeconds(10));
    assertThat(Duration.between(java.time.Instant.now(), chain.get(0).getNotAfter().toInstant()))
        .isBetween(Duration.ofMinutes(59), Duration.ofHours(1));
    // the audit topic has the issuance (serial, no key)
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(readAll(config.get("identity.topics.audit")))
        .anyMatch(r -> new String(r.value(), StandardCharsets.ISO_8859_1).contains(chain.get(0).getSerialNumber().toString(16))));
  }

  @Test
  @Order(4)
  void badSigningRequestsAreRefused() throws Exception {
    assertStatus(node.signX509Svid(entryId, Csrs.csr(Csrs.rsa(512), null)), GrpcStatus.INVALID_ARGUMENT,
        "csr: key RSA-512 (expected: EC P-256)");
    assertStatus(node.signX509Svid(entryId, Csrs.csr(CaKeys.newP256(), "spiffe://lattice.local/ns/default/sa/admin")),
        GrpcStatus.INVALID_ARGUMENT, "expected: none or spiffe://lattice.local/ns/default/sa/web");
    assertStatus(node.signX509Svid("no-such-entry", Csrs.csr(CaKeys.newP256(), null)), GrpcStatus.NOT_FOUND, "not found");

    // a second node may not get SVIDs for the first node's entry
    JsonObject token = new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "5m")).body());
    SigningClient other = newClient();
    KeyPair otherKey = CaKeys.newP256();
    keysMade.add(otherKey.getPrivate());
    AttestNodeResponse attested = result(other.attestNode(AttestNodeRequest.newBuilder().setJoinToken(token.getString("token"))
        .setCsr(ByteString.copyFrom(Csrs.csr(otherKey, null))).build()));
    other.updateCredential(otherKey.getPrivate(), certs(attested.getSvid().getCertChainList()));
    assertStatus(other.signX509Svid(entryId, Csrs.csr(CaKeys.newP256(), null)), GrpcStatus.PERMISSION_DENIED,
        "(expected: the calling node " + token.getString("spiffeId") + ")");
    result(other.close());

    // no client certificate at all
    io.vertx.grpc.client.GrpcClient raw = io.vertx.grpc.client.GrpcClient.client(clientVertx,
        new io.vertx.core.http.HttpClientOptions().setSsl(true).setUseAlpn(true).setVerifyHost(false).setTrustAll(true)
            .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2));
    assertStatus(dev.lattice.schemas.identity.v1.SigningGrpcClient.create(raw,
            SocketAddress.inetSocketAddress(service.signingPort(), "127.0.0.1"))
        .signX509Svid(dev.lattice.schemas.identity.v1.SignX509SvidRequest.newBuilder().setEntryId(entryId)
            .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()),
        GrpcStatus.UNAUTHENTICATED, "no client certificate");
    result(raw.close());
  }

  @Test
  @Order(5)
  void jwtSvidFromTheSigningApiValidatesWithJavaSpiffe() throws Exception {
    JwtSvidResponse jwt = result(node.signJwtSvid(entryId, List.of("reports"), 0));
    JsonObject jwks = BundleJwks.toJson(service.certificateAuthority().bundle());
    jwks.put("keys", new io.vertx.core.json.JsonArray(jwks.getJsonArray("keys").stream()
        .filter(k -> "jwt-svid".equals(((JsonObject) k).getString("use"))).toList()));
    JwtBundle bundle = JwtBundle.parse(TD, jwks.encode().getBytes(StandardCharsets.UTF_8));
    assertThat(JwtSvid.parseAndValidate(jwt.getToken(), bundle, Set.of("reports")).getSpiffeId().toString())
        .isEqualTo("spiffe://lattice.local/ns/default/sa/web");
    assertThatThrownBy(() -> JwtSvid.parseAndValidate(jwt.getToken(), bundle, Set.of("billing")))
        .hasMessageContaining("audience");
  }

  @Test
  @Order(6)
  void syncNodeStreamsEntriesAndUpdates() throws Exception {
    List<NodeSnapshot> snapshots = new CopyOnWriteArrayList<>();
    AutoCloseable stream = result(node.syncNode(snapshots::add, err -> { }));
    await().atMost(Duration.ofSeconds(10)).until(() -> !snapshots.isEmpty());
    assertThat(snapshots.get(0).getEntriesList()).extracting(e -> e.getId()).containsExactly(entryId);
    // the creation time travels with the entry: the agent orders a workload's SVIDs by it
    assertThat(snapshots.get(0).getEntries(0).getCreatedAtMillis())
        .isEqualTo(service.entries().get(entryId).orElseThrow().createdAt().toEpochMilli()).isPositive();
    assertThat(snapshots.get(0).getBundle().getSequence()).isEqualTo(service.certificateAuthority().bundle().sequence());

    HttpResponse<String> second = post("/v1/entries", entry("spiffe://lattice.local/ns/default/sa/db", nodeSpiffeId, "unix:uid:999"));
    assertThat(second.statusCode()).as(second.body()).isEqualTo(201);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(snapshots.get(snapshots.size() - 1).getEntriesCount()).isEqualTo(2));
    stream.close();
  }

  @Test
  @Order(7)
  void garbageOnTheEntriesTopicGoesToTheDlqAndTheServiceLivesOn() throws Exception {
    String topic = config.get("identity.topics.entries");
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(kafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(topic, "garbage".getBytes(), new byte[] {1, 2, 3, 4, 5})).get(10, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(readAll(topic + ".dlq")).anySatisfy(r -> {
      assertThat(r.value()).containsExactly(1, 2, 3, 4, 5);
      assertThat(DeadLetters.header(r.headers(), DeadLetters.REASON)).isNotBlank();
      assertThat(DeadLetters.header(r.headers(), DeadLetters.TOPIC)).isEqualTo(topic);
    }));
    HttpResponse<String> after = post("/v1/entries", entry("spiffe://lattice.local/ns/default/sa/after-garbage", nodeSpiffeId, "unix:uid:7"));
    assertThat(after.statusCode()).as(after.body()).isEqualTo(201);
    String id = new JsonObject(after.body()).getString("id");
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().get(id).isPresent());
    assertThat(delete("/v1/entries/" + id).statusCode()).isEqualTo(204);
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().get(id).isEmpty());
    assertThat(get("/readyz").statusCode()).isEqualTo(200);
  }

  @Test
  @Order(8)
  void restartRebuildsEntriesAndCaFromKafkaAndTheKeystore() throws Exception {
    List<X509Certificate> rootsBefore = service.certificateAuthority().bundle().x509Authorities();
    long sequenceBefore = service.certificateAuthority().bundle().sequence();
    List<String> entriesBefore = service.entries().list().stream().map(e -> e.id()).toList();
    // the bundle endpoint's own certificate, pinned by a client as docs/identity.md says
    Path servingCert = dir.resolve("identity").resolve(dev.lattice.identity.bundle.BundleEndpoint.LOCAL_CERT_FILE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
        dir.resolve("identity").resolve(dev.lattice.identity.bundle.BundleEndpoint.LOCAL_KEY_FILE)))).isEqualTo("rw-------");
    HttpClient pinned = pinnedTo(servingCert);
    assertThat(pinned.send(HttpRequest.newBuilder(URI.create("https://localhost:" + service.bundleEndpointPort() + "/")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
    keysMade.addAll(service.certificateAuthority().authorities().stream().map(CaAuthority::intermediateKey).toList());
    keysMade.addAll(service.certificateAuthority().authorities().stream().map(a -> a.jwtKey().getPrivate()).toList());
    launcher.close();

    startService();
    assertThat(service.certificateAuthority().bundle().x509Authorities()).isEqualTo(rootsBefore);
    // the same serving certificate after the restart: the pinned client still trusts the endpoint
    HttpResponse<String> pinnedAgain = pinned.send(HttpRequest.newBuilder(
        URI.create("https://localhost:" + service.bundleEndpointPort() + "/")).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(pinnedAgain.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(pinnedAgain.body()).getJsonArray("keys")).isNotEmpty();
    assertThat(service.certificateAuthority().bundle().sequence()).isGreaterThanOrEqualTo(sequenceBefore);
    assertThat(service.entries().list().stream().map(e -> e.id()).toList()).containsExactlyInAnyOrderElementsOf(entriesBefore);

    // the node, with its SVID from before the restart, keeps getting SVIDs under the same root
    SigningClient again = newClient();
    again.updateCredential(nodeKey.getPrivate(), nodeChain);
    again.updateCredential(nodeKey.getPrivate(), certs(result(again.renewNodeSvid(Csrs.csr(nodeKey, null)))
        .getCertChainList()));
    result(node.close());
    node = again;
    KeyPair workload = CaKeys.newP256();
    keysMade.add(workload.getPrivate());
    List<X509Certificate> chain = certs(result(node.signX509Svid(entryId, Csrs.csr(workload, null))).getCertChainList());
    verifyChain(chain, rootsBefore);
  }

  @Test
  @Order(9)
  void noPrivateKeyOnAnyLatticeTopic() throws Exception {
    keysMade.addAll(service.certificateAuthority().authorities().stream().map(CaAuthority::intermediateKey).toList());
    keysMade.addAll(service.certificateAuthority().authorities().stream().map(a -> a.jwtKey().getPrivate()).toList());
    List<byte[]> needles = new ArrayList<>();
    for (PrivateKey k : keysMade) {
      needles.add(k.getEncoded()); // PKCS#8
      needles.add(PrivateKeyInfo.getInstance(k.getEncoded()).parsePrivateKey().toASN1Primitive().getEncoded()); // SEC1
      if (k instanceof java.security.interfaces.ECPrivateKey ec) {
        byte[] s = ec.getS().toByteArray();
        byte[] raw = new byte[32];
        System.arraycopy(s, Math.max(0, s.length - 32), raw, 32 - Math.min(32, s.length), Math.min(32, s.length));
        needles.add(raw); // the bare scalar
      }
    }
    List<String> topics = kafka.adminClient().listTopics().names().get(10, TimeUnit.SECONDS).stream()
        .filter(t -> t.startsWith("lattice.")).toList();
    int records = 0;
    for (String topic : topics) {
      for (ConsumerRecord<byte[], byte[]> r : readAll(topic)) {
        records++;
        for (byte[] field : new byte[][] {r.key(), r.value()}) {
          if (field == null) {
            continue;
          }
          assertThat(new String(field, StandardCharsets.ISO_8859_1)).as(topic).doesNotContain("PRIVATE KEY");
          for (byte[] needle : needles) {
            assertThat(indexOf(field, needle)).as("key material in " + topic + "@" + r.offset()).isEqualTo(-1);
          }
        }
      }
    }
    assertThat(topics).contains(config.get("identity.topics.entries"), config.get("identity.topics.bundles"),
        config.get("identity.topics.audit"));
    assertThat(records).as("records scanned").isGreaterThan(5);
    assertThat(keysMade).hasSizeGreaterThan(5);
  }

  @Test
  @Order(10)
  void aNodeEntryWithWorkloadsIsNotDeletedUnlessCascading() throws Exception {
    JsonObject token = new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", "doomed")).body());
    String doomed = token.getString("spiffeId");
    SigningClient doomedNode = newClient();
    try {
      result(doomedNode.attestNode(AttestNodeRequest.newBuilder().setJoinToken(token.getString("token"))
          .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()));
    } finally {
      result(doomedNode.close());
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().get("node-doomed").isPresent());
    String api = created(post("/v1/entries", entry("spiffe://lattice.local/ns/shop/sa/api", doomed, "unix:uid:2001")));
    // an entry parented by a workload entry (nested, as SPIRE allows): a grandchild of the node
    String worker = created(post("/v1/entries", entry("spiffe://lattice.local/ns/shop/sa/worker",
        "spiffe://lattice.local/ns/shop/sa/api", "unix:uid:2002")));
    // an unrelated entry on the first node stays whatever happens
    String unrelated = created(post("/v1/entries", entry("spiffe://lattice.local/ns/shop/sa/other", nodeSpiffeId, "unix:uid:2003")));
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().get(worker).isPresent());

    HttpResponse<String> refused = delete("/v1/entries/node-doomed");
    assertThat(refused.statusCode()).as(refused.body()).isEqualTo(409);
    JsonObject why = new JsonObject(refused.body());
    assertThat(why.getString("error")).contains("node-doomed", "is the parent of 2 entries", api, worker, "cascade");
    assertThat(why.getJsonArray("children").stream().map(o -> ((JsonObject) o).getString("id"))).containsExactly(api, worker);
    assertThat(delete("/v1/entries/" + api).statusCode()).as("a workload entry with a nested child").isEqualTo(409);
    assertThat(delete("/v1/entries/node-doomed?cascade=maybe").statusCode()).isEqualTo(400);
    assertThat(service.entries().get("node-doomed")).as("nothing deleted").isPresent();
    assertThat(service.entries().get(api)).isPresent();

    HttpResponse<String> cascaded = delete("/v1/entries/node-doomed?cascade=true");
    assertThat(cascaded.statusCode()).as(cascaded.body()).isEqualTo(200);
    assertThat(new JsonObject(cascaded.body()).getJsonArray("deleted").getList())
        .as("deepest first, the node last").containsExactly(worker, api, "node-doomed");
    await().atMost(Duration.ofSeconds(10)).until(() -> service.entries().get("node-doomed").isEmpty()
        && service.entries().get(api).isEmpty() && service.entries().get(worker).isEmpty());
    assertThat(service.entries().get(unrelated)).isPresent();
    // a leaf entry needs no cascade
    assertThat(delete("/v1/entries/" + unrelated).statusCode()).isEqualTo(204);
  }

  @Test
  @Order(11)
  void anUnusedJoinTokenCanBeRevoked() throws Exception {
    JsonObject token = new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", "spare")).body());
    assertThat(delete("/v1/tokens/spare").statusCode()).isEqualTo(204);
    assertThat(delete("/v1/tokens/spare").statusCode()).as("none left").isEqualTo(404);
    SigningClient spare = newClient();
    try {
      assertStatus(spare.attestNode(AttestNodeRequest.newBuilder().setJoinToken(token.getString("token"))
          .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()), GrpcStatus.PERMISSION_DENIED, "expired");
    } finally {
      result(spare.close());
    }
  }

  @Test
  @Order(12)
  void anAgentWithABurnedJoinTokenBacksOffAndSaysSoOnce() throws Exception {
    JsonObject token = new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", "burned")).body());
    SigningClient first = newClient();
    try {
      result(first.attestNode(AttestNodeRequest.newBuilder().setJoinToken(token.getString("token"))
          .setCsr(ByteString.copyFrom(Csrs.csr(CaKeys.newP256(), null))).build()));
    } finally {
      result(first.close());
    }

    StepClock clock = new StepClock();
    Instant start = clock.now;
    SigningClient agentClient = newClient();
    CountingAttestations authority = new CountingAttestations(new GrpcSvidAuthority(agentClient, clock));
    java.util.concurrent.atomic.AtomicReference<String> tokenFile = new java.util.concurrent.atomic.AtomicReference<>(token.getString("token"));
    NodeIdentityManager manager = new NodeIdentityManager(clientVertx, authority,
        () -> Future.succeededFuture(new NodeAttestationMaterial(NodeAttestationMaterial.Kind.JOIN_TOKEN, tokenFile.get())),
        clock, bundle -> { }, new AttestationBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8)));
    ch.qos.logback.classic.Logger log = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(NodeIdentityManager.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
    lines.start();
    log.addAppender(lines);
    try {
      // the agent's timer ticks every second; the server sees an attempt only when the backoff allows
      List<Long> attemptsAt = new ArrayList<>();
      for (int second = 0; second <= 40; second++) {
        clock.now = start.plusSeconds(second);
        int before = authority.attestations.get();
        assertThatThrownBy(() -> result(manager.refresh())).hasMessageContaining("already used");
        if (authority.attestations.get() > before) {
          attemptsAt.add((long) second);
        }
      }
      assertThat(attemptsAt).as("1 s doubling, capped at 8 s").containsExactly(0L, 1L, 3L, 7L, 15L, 23L, 31L, 39L);
      assertThat(manager.failedAttestations()).isEqualTo(8);
      List<ch.qos.logback.classic.spi.ILoggingEvent> loud = lines.list.stream()
          .filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN)).toList();
      assertThat(loud).as("one clear line, not one per attempt").hasSize(1);
      assertThat(loud.get(0).getLevel()).isEqualTo(ch.qos.logback.classic.Level.ERROR);
      assertThat(loud.get(0).getFormattedMessage()).contains("refused", "already used", "cannot attest with this join token again",
          "lattice token create --node-id", "at most every 8s").doesNotContain(token.getString("token"));

      // a new token (dropped in the file the agent reads) is tried at once, inside the backoff
      tokenFile.set(new JsonObject(post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", "burned")).body()).getString("token"));
      clock.now = start.plusSeconds(40);
      assertThat(result(manager.refresh()).svid().spiffeId()).isEqualTo("spiffe://lattice.local/lattice/node/burned");
      assertThat(manager.failedAttestations()).isZero();
      assertThat(lines.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))).hasSize(1);
    } finally {
      log.detachAppender(lines);
      result(agentClient.close());
    }
  }

  /** Clock moved by hand. */
  static final class StepClock extends java.time.Clock {
    volatile Instant now = Instant.now();

    @Override public java.time.ZoneId getZone() { return java.time.ZoneOffset.UTC; }
    @Override public java.time.Clock withZone(java.time.ZoneId zone) { return this; }
    @Override public Instant instant() { return now; }
  }

  /** The real gRPC authority, counting the attestations that reach the server. */
  static final class CountingAttestations implements SvidAuthority {
    final SvidAuthority real;
    final java.util.concurrent.atomic.AtomicInteger attestations = new java.util.concurrent.atomic.AtomicInteger();

    CountingAttestations(SvidAuthority real) {
      this.real = real;
    }

    @Override
    public Future<NodeAttestationResult> attestNode(NodeAttestationMaterial material, byte[] csrDer) {
      attestations.incrementAndGet();
      return real.attestNode(material, csrDer);
    }

    @Override
    public Future<SignedX509Svid> renewNode(NodeCredential current, byte[] csrDer) {
      return real.renewNode(current, csrDer);
    }

    @Override
    public Future<SignedX509Svid> signX509(NodeCredential node, String entryId, byte[] csrDer) {
      return real.signX509(node, entryId, csrDer);
    }

    @Override
    public Future<JwtToken> signJwt(NodeCredential node, String entryId, List<String> audiences) {
      return real.signJwt(node, entryId, audiences);
    }

    @Override
    public AutoCloseable syncNode(NodeCredential node, io.vertx.core.Handler<dev.lattice.identity.agent.authority.NodeSnapshot> onSnapshot,
        io.vertx.core.Handler<Throwable> onEnd) {
      return real.syncNode(node, onSnapshot, onEnd);
    }
  }

  /** An HTTPS client that trusts exactly the certificate in {@code pem} (and checks the host name). */
  static HttpClient pinnedTo(Path pem) throws Exception {
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (java.io.InputStream in = Files.newInputStream(pem)) {
      trust.setCertificateEntry("bundle-endpoint", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext tls = javax.net.ssl.SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    return HttpClient.newBuilder().sslContext(tls).build();
  }

  static String created(HttpResponse<String> response) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
    return new JsonObject(response.body()).getString("id");
  }

  // ---- helpers

  static JsonObject entry(String spiffeId, String parent, String... selectors) {
    return new JsonObject().put("spiffeId", spiffeId).put("parentId", parent)
        .put("selectors", new io.vertx.core.json.JsonArray(List.of(selectors)));
  }

  @Test
  @Order(13)
  void theDistributorGetsItsReservedSvidForItsOwnKeyAndBadRequestsAreRefused() throws Exception {
    KeyPair key = CaKeys.newP256();
    String distributorId = "spiffe://lattice.local/lattice/distributor";
    JsonObject request = new JsonObject().put("component", "distributor")
        .put("csr", java.util.Base64.getEncoder().encodeToString(Csrs.csr(key, null)));
    assertThat(post("/v1/control-plane/svids", request, null).statusCode()).as("anonymous").isEqualTo(401);

    HttpResponse<String> issued = post("/v1/control-plane/svids", request);
    assertThat(issued.statusCode()).as(issued.body()).isEqualTo(201);
    JsonObject body = new JsonObject(issued.body());
    assertThat(body.getString("spiffeId")).isEqualTo(distributorId);
    List<X509Certificate> chain = certs(body.getJsonArray("chain").stream()
        .map(b -> ByteString.copyFrom(java.util.Base64.getDecoder().decode((String) b))).toList());
    List<X509Certificate> bundle = certs(body.getJsonArray("bundle").stream()
        .map(b -> ByteString.copyFrom(java.util.Base64.getDecoder().decode((String) b))).toList());
    verifyChain(chain, bundle);
    assertThat(chain.get(0).getPublicKey()).as("the caller's own key, not one made by the server").isEqualTo(key.getPublic());
    assertThat(chain.get(0).getSubjectAlternativeNames().stream().map(san -> String.valueOf(san.get(1))).toList()).containsExactly(distributorId);
    assertThat(Instant.parse(body.getString("expiresAt"))).isEqualTo(chain.get(0).getNotAfter().toInstant());

    assertError(post("/v1/control-plane/svids", request.copy().put("component", "server")),
        "component: 'server' (expected one of [distributor])");
    assertError(post("/v1/control-plane/svids", new JsonObject().put("csr", request.getString("csr"))), "component: missing");
    assertError(post("/v1/control-plane/svids", new JsonObject().put("component", "distributor")), "csr: missing");
    assertError(post("/v1/control-plane/svids", request.copy().put("csr", "%%%")), "csr: not base64");
    assertError(post("/v1/control-plane/svids", request.copy().put("csr",
        java.util.Base64.getEncoder().encodeToString(new byte[] {1, 2, 3}))), "csr");
    assertError(post("/v1/control-plane/svids", request.copy().put("csr", java.util.Base64.getEncoder()
        .encodeToString(Csrs.csr(key, "spiffe://lattice.local/lattice/node/evil")))),
        "csr: URI SAN spiffe://lattice.local/lattice/node/evil (expected: none or " + distributorId + ")");
  }

  HttpResponse<String> post(String path, JsonObject body) throws Exception {
    return post(path, body, "Bearer " + adminToken());
  }

  HttpResponse<String> post(String path, JsonObject body, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(running.url(path)).POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("Content-Type", "application/json");
    if (authorization != null) b.header("Authorization", authorization);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  String adminToken() throws Exception {
    return AdminTokenFile.at(dir.resolve("admin.token")).tokens().get(0);
  }

  HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(running.url(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  HttpResponse<String> delete(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(running.url(path)).DELETE()
        .header("Authorization", "Bearer " + adminToken()).build(), HttpResponse.BodyHandlers.ofString());
  }

  static void assertError(HttpResponse<String> response, String message) {
    assertThat(response.statusCode()).as(response.body()).isEqualTo(400);
    assertThat(new JsonObject(response.body()).getString("error")).contains(message);
  }

  static void assertStatus(Future<?> call, GrpcStatus status, String message) {
    assertThatThrownBy(() -> result(call)).isInstanceOfSatisfying(ExecutionException.class, e -> {
      if (e.getCause() instanceof InvalidStatusException ise) { // raw generated client: no message
        assertThat(ise.actualStatus()).isEqualTo(status);
        return;
      }
      assertThat(e.getCause()).isInstanceOf(dev.lattice.identity.signing.SigningRefusedException.class);
      dev.lattice.identity.signing.SigningRefusedException refused = (dev.lattice.identity.signing.SigningRefusedException) e.getCause();
      assertThat(refused.status()).isEqualTo(status);
      assertThat(refused.getMessage()).contains(message);
    });
  }

  static <T> T result(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  static List<X509Certificate> certs(List<ByteString> ders) throws Exception {
    CertificateFactory cf = CertificateFactory.getInstance("X.509");
    List<X509Certificate> out = new ArrayList<>();
    for (ByteString d : ders) {
      out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(d.toByteArray())));
    }
    return out;
  }

  void verifyChain(List<X509Certificate> chain) throws Exception {
    verifyChain(chain, service.certificateAuthority().bundle().x509Authorities());
  }

  static void verifyChain(List<X509Certificate> chain, List<X509Certificate> roots) throws Exception {
    Set<TrustAnchor> anchors = new java.util.HashSet<>();
    roots.forEach(r -> anchors.add(new TrustAnchor(r, null)));
    PKIXParameters params = new PKIXParameters(anchors);
    params.setRevocationEnabled(false);
    CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(chain), params);
  }

  List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
    Map<String, Object> props = new HashMap<>(kafka.consumerProps("scan-" + System.nanoTime()));
    props.remove("group.id");
    props.put("isolation.level", "read_uncommitted");
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> parts = c.partitionsFor(topic).stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      c.assign(parts);
      c.seekToBeginning(parts);
      Map<TopicPartition, Long> end = c.endOffsets(parts);
      long deadline = System.currentTimeMillis() + 15_000;
      while (parts.stream().anyMatch(p -> c.position(p) < end.get(p)) && System.currentTimeMillis() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }

  static int indexOf(byte[] haystack, byte[] needle) {
    outer:
    for (int i = 0; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
