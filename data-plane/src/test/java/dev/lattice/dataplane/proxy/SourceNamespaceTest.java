package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.identity.FileIdentitySource;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Istio's {@code HTTPMatchRequest.sourceNamespace} on real sockets: over mTLS the caller's namespace is its
 * verified SPIFFE ID's {@code /ns/<ns>/}; a plaintext local caller's is that of the workload the snapshot knows
 * at its source IP (each local workload binds its own 127.0.0.x), none when that IP is unknown or shared by
 * workloads of two namespaces.
 */
class SourceNamespaceTest {
  @TempDir
  Path dir;
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend v1;
  private EchoBackend v2;
  private TestPki pki;
  private FileIdentitySource identity;

  @BeforeEach
  void start() throws Exception {
    pki = new TestPki(dir, "lattice-local");
    TestPki.Issued node = pki.client("node-a", "spiffe://lattice.local/lattice/node/node-a");
    identity = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(node.certFile(), node.keyFile())),
        Map.of("lattice.local", pki.caFile));
    fx.identity = identity;
    v1 = new EchoBackend(fx.vertx, "v1");
    v2 = new EchoBackend(fx.vertx, "v2");
    fx.start("""
        settings: {node: node-a, originateMtls: false}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
          - {name: in, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r1, peerAuthentication: pa}
        peerAuthentication:
          - {name: pa, mode: STRICT}
        routes:
          - name: r1
            virtualHosts:
              - name: reviews
                domains: ["*"]
                routes:
                  - name: from-shop
                    match: [{sourceNamespace: shop}]
                    clusters: [{cluster: v2}]
                  - name: any
                    clusters: [{cluster: v1}]
        clusters:
          - name: v1
            host: reviews.default
            port: 9080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
          - name: v2
            host: reviews.default
            port: 9080
            mtls: false
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
          - name: callers
            host: callers.default
            port: 8080
            mtls: false
            endpoints:
              - {address: 127.0.0.21, port: 8080, spiffeId: "spiffe://lattice.local/ns/shop/sa/web", health: HEALTHY}
              - {address: 127.0.0.22, port: 8080, spiffeId: "spiffe://lattice.local/ns/other/sa/web", health: HEALTHY}
              - {address: 127.0.0.23, port: 8080, spiffeId: "spiffe://lattice.local/ns/shop/sa/a", health: HEALTHY}
              - {address: 127.0.0.23, port: 8081, spiffeId: "spiffe://lattice.local/ns/other/sa/b", health: HEALTHY}
        """.formatted(v1.port(), v2.port()));
  }

  @AfterEach
  void tearDown() throws Exception {
    v1.close();
    v2.close();
    fx.close();
    identity.close();
  }

  @Test
  void aPlaintextCallerIsJudgedByTheNamespaceOfTheWorkloadAtItsAddress() throws Exception {
    assertThat(plainFrom("127.0.0.21")).isEqualTo("from-shop");
    assertThat(plainFrom("127.0.0.22")).isEqualTo("any");
    assertThat(plainFrom("127.0.0.23")).as("an address shared by two namespaces names none").isEqualTo("any");
    assertThat(plainFrom("127.0.0.24")).as("an address the snapshot does not know").isEqualTo("any");
  }

  @Test
  void anMtlsCallerIsJudgedByItsVerifiedSpiffeIdNotByItsAddress() throws Exception {
    // 127.0.0.22 is known as a workload of "other": the certificate, not the address, decides
    assertThat(mtlsFrom("127.0.0.22", "spiffe://lattice.local/ns/shop/sa/checkout")).isEqualTo("from-shop");
    // 127.0.0.21 is known as a workload of "shop": a peer of another namespace does not inherit it
    assertThat(mtlsFrom("127.0.0.21", "spiffe://lattice.local/ns/other/sa/web")).isEqualTo("any");
    // a SPIFFE ID without /ns/ has no namespace
    assertThat(mtlsFrom("127.0.0.21", "spiffe://lattice.local/lattice/node/node-b")).isEqualTo("any");
  }

  private String plainFrom(String ip) throws Exception {
    try (RawHttpClient c = RawHttpClient.from(InetAddress.getByName(ip), fx.address("out"))) {
      return routed(c, ip);
    }
  }

  private String mtlsFrom(String ip, String spiffeId) throws Exception {
    InetSocketAddress in = fx.address("in");
    try (RawHttpClient c = RawHttpClient.tls(InetAddress.getByName(ip), in, pki.clientContext(pki.client("caller", spiffeId)))) {
      return routed(c, ip + " as " + spiffeId);
    }
  }

  /** The route a GET took, checked against the backend that answered. */
  private String routed(RawHttpClient c, String who) throws Exception {
    RawHttpClient.Response r = c.get("/reviews", "reviews.default");
    assertThat(r.status()).as(who).isEqualTo(200);
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(r.header("x-backend")).as(who).isEqualTo(seen.route().equals("from-shop") ? "v2" : "v1");
    return seen.route();
  }
}
