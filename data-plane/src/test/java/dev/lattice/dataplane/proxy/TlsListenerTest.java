package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.authz.Decision;
import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import io.netty.handler.ssl.OpenSsl;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.List;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** TLS termination on a listener (SIMPLE and MUTUAL), BoringSSL and the JDK engine, on real sockets. */
class TlsListenerTest {
  @TempDir
  Path dir;
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;
  private TestPki pki;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  /** Listener {@code in} (inbound) terminates TLS with {@code tls}; {@code extra} is appended to the YAML. */
  private InetSocketAddress start(String settings, String tls, String extra) throws Exception {
    if (backend == null) {
      backend = new EchoBackend(fx.vertx, "b1");
    }
    String yaml = ProxyFixture.singleRoute(backend.port(), settings)
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    tls: " + tls + "\n") + extra;
    fx.start(yaml, List.of(new AuthorizationFilterFactory()));
    return fx.address("in");
  }

  private String simple(TestPki.Issued server) {
    return "{mode: SIMPLE, serverCertificate: '" + server.certFile() + "', privateKey: '" + server.keyFile() + "', alpnProtocols: [http/1.1]}";
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"openssl", "jdk"})
  void terminatesTlsAndForwardsPlaintextWithForwardedProtoHttps(String engine) throws Exception {
    assertThat(OpenSsl.isAvailable()).as("BoringSSL loads on this platform").isTrue();
    pki = new TestPki(dir, "test");
    InetSocketAddress proxy = start(", tlsEngine: " + engine, simple(pki.server("proxy")), "");
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(null))) {
      for (int i = 0; i < 3; i++) { // keep-alive over one TLS connection
        RawHttpClient.Response r = c.get("/hello", "echo.default");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("GET /hello\n").contains("x-forwarded-proto: https\n");
      }
      assertThat(((SSLSocket) c.socket()).getSession().getProtocol()).isIn("TLSv1.3", "TLSv1.2");
    }
    assertThat(backend.connections.get()).isEqualTo(1);
    // the plaintext listener of the same config is untouched
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/plain", "echo.default").body()).contains("x-forwarded-proto: http\n");
    }
  }

  @Test
  void mutualTlsRequiresAClientCertificateAndHandsItsSpiffeIdToAuthorization() throws Exception {
    pki = new TestPki(dir, "test");
    TestPki.Issued server = pki.server("proxy");
    String mutual = "{mode: MUTUAL, serverCertificate: '" + server.certFile() + "', privateKey: '" + server.keyFile()
        + "', caCertificates: '" + pki.caFile + "'}";
    InetSocketAddress proxy = start("", mutual + "\n    authorization: only-web", """
        authorization:
          - name: only-web
            policies:
              - {namespace: default, name: allow-web, action: ALLOW, rules: [{from: [{source: {principals: ["lattice.local/ns/default/sa/web"]}}]}]}
        """);
    TestPki.Issued web = pki.client("web", "spiffe://lattice.local/ns/default/sa/web");
    TestPki.Issued other = pki.client("other", "spiffe://lattice.local/ns/default/sa/other");
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(web))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(200);
    }
    try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(other))) {
      assertThat(c.get("/x", "echo.default").status()).isEqualTo(403);
    }
    fx.nextCompleted();
    ProxyFixture.Seen denied = fx.nextCompleted();
    assertThat(((Decision) denied.decision()).allowed()).isFalse();
    // no client certificate: the handshake fails (TLS 1.3 reports it on the first read)
    assertThatThrownBy(() -> {
      try (RawHttpClient c = RawHttpClient.tls(proxy, pki.clientContext(null))) {
        c.get("/x", "echo.default");
      }
    }).isInstanceOf(IOException.class);
    await(() -> fx.server.tlsHandshakeFailures() >= 1);
    assertThat(backend.requests.get()).isEqualTo(1);
  }

  @Test
  void plaintextGarbageAndATruncatedClientHelloCloseOnlyTheirConnection() throws Exception {
    pki = new TestPki(dir, "test");
    // 2 s, not less: the healthy client's own handshake must finish within it on a loaded machine (it flaked at 300 ms)
    InetSocketAddress proxy = start(", headersTimeout: 2s", simple(pki.server("proxy")), "");
    try (RawHttpClient ok = RawHttpClient.tls(proxy, pki.clientContext(null))) {
      assertThat(ok.get("/before", "echo.default").status()).isEqualTo(200);
      try (RawHttpClient plain = new RawHttpClient(proxy)) {
        plain.send("GET / HTTP/1.1\r\nHost: echo.default\r\n\r\n");
        assertThat(plain.closedByPeer()).isTrue();
      }
      try (Socket s = new Socket()) {
        s.connect(proxy, 5000);
        s.setSoTimeout(10_000);
        OutputStream out = s.getOutputStream();
        // a TLS 1.2 record header announcing a 512-byte ClientHello, then only its first bytes, then silence
        out.write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03});
        out.flush();
        assertThat(s.getInputStream().read()).isEqualTo(-1); // closed by the handshake timeout (headersTimeout)
      }
      assertThat(ok.get("/after", "echo.default").status()).isEqualTo(200);
    }
    await(() -> fx.server.tlsHandshakeFailures() >= 2);
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void aListenerWhoseCertificateCannotBeReadIsRefusedNamingIt() throws Exception {
    pki = new TestPki(dir, "test");
    TestPki.Issued server = pki.server("proxy");
    assertThatThrownBy(() -> start("", "{mode: SIMPLE, serverCertificate: '" + dir.resolve("missing.pem") + "', privateKey: '"
        + server.keyFile() + "'}", ""))
        .hasMessageContaining("listener in: tls.serverCertificate").hasMessageContaining("missing.pem");
    assertThatThrownBy(() -> start("", "{mode: MUTUAL, serverCertificate: '" + server.certFile() + "', privateKey: '"
        + server.keyFile() + "'}", ""))
        .hasMessageContaining("listener in: tls.caCertificates: missing");
    assertThatThrownBy(() -> start("", "{mode: SIMPLE, serverCertificate: '" + server.keyFile() + "', privateKey: '"
        + server.certFile() + "'}", ""))
        .hasMessageContaining("listener in: tls: cannot load");
  }

  private static void await(java.util.function.BooleanSupplier condition) {
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(condition::getAsBoolean);
  }
}
