package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import dev.lattice.dataplane.identity.FileIdentitySource;
import java.io.IOException;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Inbound mesh mTLS by PeerAuthentication (STRICT, PERMISSIVE, DISABLE) with the node's SVID from a
 * file-backed identity source: the peer's SPIFFE ID verified against the bundle goes to authorization and
 * to the workload as Envoy's {@code x-forwarded-client-cert}; real TLS on loopback.
 */
class MeshMtlsTest {
  @TempDir
  Path dir;
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;
  private TestPki pki;
  private TestPki.Issued nodeSvid;
  private FileIdentitySource identity;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
    if (identity != null) {
      identity.close();
    }
  }

  private InetSocketAddress start(String mode, String extraListenerLines, String extraYaml) throws Exception {
    pki = new TestPki(dir, "lattice-local");
    nodeSvid = pki.client("node-b", "spiffe://lattice.local/lattice/node/node-b");
    Path chain = dir.resolve("svid.pem");
    Path key = dir.resolve("svid-key.pem");
    Files.copy(nodeSvid.certFile(), chain, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(nodeSvid.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
    identity = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(chain, key)), Map.of("lattice.local", pki.caFile));
    fx.identity = identity;
    backend = new EchoBackend(fx.vertx, "b1");
    String yaml = ProxyFixture.singleRoute(backend.port(), "")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n" + extraListenerLines)
        + "peerAuthentication:\n  - {name: pa, mode: " + mode + "}\n" + extraYaml;
    fx.start(yaml, List.of(new AuthorizationFilterFactory()));
    return fx.address("in");
  }

  private static String xfcc(RawHttpClient.Response r) {
    return r.body().lines().filter(l -> l.startsWith("x-forwarded-client-cert: ")).findFirst()
        .map(l -> l.substring("x-forwarded-client-cert: ".length())).orElse(null);
  }

  @Test
  void strictServesMtlsPeersWithTheirIdentityAndRefusesPlaintext() throws Exception {
    InetSocketAddress proxy = start("STRICT", "", "");
    TestPki.Issued web = pki.client("web", "spiffe://lattice.local/ns/default/sa/web");
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(web))) {
      c.send("GET /x HTTP/1.1\r\nHost: echo.default\r\nx-forwarded-client-cert: URI=spiffe://lattice.local/ns/x/sa/forged\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      String hash = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(web.cert().getEncoded()));
      assertThat(xfcc(r)).isEqualTo("By=spiffe://lattice.local/lattice/node/node-b;Hash=" + hash
          + ";URI=spiffe://lattice.local/ns/default/sa/web");
      assertThat(r.body()).contains("x-forwarded-proto: https\n").doesNotContain("forged");
      // the node presented its SVID
      X509Certificate served = (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
      assertThat(served.getSerialNumber()).isEqualTo(nodeSvid.cert().getSerialNumber());
    }
    try (RawHttpClient plain = new RawHttpClient(proxy)) {
      plain.send("GET /x HTTP/1.1\r\nHost: echo.default\r\n\r\n");
      assertThat(plain.closedByPeer()).isTrue();
    }
    // no client certificate, or one from a CA outside the bundle: refused
    TestPki foreign = new TestPki(dir, "foreign");
    TestPki.Issued intruder = foreign.client("intruder", "spiffe://lattice.local/ns/default/sa/web");
    for (javax.net.ssl.SSLContext ctx : List.of(pki.clientContext(null), trustingServer(foreign, intruder))) {
      assertThatThrownBy(() -> {
        try (RawHttpClient c = RawHttpClient.tls(proxy, ctx)) {
          c.get("/x", "echo.default");
        }
      }).isInstanceOf(IOException.class);
    }
    assertThat(backend.requests.get()).isEqualTo(1);
  }

  /** A client that presents {@code identity} (issued by {@code other}) and trusts the proxy's CA. */
  private javax.net.ssl.SSLContext trustingServer(TestPki other, TestPki.Issued identity) throws Exception {
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("me", identity.key(), new char[0], new X509Certificate[] {identity.cert(), other.ca});
    javax.net.ssl.KeyManagerFactory kmf = javax.net.ssl.KeyManagerFactory.getInstance(javax.net.ssl.KeyManagerFactory.getDefaultAlgorithm());
    kmf.init(ks, new char[0]);
    java.security.KeyStore trust = java.security.KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", pki.ca);
    javax.net.ssl.TrustManagerFactory tmf = javax.net.ssl.TrustManagerFactory.getInstance(javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    javax.net.ssl.SSLContext ctx = javax.net.ssl.SSLContext.getInstance("TLS");
    ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
    return ctx;
  }

  @Test
  void aListenerInFrontOfAWorkloadServesTheNodesSvidWhenTheSourceHoldsOnlyThat() throws Exception {
    // the compiler's inbound cluster endpoint names the workload's SPIFFE ID; file mode holds only the node's SVID
    pki = null;
    InetSocketAddress proxy = startWithEndpointIdentity("spiffe://lattice.local/ns/default/sa/echo");
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(pki.client("web", "spiffe://lattice.local/ns/default/sa/web")))) {
      X509Certificate served = (X509Certificate) ((SSLSocket) c.socket()).getSession().getPeerCertificates()[0];
      assertThat(served.getSerialNumber()).isEqualTo(nodeSvid.cert().getSerialNumber());
      assertThat(xfcc(c.get("/w", "echo.default"))).startsWith("By=spiffe://lattice.local/lattice/node/node-b;");
    }
  }

  @Test
  void aListenerInFrontOfAWorkloadNeverPresentsAnotherWorkloadsSvid() throws Exception {
    // the only SVID held is a workload's (not the node's): a listener in front of another workload refuses
    pki = new TestPki(dir, "lattice-local");
    nodeSvid = pki.client("api", "spiffe://lattice.local/ns/default/sa/api");
    InetSocketAddress proxy = startWithEndpointIdentity("spiffe://lattice.local/ns/default/sa/echo");
    assertThatThrownBy(() -> {
      try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(pki.client("web", "spiffe://lattice.local/ns/default/sa/web")))) {
        c.get("/w", "echo.default");
      }
    }).isInstanceOf(IOException.class);
    assertThat(backend.requests.get()).isZero();
  }

  /** STRICT on {@code in}, whose cluster's endpoint names {@code spiffeId}; the source holds {@link #nodeSvid} (made here if null). */
  private InetSocketAddress startWithEndpointIdentity(String spiffeId) throws Exception {
    if (pki == null) {
      pki = new TestPki(dir, "lattice-local");
      nodeSvid = pki.client("node-b", "spiffe://lattice.local/lattice/node/node-b");
    }
    identity = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(nodeSvid.certFile(), nodeSvid.keyFile())),
        Map.of("lattice.local", pki.caFile));
    fx.identity = identity;
    backend = new EchoBackend(fx.vertx, "b1");
    String yaml = ProxyFixture.singleRoute(backend.port(), "")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n")
        .replace("port: " + backend.port() + ", health: HEALTHY}", "port: " + backend.port() + ", spiffeId: \"" + spiffeId + "\", health: HEALTHY}")
        + "peerAuthentication:\n  - {name: pa, mode: STRICT}\n";
    fx.start(yaml);
    return fx.address("in");
  }

  @Test
  void permissiveAcceptsPlaintextWithoutAnIdentityAndMtlsWithOne() throws Exception {
    InetSocketAddress proxy = start("PERMISSIVE", "", "");
    try (RawHttpClient plain = new RawHttpClient(proxy)) {
      plain.send("GET /p HTTP/1.1\r\nHost: echo.default\r\nx-forwarded-client-cert: URI=spiffe://lattice.local/ns/x/sa/forged\r\n\r\n");
      RawHttpClient.Response r = plain.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(xfcc(r)).isNull(); // a plaintext caller's claim is stripped
      assertThat(r.body()).contains("x-forwarded-proto: http\n");
    }
    TestPki.Issued web = pki.client("web", "spiffe://lattice.local/ns/default/sa/web");
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(web))) {
      assertThat(xfcc(c.get("/m", "echo.default"))).endsWith(";URI=spiffe://lattice.local/ns/default/sa/web");
    }
  }

  @Test
  void disableServesPlaintextOnlyAndAuthorizationSeesTheMtlsPrincipal() throws Exception {
    InetSocketAddress proxy = start("DISABLE", "", "");
    try (RawHttpClient plain = new RawHttpClient(proxy)) {
      assertThat(plain.get("/d", "echo.default").status()).isEqualTo(200);
    }
    // STRICT with a policy on principals: the verified SPIFFE ID decides
    ProxyFixture again = new ProxyFixture();
    try {
      again.identity = identity;
      EchoBackend b2 = new EchoBackend(again.vertx, "b2");
      String yaml = ProxyFixture.singleRoute(b2.port(), "")
          .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n    authorization: az\n")
          + "peerAuthentication:\n  - {name: pa, mode: STRICT}\n"
          + "authorization:\n  - name: az\n    policies:\n"
          + "      - {namespace: default, name: allow-web, action: ALLOW, rules: [{from: [{source: {principals: [\"lattice.local/ns/default/sa/web\"]}}]}]}\n";
      again.start(yaml, List.of(new AuthorizationFilterFactory()));
      InetSocketAddress p = again.address("in");
      try (RawHttpClient c = RawHttpClient.tls(p, pki.clientContext(pki.client("web2", "spiffe://lattice.local/ns/default/sa/web")))) {
        assertThat(c.get("/a", "echo.default").status()).isEqualTo(200);
      }
      try (RawHttpClient c = RawHttpClient.tls(p, pki.clientContext(pki.client("db", "spiffe://lattice.local/ns/default/sa/db")))) {
        assertThat(c.get("/a", "echo.default").status()).isEqualTo(403);
      }
      b2.close();
    } finally {
      again.close();
    }
  }

  @Test
  void rotationServesTheNewSvidToNewHandshakesWithoutBreakingOpenConnections() throws Exception {
    InetSocketAddress proxy = start("STRICT", "", "");
    TestPki.Issued web = pki.client("web", "spiffe://lattice.local/ns/default/sa/web");
    try (RawHttpClient open = RawHttpClient.tls(proxy, pki.clientContext(web))) {
      assertThat(open.get("/1", "echo.default").status()).isEqualTo(200);
      TestPki.Issued rotated = pki.client("node-b-2", "spiffe://lattice.local/lattice/node/node-b");
      Files.copy(rotated.certFile(), dir.resolve("svid.pem"), StandardCopyOption.REPLACE_EXISTING);
      Files.copy(rotated.keyFile(), dir.resolve("svid-key.pem"), StandardCopyOption.REPLACE_EXISTING);
      identity.reload();
      try (RawHttpClient fresh = RawHttpClient.tls(proxy, pki.clientContext(web))) {
        BigInteger serial = ((X509Certificate) ((SSLSocket) fresh.socket()).getSession().getPeerCertificates()[0]).getSerialNumber();
        assertThat(serial).isEqualTo(rotated.cert().getSerialNumber());
        assertThat(fresh.get("/2", "echo.default").status()).isEqualTo(200);
      }
      assertThat(open.get("/3", "echo.default").status()).isEqualTo(200); // established before the rotation
    }
  }

  @Test
  void strictWithoutAnIdentitySourceIsRefusedNamingTheListener() {
    ProxyFixture bare = new ProxyFixture();
    try {
      String yaml = ProxyFixture.singleRoute(ProxyFixture.closedPort(), "")
          .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n")
          + "peerAuthentication:\n  - {name: pa, mode: STRICT}\n";
      assertThatThrownBy(() -> bare.start(yaml)).hasMessageContaining("listener in: peerAuthentication pa is STRICT");
    } finally {
      try {
        bare.close();
      } catch (Exception ignored) {
        // best effort
      }
    }
  }
}
