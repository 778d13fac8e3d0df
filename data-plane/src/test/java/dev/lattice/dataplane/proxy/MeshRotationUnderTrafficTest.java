package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.identity.TestIdentityService;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
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
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9's rotation acceptance on the real parts: an identity service (CA, entries on the embedded broker,
 * Signing API over mTLS) and one real node agent per node, each serving the Delegated Identity API; proxy A
 * (node-a, workload web) originates mesh mTLS to proxy B's STRICT inbound listener (node-b, in front of
 * workload api, authorization allowing only web). Both SVIDs have the shortest TTL the identity service
 * accepts (60 s). Steady traffic through A → B while both agents rotate twice → zero failed requests, and
 * each rotation's new SVIDs are the ones new handshakes present: B sees A's new certificate (the
 * {@code Hash} in {@code x-forwarded-client-cert}), a new client of B gets B's new one.
 *
 * <p>The rotation schedule is the agents' {@link MutableClock}: moved past half life, the agent signs a new
 * SVID and streams it. Certificates are still checked against real time in the TLS handshakes, so nothing
 * here waits for a TTL; the waits are bounded conditions, never sleeps, and the failure count covers the
 * whole window. A's cluster closes its upstream connection every 5 requests
 * ({@code maxRequestsPerConnection}) so that handshakes keep happening during the rotations.
 */
