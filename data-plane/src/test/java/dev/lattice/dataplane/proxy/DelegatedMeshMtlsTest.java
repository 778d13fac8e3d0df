package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.identity.TestIdentityService;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.dataplane.identity.HeldSvid;
import dev.lattice.dataplane.identity.IdentitySources;
import dev.lattice.dataplane.identity.WorkloadIdentitySource;
import dev.lattice.dataplane.identity.WorkloadSelectors;
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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The proxy's inbound mesh mTLS with its identities from the node agent, the default source in a node:
 * a real identity service (CA, entries on the embedded broker, Signing API over mTLS), a real node agent
 * attested with a join token serving the Delegated Identity API on a Unix socket, and
 * {@link IdentitySources} starting the delegated client for the node's two workloads. Each STRICT inbound
 * listener presents the SVID of the workload behind it (the one its cluster's endpoint names); a rotation on
 * the agent's test clock reaches new handshakes while a connection opened before it keeps serving.
 */
@LatticeKafkaTest
class DelegatedMeshMtlsTest {
  private static final String NODE = "dp-mtls-node";
  private static final String WEB = "spiffe://lattice.local/ns/default/sa/web";
  private static final String API = "spiffe://lattice.local/ns/default/sa/api";
  private static final int TTL_SECONDS = 600;
  private static final WorkloadSelectors WEB_WORKLOAD = WorkloadSelectors.of("unix:uid:5252");
  private static final WorkloadSelectors API_WORKLOAD = WorkloadSelectors.of("unix:uid:5353");

  @TempDir static Path dir;
  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static ServiceLauncher serverSide;
  private static IdentityService identity;
  private static RunningService server;
  private static Path bootstrap;

  private final ProxyFixture fx = new ProxyFixture();
  private MutableClock agentClock;
  private SigningClient signing;
  private NodeAgent agent;
  private DelegatedIdentityServer delegated;
  private WorkloadIdentitySource source;
  private EchoBackend backend;
  private Path adminSocket;

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
    // the node of an unused join token may parent entries
    assertThat(post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", NODE)).statusCode()).isEqualTo(201);
    for (String[] entry : new String[][] {{WEB, "unix:uid:5252"}, {API, "unix:uid:5353"}}) {
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

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  @BeforeEach
  void startAgent() throws Exception {
    agentClock = new MutableClock(Instant.now());
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    Path sockets = Files.createTempDirectory(Path.of("/tmp"), "lattice-dpm-");
    adminSocket = sockets.resolve("admin.sock");
    HttpResponse<String> token = post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", NODE));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    Path tokenFile = dir.resolve("join-token-" + System.nanoTime());
    Files.writeString(tokenFile, new JsonObject(token.body()).getString("token"));
    List<X509Certificate> roots = CertificateFactory.getInstance("X.509")
        .generateCertificates(Files.newInputStream(bootstrap)).stream().map(c -> (X509Certificate) c).toList();
    signing = SigningClient.create(fx.vertx, SocketAddress.inetSocketAddress(identity.signingPort(), "127.0.0.1"),
        TrustDomain.parse("lattice.local"), roots);
    agent = new NodeAgent(fx.vertx, new GrpcSvidAuthority(signing, agentClock),
        AttestationSource.file(fx.vertx, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), agentClock,
        new NodeAgent.Settings(sockets.resolve("workload.sock"), Duration.ofMillis(200), Duration.ofSeconds(1)));
    join(agent.start());
    delegated = new DelegatedIdentityServer(fx.vertx, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(adminSocket, Set.of(uid), Set.of()));
    join(delegated.listen());
    assertThat(fx.vertx.isNativeTransportEnabled()).as("epoll (the agent reads peer credentials)").isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    if (backend != null) {
      backend.close();
    }
    if (fx.server != null) {
      fx.server.close().await(10, TimeUnit.SECONDS);
      fx.server = null;
    }
    if (source != null) {
      source.close();
    }
    join(delegated.close());
    join(agent.stop());
    join(signing.close());
    fx.close();
  }

  /** Two STRICT inbound listeners, each in front of one workload whose cluster endpoint names its SPIFFE ID. */
  private void startProxy() throws Exception {
    source = IdentitySources.start(fx.vertx, new IdentitySources.Settings(adminSocket, List.of(WEB_WORKLOAD, API_WORKLOAD),
        List.of(), Map.of(), Duration.ofSeconds(60)), Clock.systemUTC()).await(70, TimeUnit.SECONDS);
    // the first snapshot holds whatever the agent had signed by then: wait for both
    await().atMost(Duration.ofSeconds(60)).until(() -> source.current().svids().keySet().equals(Set.of(WEB, API)));
    fx.identity = source;
    backend = new EchoBackend(fx.vertx, "workload");
    StringBuilder yaml = new StringBuilder("settings: {node: " + NODE + "}\nlisteners:\n");
    for (String w : List.of("web", "api")) {
      yaml.append("  - {name: in-").append(w).append(", port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r-").append(w)
          .append(", peerAuthentication: pa}\n");
    }
    yaml.append("routes:\n");
    for (String w : List.of("web", "api")) {
      yaml.append("  - name: r-").append(w).append("\n    virtualHosts:\n      - name: ").append(w)
          .append("\n        domains: [\"*\"]\n        routes: [{name: default, clusters: [{cluster: inbound-").append(w).append("}]}]\n");
    }
    yaml.append("clusters:\n");
    for (String w : List.of("web", "api")) {
      yaml.append("  - name: inbound-").append(w).append("\n    host: ").append(w).append(".default\n    port: 8080\n    mtls: false\n")
          .append("    endpoints: [{address: 127.0.0.1, port: ").append(backend.port())
          .append(", spiffeId: \"spiffe://lattice.local/ns/default/sa/").append(w).append("\", health: HEALTHY}]\n");
    }
    yaml.append("peerAuthentication:\n  - {name: pa, mode: STRICT}\n");
    fx.start(yaml.toString());
  }

  /** A client presenting {@code svid} and trusting the bundles the proxy holds. */
  private SSLContext clientPresenting(HeldSvid svid) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("svid", svid.privateKey(), new char[0], svid.chain().toArray(X509Certificate[]::new));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (X509Certificate root : source.current().bundle("lattice.local")) {
      trust.setCertificateEntry("root" + i++, root);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  private static X509Certificate served(RawHttpClient c) throws Exception {
    return (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
  }

  private static String xfcc(RawHttpClient.Response r) {
    return r.body().lines().filter(l -> l.startsWith("x-forwarded-client-cert: ")).findFirst()
        .map(l -> l.substring("x-forwarded-client-cert: ".length())).orElse(null);
  }

  private BigInteger serial(String spiffeId) {
    return source.current().svid(spiffeId).orElseThrow().leaf().getSerialNumber();
  }

  @Test
  void eachInboundListenerPresentsItsWorkloadsSvidFromTheAgentAndRotationReachesNewHandshakes() throws Exception {
    startProxy();
    InetSocketAddress web = fx.address("in-web");
    InetSocketAddress api = fx.address("in-api");
    HeldSvid apiSvid = source.current().svid(API).orElseThrow();
    HeldSvid webSvid = source.current().svid(WEB).orElseThrow();

    // api calls web: the web listener presents web's SVID, the workload learns the caller is api
    try (RawHttpClient open = RawHttpClient.tls(web, clientPresenting(apiSvid))) {
      assertThat(SvidTrustManager.spiffeIdOf(served(open)).toString()).isEqualTo(WEB);
      assertThat(served(open).getSerialNumber()).isEqualTo(webSvid.leaf().getSerialNumber());
      RawHttpClient.Response r = open.get("/hello", "web.default");
      assertThat(r.status()).isEqualTo(200);
      assertThat(xfcc(r)).startsWith("By=" + WEB + ";Hash=").endsWith(";URI=" + API);

      // web calls api: the other listener presents api's SVID
      try (RawHttpClient back = RawHttpClient.tls(api, clientPresenting(webSvid))) {
        assertThat(SvidTrustManager.spiffeIdOf(served(back)).toString()).isEqualTo(API);
        assertThat(xfcc(back.get("/back", "api.default"))).startsWith("By=" + API + ";").endsWith(";URI=" + WEB);
      }

      // rotation: past half life on the agent's clock the agent renews, the proxy's source follows
      BigInteger before = serial(WEB);
      agentClock.advance(Duration.ofSeconds(TTL_SECONDS / 2 + 1));
      await().atMost(Duration.ofSeconds(30)).until(() -> !serial(WEB).equals(before));
      BigInteger rotated = serial(WEB);
      // a new handshake gets the new SVID
      await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
        try (RawHttpClient fresh = RawHttpClient.tls(web, clientPresenting(apiSvid))) {
          assertThat(served(fresh).getSerialNumber()).isEqualTo(rotated);
          assertThat(fresh.get("/fresh", "web.default").status()).isEqualTo(200);
        }
      });
      // the connection opened before the rotation keeps being served
      assertThat(open.get("/again", "web.default").status()).isEqualTo(200);
      assertThat(served(open).getSerialNumber()).isEqualTo(before);
    }

    // no client certificate: refused, and nothing reaches the workload
    int seen = backend.requests.get();
    SSLContext anonymous = SSLContext.getInstance("TLS");
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("root", source.current().bundle("lattice.local").get(0));
    tmf.init(trust);
    anonymous.init(null, tmf.getTrustManagers(), null);
    assertThatThrownBy(() -> {
      try (RawHttpClient c = RawHttpClient.tls(web, anonymous)) {
        c.get("/anon", "web.default");
      }
    }).isInstanceOf(IOException.class);
    try (RawHttpClient plain = new RawHttpClient(web)) {
      plain.send("GET /plain HTTP/1.1\r\nHost: web.default\r\n\r\n");
      assertThat(plain.closedByPeer()).isTrue();
    }
    assertThat(backend.requests.get()).isEqualTo(seen);
  }

  @Test
  void aSocketNobodyServesFailsTheStartNamingItAndBothSourcesAtOnceAreRefused() throws Exception {
    Path nobody = dir.resolve("nobody.sock");
    assertThatThrownBy(() -> IdentitySources.start(fx.vertx, new IdentitySources.Settings(nobody, List.of(WEB_WORKLOAD),
        List.of(), Map.of(), Duration.ofMillis(500)), Clock.systemUTC()).await(10, TimeUnit.SECONDS))
        .hasMessageContaining("node agent at " + nobody)
        .hasMessageContaining("no SVIDs and bundles within PT0.5S");
    assertThatThrownBy(() -> new IdentitySources.Settings(adminSocket, List.of(),
        List.of(new dev.lattice.dataplane.identity.FileIdentitySource.SvidFiles(dir.resolve("a.pem"), dir.resolve("k.pem"))),
        Map.of(), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("both an agent socket");
    // neither: no source (a proxy without mesh mTLS)
    assertThat(IdentitySources.start(fx.vertx, new IdentitySources.Settings(null, List.of(), List.of(), Map.of(),
        Duration.ofSeconds(1)), Clock.systemUTC()).await(10, TimeUnit.SECONDS)).isNull();
  }
}
