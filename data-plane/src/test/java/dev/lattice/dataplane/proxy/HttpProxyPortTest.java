package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The explicit HTTP proxy port ({@code settings.httpProxyPort}), what {@code HTTP_PROXY}/{@code HTTPS_PROXY} point at:
 * absolute-form requests routed over every outbound route table, and {@code CONNECT} tunnels — real clients (the JDK's
 * HttpClient with a proxy, plain and HTTPS end to end through the tunnel) and raw sockets, real backends.
 */
class HttpProxyPortTest {
  @TempDir
  Path dir;
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend echo;
  private EchoBackend other;
  private HttpServer tls;

  @AfterEach
  void tearDown() throws Exception {
    for (EchoBackend b : new EchoBackend[] {echo, other}) {
      if (b != null) {
        b.close();
      }
    }
    if (tls != null) {
      tls.close().await(10, TimeUnit.SECONDS);
    }
    fx.close();
  }

  /** Two outbound listeners (echo.default:8080, other.default:9090), a TLS service on localhost, the proxy port. */
  private InetSocketAddress start(int tlsPort) throws Exception {
    return start(tlsPort, "");
  }

  private InetSocketAddress start(int tlsPort, String settings) throws Exception {
    echo = new EchoBackend(fx.vertx, "echo");
    other = new EchoBackend(fx.vertx, "other");
    String yaml = """
        settings: {node: node-a, httpProxyPort: 0%s}
        listeners:
          - {name: out-echo, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r-echo}
          - {name: out-other, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r-other}
        routes:
          - name: r-echo
            virtualHosts:
              - {name: echo, domains: ["echo.default", "echo.default:8080"], routes: [{name: echo, clusters: [{cluster: echo}]}]}
              - {name: tls, domains: ["localhost:%d"], routes: [{name: tls, clusters: [{cluster: tls}]}]}
              - {name: dead, domains: ["dead.default:80"], routes: [{name: dead, clusters: [{cluster: dead}]}]}
          - name: r-other
            virtualHosts:
              - {name: other, domains: ["other.default", "other.default:9090", "*.wild"], routes: [{name: other, clusters: [{cluster: other}]}]}
        clusters:
          - {name: echo, host: echo.default, port: 8080, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: other, host: other.default, port: 9090, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: tls, host: localhost, port: %d, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: dead, host: dead.default, port: 80, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
        """.formatted(settings, tlsPort, echo.port(), other.port(), tlsPort, tlsPort, ProxyFixture.closedPort());
    fx.start(yaml);
    return fx.address("http-proxy");
  }