@LatticeKafkaTest
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class MeshRotationUnderTrafficTest {
  private static final String TD = "lattice.local";
  private static final String WEB = "spiffe://lattice.local/ns/default/sa/web";
  private static final String API = "spiffe://lattice.local/ns/default/sa/api";
  private static final int TTL_SECONDS = 60;
  private static final Duration WAIT = Duration.ofSeconds(60);

  @TempDir Path dir;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private ServiceLauncher identityLauncher;
  private IdentityService identity;
  private RunningService identityServer;
  private List<X509Certificate> roots;
  private Vertx control;
  private final MutableClock agentClock = new MutableClock(Instant.now());

  @BeforeEach
  void startIdentityService(KafkaCluster kafka) throws Exception {
    Map<String, String> config = TestIdentityService.config(kafka, dir);
    identityLauncher = ServiceLauncher.create(LatticeConfig.of(config));
    identity = new IdentityService();
    identityServer = join(identityLauncher.start(identity));
    await().atMost(WAIT).until(() -> get("/readyz").statusCode() == 200);
    roots = CertificateFactory.getInstance("X.509")
        .generateCertificates(new java.io.ByteArrayInputStream(get("/v1/bundle.pem").body().getBytes()))
        .stream().map(c -> (X509Certificate) c).toList();
    control = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(1));
    assertThat(control.isNativeTransportEnabled()).as("epoll (the agent reads peer credentials)").isTrue();
  }

  @AfterEach
  void stop() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      try {
        closing.get(i).close();
      } catch (Exception e) {
        // best effort: the next one still closes
      }
    }
    if (control != null) {
      control.close().await(10, TimeUnit.SECONDS);
    }
    if (identityLauncher != null) {
      identityLauncher.close();
    }
  }

  private HttpResponse<String> get(String path) throws Exception {
    return http.send(HttpRequest.newBuilder(identityServer.url(path)).timeout(Duration.ofSeconds(10)).GET().build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> post(String path, JsonObject body) throws Exception {
    return http.send(HttpRequest.newBuilder(identityServer.url(path)).timeout(Duration.ofSeconds(10))
        .POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + AdminTokenFile.at(dir.resolve("admin.token")).tokens().get(0))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private static <T> T join(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private String joinToken(String node) throws Exception {
    HttpResponse<String> token = post("/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", node));
    assertThat(token.statusCode()).as(token.body()).isEqualTo(201);
    return new JsonObject(token.body()).getString("token");
  }

  /**
   * A node agent for {@code node} on {@link #agentClock} holding {@code spiffeId} (selector {@code selector},
   * TTL {@link #TTL_SECONDS}), its Delegated Identity API on the returned admin socket.
   */
  private Path agent(String node, String spiffeId, String selector) throws Exception {
    String unusedToken = joinToken(node); // an unused join token's node may parent entries
    assertThat(unusedToken).isNotBlank();
    HttpResponse<String> created = post("/v1/entries", new JsonObject().put("spiffeId", spiffeId)
        .put("parentId", "spiffe://lattice.local/lattice/node/" + node).put("selectors", new JsonArray().add(selector))
        .put("x509SvidTtlSeconds", TTL_SECONDS));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    Path sockets = Files.createTempDirectory(Path.of("/tmp"), "lattice-rot-");
    Path tokenFile = dir.resolve("join-token-" + node);
    Files.writeString(tokenFile, joinToken(node));
    SigningClient signing = SigningClient.create(control, SocketAddress.inetSocketAddress(identity.signingPort(), "127.0.0.1"),
        TrustDomain.parse(TD), roots);
    closing.add(() -> join(signing.close()));
    NodeAgent agent = new NodeAgent(control, new GrpcSvidAuthority(signing, agentClock),
        AttestationSource.file(control, tokenFile, NodeAttestationMaterial.Kind.JOIN_TOKEN),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), agentClock,
        new NodeAgent.Settings(sockets.resolve("workload.sock"), Duration.ofMillis(200), Duration.ofSeconds(1)));
    join(agent.start());
    closing.add(() -> join(agent.stop()));
    int uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
    Path admin = sockets.resolve("admin.sock");
    DelegatedIdentityServer delegated = new DelegatedIdentityServer(control, agent.svids(), List.of(new UnixWorkloadAttestor()),
        ProcessTable.system(), new DelegatedIdentitySettings(admin, Set.of(uid), Set.of()));
    join(delegated.listen());
    closing.add(() -> join(delegated.close()));
    return admin;
  }

  /** The proxy's identity source for {@code selector}'s workload, once it holds {@code spiffeId}. */
  private WorkloadIdentitySource source(ProxyFixture fx, Path admin, String selector, String spiffeId) throws Exception {
    WorkloadIdentitySource s = IdentitySources.start(fx.vertx, new IdentitySources.Settings(admin,
        List.of(WorkloadSelectors.of(selector)), List.of(), Map.of(), Duration.ofSeconds(60)), Clock.systemUTC())
        .await(70, TimeUnit.SECONDS);
    closing.add(s::close);
    await().atMost(WAIT).until(() -> s.current().svid(spiffeId).isPresent());
    return s;
  }

  private static String hash(X509Certificate cert) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(cert.getEncoded()));
  }

  private static HeldSvid held(WorkloadIdentitySource s, String spiffeId) {
    return s.current().svid(spiffeId).orElseThrow();
  }

  @Test
  void steadyTrafficAcrossTwoRotationsOfBothNodesSvidsHasZeroFailedRequests() throws Exception {
    Path adminA = agent("rot-node-a", WEB, "unix:uid:6161");
    Path adminB = agent("rot-node-b", API, "unix:uid:6262");

    ProxyFixture b = new ProxyFixture();
    closing.add(b);
    WorkloadIdentitySource sourceB = source(b, adminB, "unix:uid:6262", API);
    b.identity = sourceB;
    EchoBackend backend = new EchoBackend(b.vertx, "api");
    closing.add(backend);
    b.start("""
        settings: {node: rot-node-b}
        listeners:
          - {name: in, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r, peerAuthentication: pa, authorization: az}
        routes:
          - name: r
            virtualHosts:
              - name: api
                domains: ["*"]
                routes: [{name: default, clusters: [{cluster: inbound-api}]}]
        clusters:
          - name: inbound-api
            host: api.default
            port: 8080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, spiffeId: "%s", health: HEALTHY}]
        peerAuthentication:
          - {name: pa, mode: STRICT}
        authorization:
          - name: az
            policies:
              - {namespace: default, name: allow-web, action: ALLOW, rules: [{from: [{source: {principals: ["lattice.local/ns/default/sa/web"]}}]}]}
        """.formatted(backend.port(), API), List.of(new AuthorizationFilterFactory()));
    InetSocketAddress nodeB = b.address("in");

    ProxyFixture a = new ProxyFixture();
    closing.add(a);
    WorkloadIdentitySource sourceA = source(a, adminA, "unix:uid:6161", WEB);
    a.identity = sourceA;
    a.start("""
        settings: {node: rot-node-a, originateMtls: true}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r}
        routes:
          - name: r
            virtualHosts:
              - name: api
                domains: ["api.default"]
                routes: [{name: default/api, clusters: [{cluster: mesh}]}]
        clusters:
          - name: mesh
            host: api.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, node: rot-node-b, spiffeId: "%s", health: HEALTHY}]
            trafficPolicy: {connectionPool: {http: {maxRequestsPerConnection: 5}}}
        """.formatted(nodeB.getPort(), API));
    InetSocketAddress out = a.address("out");

    Traffic traffic = new Traffic(out);
    closing.add(traffic);
    traffic.start();
    await().atMost(WAIT).until(() -> traffic.ok.get() >= 50);

    List<String> webHashes = new ArrayList<>(List.of(hash(held(sourceA, WEB).leaf())));
    for (int rotation = 1; rotation <= 2; rotation++) {
      BigInteger webBefore = held(sourceA, WEB).leaf().getSerialNumber();
      BigInteger apiBefore = held(sourceB, API).leaf().getSerialNumber();
      // past half life of both held SVIDs on the agents' clock (and still short of their notAfter): the agent
      // counts half life from max(received, notBefore), and received <= its clock's now
      Instant now = agentClock.instant();
      Instant target = now;
      for (HeldSvid svid : List.of(held(sourceA, WEB), held(sourceB, API))) {
        Instant from = max(now, svid.leaf().getNotBefore().toInstant());
        Instant halfLife = from.plus(Duration.between(from, svid.notAfter()).dividedBy(2)).plusSeconds(1);
        assertThat(halfLife).as("rotation %d stays inside %s's lifetime", rotation, svid.spiffeId()).isBefore(svid.notAfter());
        target = max(target, halfLife);
      }
      agentClock.advance(Duration.between(now, target));
      await().atMost(WAIT).until(() -> !held(sourceA, WEB).leaf().getSerialNumber().equals(webBefore)
          && !held(sourceB, API).leaf().getSerialNumber().equals(apiBefore));
      String rotatedWeb = hash(held(sourceA, WEB).leaf());
      webHashes.add(rotatedWeb);
      // A's next mesh connections present web's new SVID: B tells the workload its hash
      await().atMost(WAIT).until(() -> traffic.hashes.containsKey(rotatedWeb));
      // a new client of B gets api's new SVID, and is served
      BigInteger rotatedApi = held(sourceB, API).leaf().getSerialNumber();
      try (RawHttpClient fresh = RawHttpClient.tls(nodeB, presenting(held(sourceA, WEB), sourceA))) {
        X509Certificate served = (X509Certificate) ((SSLSocket) fresh.socket()).getSession().getPeerCertificates()[0];
        assertThat(SvidTrustManager.spiffeIdOf(served).toString()).isEqualTo(API);
        assertThat(served.getSerialNumber()).as("rotation %d: B's new handshakes", rotation).isEqualTo(rotatedApi);
        assertThat(fresh.get("/direct", "api.default").status()).isEqualTo(200);
      }
    }
    long afterRotations = traffic.ok.get();
    await().atMost(WAIT).until(() -> traffic.ok.get() >= afterRotations + 50);
    traffic.close();

    System.out.printf("rotation under traffic: %d requests ok, %d failed, %d client certificates of web seen by B %s%n",
        traffic.ok.get(), traffic.failures.size(), traffic.hashes.size(), traffic.hashes.values());
    assertThat(traffic.failures).as("failed requests across both rotations").isEmpty();
    assertThat(traffic.ok.get()).isGreaterThanOrEqualTo(100);
    assertThat(traffic.hashes.keySet()).as("A presented each of web's three SVIDs in turn").containsAll(webHashes);
    assertThat(b.server.tlsHandshakeFailures()).isZero();
    assertThat(backend.requests.get()).isEqualTo((int) traffic.ok.get() + 2);
  }

  private static Instant max(Instant x, Instant y) {
    return x.isAfter(y) ? x : y;
  }

  /** A client presenting {@code svid}, trusting the bundles {@code s} holds. */
  private static SSLContext presenting(HeldSvid svid, WorkloadIdentitySource s) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("svid", svid.privateKey(), new char[0], svid.chain().toArray(X509Certificate[]::new));
    KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    int i = 0;
    for (X509Certificate root : s.current().bundle(TD)) {
      trust.setCertificateEntry("root" + i++, root);
    }
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  /**
   * Steady requests to node A's outbound listener from two threads (one keep-alive connection each, a new one
   * every 20 requests, ~2 ms apart), every response checked: 200 and B's XFCC naming web. Any other outcome is a
   * failure with its reason. Bounded: at most 5 minutes, stopped by {@link #close()}.
   */
  private static final class Traffic implements AutoCloseable {
    final AtomicLong ok = new AtomicLong();
    final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    final Map<String, AtomicLong> hashes = new ConcurrentHashMap<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();
    private final InetSocketAddress target;

    Traffic(InetSocketAddress target) {
      this.target = target;
    }

    void start() {
      for (int t = 0; t < 2; t++) {
        Thread th = new Thread(this::run, "rotation-traffic-" + t);
        th.setDaemon(true);
        threads.add(th);
        th.start();
      }
    }

    private void run() {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
      int n = 0;
      while (!stop.get() && System.nanoTime() < deadline) {
        try (RawHttpClient c = new RawHttpClient(target)) {
          for (int i = 0; i < 20 && !stop.get(); i++, n++) {
            RawHttpClient.Response r = c.get("/r/" + n, "api.default");
            String xfcc = r.body().lines().filter(l -> l.startsWith("x-forwarded-client-cert: ")).findFirst().orElse("");
            int h = xfcc.indexOf(";Hash=");
            if (r.status() != 200 || h < 0 || !xfcc.endsWith(";URI=" + WEB)) {
              failures.add(r.status() + " " + r.header("x-lattice-flags") + " " + r.body().lines().findFirst().orElse(""));
              continue;
            }
            hashes.computeIfAbsent(xfcc.substring(h + 6, xfcc.indexOf(';', h + 6)), k -> new AtomicLong()).incrementAndGet();
            ok.incrementAndGet();
            Thread.sleep(2); // pacing only: a steady flow, not a load test on a shared machine
          }
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
      for (Thread t : threads) {
        t.join(15_000);
      }
    }
  }
}
