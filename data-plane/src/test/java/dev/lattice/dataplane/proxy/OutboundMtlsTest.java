package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import dev.lattice.dataplane.identity.FileIdentitySource;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Outbound mesh mTLS on real sockets: proxy A's outbound listener originates mTLS to a cluster with
 * {@code mtls} using the source workload's SVID; proxy B's inbound STRICT listener verifies it and its
 * authorization decides on A's SPIFFE ID; A verifies B's SVID against the bundle and the expected identity.
 */
class OutboundMtlsTest {
  static final String NODE_B = "spiffe://lattice.local/lattice/node/node-b";
  static final String WEB = "spiffe://lattice.local/ns/default/sa/web";

  @TempDir
  Path dir;
  private TestPki pki;
  private final List<AutoCloseable> open = new ArrayList<>();
  private EchoBackend backend;
  private InetSocketAddress nodeB;
  private ProxyFixture b;

  @BeforeEach
  void nodeB() throws Exception {
    pki = new TestPki(dir, "lattice-local");
    b = fixture(identity(pki.client("node-b", NODE_B)));
    backend = new EchoBackend(b.vertx, "b1");
    String yaml = ProxyFixture.singleRoute(backend.port(), "")
        .replace("settings: {node: node-a", "settings: {node: node-b")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n    authorization: az\n")
        + "peerAuthentication:\n  - {name: pa, mode: STRICT}\n"
        + "authorization:\n  - name: az\n    policies:\n"
        + "      - {namespace: default, name: allow-web, action: ALLOW, rules: [{from: [{source: {principals: [\"lattice.local/ns/default/sa/web\"]}}]}]}\n";
    b.start(yaml, List.of(new AuthorizationFilterFactory()));
    nodeB = b.address("in");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private FileIdentitySource identity(TestPki.Issued svid) throws Exception {
    FileIdentitySource s = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(svid.certFile(), svid.keyFile())),
        Map.of("lattice.local", pki.caFile));
    open.add(s);
    return s;
  }

  private ProxyFixture fixture(FileIdentitySource identity) {
    ProxyFixture fx = new ProxyFixture();
    fx.identity = identity;
    open.add(fx);
    return fx;
  }

  /** Node A's config: outbound listener {@code out}, cluster {@code mesh} → B's inbound listener. */
  private String nodeA(String endpointExtra, String clusterExtra) {
    return """
        settings: {node: node-a, originateMtls: true}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: echo
                domains: ["echo.default"]
                routes:
                  - {name: default/echo, clusters: [{cluster: mesh}]}
        clusters:
          - name: mesh
            host: echo.default
            port: 8080
        %s    endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY%s}]
        """.formatted(clusterExtra, nodeB.getPort(), endpointExtra);
  }

  private static String header(RawHttpClient.Response r, String name) {
    return r.body().lines().filter(l -> l.startsWith(name + ": ")).findFirst().map(l -> l.substring(name.length() + 2)).orElse(null);
  }

  @Test
  void outboundOriginatesMtlsWithTheSourceSvidAndTheInboundNodeAuthorizesIt() throws Exception {
    ProxyFixture a = fixture(identity(pki.client("web", WEB)));
    a.start(nodeA(", node: node-b, spiffeId: '" + NODE_B + "'", ""));
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      for (int i = 0; i < 3; i++) {
        RawHttpClient.Response r = c.get("/hop/" + i, "echo.default");
        assertThat(r.status()).isEqualTo(200);
        // B verified A's SVID and told the workload who called: By = node B, URI = the source workload
        assertThat(header(r, "x-forwarded-client-cert")).startsWith("By=" + NODE_B + ";Hash=").endsWith(";URI=" + WEB);
        assertThat(header(r, "x-forwarded-proto")).isEqualTo("http"); // what the client spoke to A, kept across the hop
      }
    }
    assertThat(backend.requests.get()).isEqualTo(3);
    assertThat(a.nextCompleted().flags()).isEmpty();
    // the three requests shared one pooled mTLS connection: B accepted exactly one
    assertThat(b.server.openConnections()).isEqualTo(1);
  }

  @Test
  void aProxyHoldingSeveralWorkloadsSvidsPresentsTheCallersByItsSourceAddress() throws Exception {
    // the node holds web's and api's SVIDs (agent mode with two --workload); each caller is known by its own address
    TestPki.Issued web = pki.client("web", WEB);
    TestPki.Issued api = pki.client("api", "spiffe://lattice.local/ns/default/sa/api");
    FileIdentitySource both = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(web.certFile(), web.keyFile()),
        new FileIdentitySource.SvidFiles(api.certFile(), api.keyFile())), Map.of("lattice.local", pki.caFile));
    open.add(both);
    ProxyFixture a = fixture(both);
    a.start(nodeA(", node: node-b, spiffeId: '" + NODE_B + "'", "") + """
          - name: inbound-web
            host: web.default
            port: 8080
            mtls: false
            endpoints: [{address: 127.0.0.71, port: 8080, spiffeId: "spiffe://lattice.local/ns/default/sa/web", health: HEALTHY}]
          - name: inbound-api
            host: api.default
            port: 8080
            mtls: false
            endpoints: [{address: 127.0.0.72, port: 8080, spiffeId: "spiffe://lattice.local/ns/default/sa/api", health: HEALTHY}]
        """);
    java.net.InetAddress webIp = java.net.InetAddress.getByName("127.0.0.71");
    java.net.InetAddress apiIp = java.net.InetAddress.getByName("127.0.0.72");
    for (int i = 0; i < 2; i++) { // the second round reuses pooled connections: each stays with its identity
      try (RawHttpClient c = RawHttpClient.from(webIp, a.address("out"))) {
        RawHttpClient.Response r = c.get("/from-web", "echo.default");
        assertThat(r.status()).isEqualTo(200);
        assertThat(header(r, "x-forwarded-client-cert")).endsWith(";URI=" + WEB);
      }
      try (RawHttpClient c = RawHttpClient.from(apiIp, a.address("out"))) {
        assertThat(c.get("/from-api", "echo.default").status()).as("B authorizes only web").isEqualTo(403);
      }
    }
    // a caller the snapshot knows no workload at: no identity to present of the two
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      RawHttpClient.Response r = c.get("/unknown", "echo.default");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).contains("no workload SVID to present");
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void anotherSourceIdentityIsDeniedByTheInboundAuthorization() throws Exception {
    ProxyFixture a = fixture(identity(pki.client("db", "spiffe://lattice.local/ns/default/sa/db")));
    a.start(nodeA(", node: node-b", ""));
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(403);
    }
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void aServerWithTheWrongIdentityOrOutsideTheBundleIsRefusedBeforeAnyRequestByte() throws Exception {
    ProxyFixture a = fixture(identity(pki.client("web", WEB)));
    a.start(nodeA(", node: node-b, spiffeId: 'spiffe://lattice.local/ns/default/sa/reviews'", ""));
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      RawHttpClient.Response r = c.get("/x", "echo.default");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).contains("TLS error: the server presented " + NODE_B + " (expected: spiffe://lattice.local/ns/default/sa/reviews)");
    }
    assertThat(a.nextCompleted().flags()).isEqualTo("UF");

    // a node A whose bundle is another CA's: B's SVID does not verify
    TestPki other = new TestPki(dir, "other");
    TestPki.Issued web = other.client("web-foreign", WEB);
    FileIdentitySource foreign = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(web.certFile(), web.keyFile())),
        Map.of("lattice.local", other.caFile));
    open.add(foreign);
    ProxyFixture a2 = fixture(foreign);
    a2.start(nodeA(", node: node-b", ""));
    try (RawHttpClient c = new RawHttpClient(a2.address("out"))) {
      RawHttpClient.Response r = c.get("/x", "echo.default");
      assertThat(r.status()).isEqualTo(503);
      assertThat(r.body()).contains("TLS error");
    }
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void endpointsOutsideTheMeshStayPlaintextAndMtlsWithoutAnIdentityIsRefusedAtApply() throws Exception {
    // no node on the endpoint: not in the mesh, plaintext — B's STRICT listener refuses it
    ProxyFixture a = fixture(identity(pki.client("web", WEB)));
    a.start(nodeA("", ""));
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(503);
    }
    // mtls: false with a node: plaintext too
    ProxyFixture a2 = fixture(identity(pki.client("web", WEB)));
    a2.start(nodeA(", node: node-b", "    mtls: false\n"));
    try (RawHttpClient c = new RawHttpClient(a2.address("out"))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(503);
    }
    // originateMtls off (the default): plaintext even to mesh endpoints
    ProxyFixture a3 = fixture(identity(pki.client("web", WEB)));
    a3.start(nodeA(", node: node-b", "").replace("originateMtls: true", "originateMtls: false"));
    try (RawHttpClient c = new RawHttpClient(a3.address("out"))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(503);
    }
    assertThat(backend.requests.get()).isZero();
    // a mesh endpoint with no SVIDs to present: the config is refused, naming the cluster
    ProxyFixture bare = fixture(null);
    assertThatThrownBy(() -> bare.start(nodeA(", node: node-b", "")))
        .hasMessageContaining("cluster mesh: mtls to endpoints on mesh nodes needs the node's SVIDs");
  }
}