  @Test
  void absoluteFormRequestsAreRoutedOverEveryOutboundRouteTable() throws Exception {
    InetSocketAddress proxy = start(ProxyFixture.closedPort());
    assertThat(proxy.getAddress().getHostAddress()).isEqualTo("127.0.0.1");
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("GET http://echo.default:8080/a?x=1 HTTP/1.1\r\nHost: ignored.example\r\nProxy-Connection: keep-alive\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("GET /a?x=1\n").contains("host: echo.default:8080\n").doesNotContain("proxy-connection");
      assertThat(fx.nextCompleted().listener()).isEqualTo("http-proxy");
      // the same connection, another listener's route table
      c.send("GET http://other.default:9090/b HTTP/1.1\r\nHost: other.default:9090\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /b\n");
      c.send("GET http://nowhere.example/ HTTP/1.1\r\nHost: nowhere.example\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(404);
    }
    assertThat(other.requests.get()).isEqualTo(1);
    // a real HTTP_PROXY client
    HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy)).connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("http://echo.default:8080/jdk")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).startsWith("GET /jdk\n").contains("via: 1.1 node-a");
  }

  @Test
  void connectTunnelsRawBytesToTheRoutedEndpointAndRecordsTheTunnel() throws Exception {
    InetSocketAddress proxy = start(ProxyFixture.closedPort());
    fx.completed.clear();
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("CONNECT echo.default:8080 HTTP/1.1\r\nHost: echo.default:8080\r\n\r\n");
      RawHttpClient.Response established = c.read(true);
      assertThat(established.status()).isEqualTo(200);
      assertThat(established.headers()).isEmpty();
      // the tunnel carries bytes as they are: this request reaches the backend without the proxy's HTTP handling
      c.send("GET /through HTTP/1.1\r\nHost: inside\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.body()).startsWith("GET /through\n").contains("host: inside\n").doesNotContain("via:").doesNotContain("x-request-id");
      c.send("GET /again HTTP/1.1\r\nHost: inside\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /again\n");
    }
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(seen.method()).isEqualTo("CONNECT");
    assertThat(seen.authority()).isEqualTo("echo.default:8080");
    assertThat(seen.status()).isEqualTo(200);
    assertThat(seen.cluster()).isEqualTo("echo");
    assertThat(seen.bytesIn()).isEqualTo(("GET /through HTTP/1.1\r\nHost: inside\r\n\r\n" + "GET /again HTTP/1.1\r\nHost: inside\r\n\r\n")
        .getBytes(StandardCharsets.US_ASCII).length);
    assertThat(seen.bytesOut()).isPositive();
    assertThat(echo.requests.get()).isEqualTo(2);
  }

  @Test
  void anIdleTunnelIsClosedAfterTheIdleTimeout() throws Exception {
    InetSocketAddress proxy = start(ProxyFixture.closedPort(), ", idleTimeout: 300ms");
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("CONNECT echo.default:8080 HTTP/1.1\r\nHost: echo.default:8080\r\n\r\n");
      assertThat(c.read(true).status()).isEqualTo(200);
      long t0 = System.nanoTime();
      assertThat(c.closedByPeer()).isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(5));
    }
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(seen.method()).isEqualTo("CONNECT");
    assertThat(seen.bytesIn()).isZero();
  }

  @Test
  void httpsThroughConnectIsTlsEndToEndWithTheBackend() throws Exception {
    TestPki pki = new TestPki(dir, "backend");
    TestPki.Issued cert = pki.server("backend");
    tls = fx.vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setSsl(true)
            .setKeyCertOptions(new PemKeyCertOptions().setCertPath(cert.certFile().toString()).setKeyPath(cert.keyFile().toString())))
        .requestHandler(req -> req.response().end("secure " + req.path() + " via=" + req.getHeader("via")));
    tls.listen().await(10, TimeUnit.SECONDS);
    InetSocketAddress proxy = start(tls.actualPort());
    HttpClient client = HttpClient.newBuilder().proxy(ProxySelector.of(proxy)).sslContext(pki.clientContext(null))
        .connectTimeout(Duration.ofSeconds(5)).build();
    HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + tls.actualPort() + "/s")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("secure /s via=null"); // the proxy never saw inside the TLS
    // and with a raw socket: the backend's own certificate comes through the tunnel
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("CONNECT localhost:" + tls.actualPort() + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
      assertThat(c.read(true).status()).isEqualTo(200);
      SSLSocket s = (SSLSocket) pki.clientContext(null).getSocketFactory().createSocket(c.socket(), "localhost", tls.actualPort(), true);
      s.startHandshake();
      assertThat(((java.security.cert.X509Certificate) s.getSession().getPeerCertificates()[0]).getSerialNumber())
          .isEqualTo(cert.cert().getSerialNumber());
      s.close();
    }
  }

  @Test
  void connectThatCannotBeRoutedOrReachedIsAnsweredAndTheConnectionStaysUsable() throws Exception {
    InetSocketAddress proxy = start(ProxyFixture.closedPort());
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("CONNECT nowhere.example:443 HTTP/1.1\r\nHost: nowhere.example:443\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(404);
      c.send("CONNECT dead.default:80 HTTP/1.1\r\nHost: dead.default:80\r\n\r\n");
      RawHttpClient.Response dead = c.read();
      assertThat(dead.status()).isEqualTo(503);
      assertThat(dead.body()).contains("connection failure");
      c.send("GET http://echo.default:8080/after HTTP/1.1\r\nHost: echo.default:8080\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /after\n");
      // only a domain naming exactly host:port admits CONNECT: not a port-less one, not a wildcard (plain requests do match them)
      for (String target : new String[] {"echo.default:22", "other.default:8080", "x.wild:9090"}) {
        c.send("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n\r\n");
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).as(target).isEqualTo(404);
        assertThat(r.body()).as(target).contains("no CONNECT route for " + target);
      }
      c.send("GET http://x.wild/w HTTP/1.1\r\nHost: x.wild\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /w\n");
    }
    assertThat(fx.nextCompleted().flags()).isEqualTo("NR");
    assertThat(fx.nextCompleted().flags()).isEqualTo("UF");
    assertThat(echo.requests.get()).isEqualTo(1);
    assertThat(other.requests.get()).isEqualTo(1);
    for (String target : new String[] {"echo.default", "echo.default:x", "echo.default:99999", "echo.default:0", "/path:80", ":80"}) {
      try (RawHttpClient c = new RawHttpClient(proxy)) {
        c.send("CONNECT " + target + " HTTP/1.1\r\nHost: echo.default\r\n\r\n");
        RawHttpClient.Response r = c.read();
        assertThat(r.status()).as(target).isEqualTo(400);
        assertThat(r.body()).as(target).contains("expected: host:port");
      }
    }
    // the proxy port is still up and serving after the malformed ones
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("CONNECT echo.default:8080 HTTP/1.1\r\nHost: echo.default:8080\r\n\r\n");
      assertThat(c.read(true).status()).isEqualTo(200);
      c.send("GET /tunnelled HTTP/1.1\r\nHost: inside\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /tunnelled\n");
    }
    // CONNECT on an ordinary listener stays refused
    try (RawHttpClient c = new RawHttpClient(fx.address("out-echo"))) {
      c.send("CONNECT echo.default:8080 HTTP/1.1\r\nHost: echo.default:8080\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(405);
    }
  }

  @Test
  void theProxyPortIsOffByDefaultAndItsNameIsReserved() throws Exception {
    echo = new EchoBackend(fx.vertx, "echo");
    fx.start(ProxyFixture.singleRoute(echo.port(), ""));
    assertThat(fx.server.listenerAddresses()).doesNotContainKey("http-proxy");
    ProxyFixture clash = new ProxyFixture();
    try {
      String yaml = ProxyFixture.singleRoute(echo.port(), ", httpProxyPort: 0").replace("name: out\n", "name: http-proxy\n");
      assertThatThrownBy(() -> clash.start(yaml)).hasMessageContaining("listener http-proxy: the name is the explicit HTTP proxy port's");
      assertThatThrownBy(() -> clash.start(ProxyFixture.singleRoute(echo.port(), ", httpProxyPort: 70000")))
          .hasMessageContaining("settings.httpProxyPort: 70000");
    } finally {
      clash.close();
    }
  }
}
