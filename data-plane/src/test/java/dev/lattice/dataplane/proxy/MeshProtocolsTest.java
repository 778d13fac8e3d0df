package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import dev.lattice.dataplane.identity.FileIdentitySource;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Protocols across the mesh hop on real sockets: client → node A's outbound listener → mTLS (A presents the source
 * workload's SVID) → node B's STRICT inbound listener with authorization → the workload. The workload sees the caller's
 * SPIFFE ID (Envoy's {@code x-forwarded-client-cert}); a caller the policy does not allow is refused.
 */
class MeshProtocolsTest {
  static final String NODE_B = "spiffe://lattice.local/lattice/node/node-b";
  static final String WEB = "spiffe://lattice.local/ns/default/sa/web";

  @TempDir
  Path dir;
  private TestPki pki;
  private final List<AutoCloseable> open = new ArrayList<>();
  private ProxyFixture b;
  private HttpServer workload;
  private InetSocketAddress nodeB;
  private InetSocketAddress nodeBTcp;
  private io.vertx.core.net.NetServer tcpWorkload;
  private HttpServer grpcWorkload;
  private InetSocketAddress nodeBGrpc;
  private final java.util.concurrent.atomic.AtomicInteger tcpConnections = new java.util.concurrent.atomic.AtomicInteger();

  @BeforeEach
  void nodeB() throws Exception {
    pki = new TestPki(dir, "lattice-local");
    b = fixture(identity(pki.client("node-b", NODE_B)));
    // the workload: WebSocket echo that first tells who called, and plain HTTP that echoes its Upgrade/XFCC headers
    workload = b.vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0).setMaxWebSocketFrameSize(1 << 20)
            .setMaxWebSocketMessageSize(1 << 20))
        .webSocketHandler(ws -> {
          ws.writeTextMessage("caller=" + ws.headers().get("x-forwarded-client-cert") + " path=" + ws.path());
          ws.textMessageHandler(ws::writeTextMessage);
          ws.binaryMessageHandler(ws::writeBinaryMessage);
        })
        .requestHandler(req -> req.response().end("upgrade=" + req.getHeader("upgrade") + " xfcc=" + req.getHeader("x-forwarded-client-cert")));
    workload.listen().await(10, TimeUnit.SECONDS);
    // a raw TCP workload that speaks first, then echoes
    tcpWorkload = b.vertx.createNetServer().connectHandler(so -> {
      tcpConnections.incrementAndGet();
      so.write("hello\n");
      so.handler(so::write);
    });
    tcpWorkload.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    // a gRPC-shaped h2c workload: server streaming (three messages, flushed one by one), then trailers with grpc-status
    grpcWorkload = b.vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0))
        .requestHandler(req -> {
          io.vertx.core.http.HttpServerResponse r = req.response().setChunked(true).putHeader("content-type", "application/grpc");
          r.write("m1;").compose(v -> r.write("m2;")).compose(v -> r.write("m3;")).onSuccess(v -> {
            r.putTrailer("grpc-status", "0").putTrailer("grpc-message", "ok " + req.version());
            r.end();
          });
        });
    grpcWorkload.listen().await(10, TimeUnit.SECONDS);
    String yaml = """
        settings: {node: node-b}
        listeners:
          - {name: in, port: 0, direction: INBOUND, protocol: HTTP, routeConfig: r1, peerAuthentication: pa, authorization: az}
          - {name: in-tcp, port: 0, direction: INBOUND, protocol: TCP, tcpClusters: [{cluster: db}], peerAuthentication: pa, authorization: az}
          - {name: in-grpc, port: 0, direction: INBOUND, protocol: TCP, tcpClusters: [{cluster: grpc}], peerAuthentication: pa, authorization: az}
        routes:
          - name: r1
            virtualHosts:
              - {name: chat, domains: ["chat.default", "chat.default:8080"], routes: [{name: default/chat, clusters: [{cluster: chat}]}]}
        clusters:
          - {name: chat, host: chat.default, port: 8080, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: db, host: db.default, port: 5432, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: grpc, host: grpc.default, port: 9090, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
        peerAuthentication:
          - {name: pa, mode: STRICT}
        authorization:
          - name: az
            policies:
              - {namespace: default, name: allow-web, action: ALLOW, rules: [{from: [{source: {principals: ["lattice.local/ns/default/sa/web"]}}]}]}
        """.formatted(workload.actualPort(), tcpWorkload.actualPort(), grpcWorkload.actualPort());
    b.start(yaml, List.of(new AuthorizationFilterFactory()));
    nodeB = b.address("in");
    nodeBTcp = b.address("in-tcp");
    nodeBGrpc = b.address("in-grpc");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (workload != null) {
      workload.close().await(10, TimeUnit.SECONDS);
    }
    if (grpcWorkload != null) {
      grpcWorkload.close().await(10, TimeUnit.SECONDS);
    }
    if (tcpWorkload != null) {
      tcpWorkload.close().await(10, TimeUnit.SECONDS);
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

  /** Node A for the source workload {@code source}: outbound listener {@code out}, cluster {@code mesh} over mTLS to B. */
  private ProxyFixture nodeA(String source) throws Exception {
    ProxyFixture a = fixture(identity(pki.client("src", source)));
    a.start("""
        settings: {node: node-a, originateMtls: true}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
          - {name: out-tcp, port: 0, direction: OUTBOUND, protocol: TCP, tcpClusters: [{cluster: mesh-db}]}
          - {name: out-grpc, port: 0, direction: OUTBOUND, protocol: TCP, tcpClusters: [{cluster: mesh-grpc}]}
        routes:
          - name: r1
            virtualHosts:
              - {name: chat, domains: ["chat.default", "chat.default:8080"], routes: [{name: default/chat, clusters: [{cluster: mesh}]}]}
        clusters:
          - name: mesh
            host: chat.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, node: node-b, spiffeId: '%s', health: HEALTHY}]
          - name: mesh-db
            host: db.default
            port: 5432
            endpoints: [{address: 127.0.0.1, port: %d, node: node-b, spiffeId: '%s', health: HEALTHY}]
          - name: mesh-grpc
            host: grpc.default
            port: 9090
            endpoints: [{address: 127.0.0.1, port: %d, node: node-b, spiffeId: '%s', health: HEALTHY}]
        """.formatted(nodeB.getPort(), NODE_B, nodeBTcp.getPort(), NODE_B, nodeBGrpc.getPort(), NODE_B));
    return a;
  }

  private static WebSocket connect(ProxyFixture fx, InetSocketAddress proxy, String path) throws Exception {
    WebSocketClient client = fx.vertx.createWebSocketClient(new io.vertx.core.http.WebSocketClientOptions()
        .setMaxFrameSize(1 << 20).setMaxMessageSize(1 << 20));
    return client.connect(new WebSocketConnectOptions().setHost(proxy.getHostString()).setPort(proxy.getPort()).setURI(path)
        .addHeader("host", "chat.default")).await(10, TimeUnit.SECONDS);
  }

  @Test
  void webSocketUpgradePassesThroughTheMtlsHopAndTheWorkloadSeesTheCallersSpiffeId() throws Exception {
    ProxyFixture a = nodeA(WEB);
    WebSocket ws = connect(a, a.address("out"), "/chat?room=1");
    LinkedBlockingQueue<String> text = new LinkedBlockingQueue<>();
    LinkedBlockingQueue<Buffer> binary = new LinkedBlockingQueue<>();
    ws.textMessageHandler(text::add);
    ws.binaryMessageHandler(binary::add);
    String hello = text.poll(10, TimeUnit.SECONDS);
    assertThat(hello).startsWith("caller=By=" + NODE_B + ";Hash=").endsWith(";URI=" + WEB + " path=/chat");
    for (int i = 0; i < 3; i++) {
      ws.writeTextMessage("ping-" + i);
      assertThat(text.poll(10, TimeUnit.SECONDS)).isEqualTo("ping-" + i);
    }
    // a message larger than the relays' socket buffers and write marks comes back whole
    byte[] big = new byte[512 * 1024];
    for (int i = 0; i < big.length; i++) {
      big[i] = (byte) (i * 31);
    }
    ws.writeBinaryMessage(Buffer.buffer(big));
    Buffer back = binary.poll(10, TimeUnit.SECONDS);
    assertThat(back).isNotNull();
    assertThat(Arrays.equals(back.getBytes(), big)).isTrue();
    ws.close().await(10, TimeUnit.SECONDS);
    // one exchange per WebSocket on each node: GET, 101, its bytes
    for (ProxyFixture node : List.of(a, b)) {
      ProxyFixture.Seen seen = node.nextCompleted();
      assertThat(seen.method()).isEqualTo("GET");
      assertThat(seen.status()).isEqualTo(101);
      assertThat(seen.path()).isEqualTo("/chat");
      assertThat(seen.bytesIn()).isGreaterThan(big.length);
      assertThat(seen.bytesOut()).isGreaterThan(big.length);
    }
    // the upgraded mTLS connection left A's pool: a later request opens a new one, and plain requests still work
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      RawHttpClient.Response r = c.get("/plain", "chat.default");
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("upgrade=null xfcc=By=" + NODE_B);
    }
  }

  @Test
  void aWebSocketFromACallerThePolicyDeniesIsRefusedWith403AndOtherUpgradesAreNotPassed() throws Exception {
    ProxyFixture denied = nodeA("spiffe://lattice.local/ns/default/sa/db");
    assertThatThrownBy(() -> connect(denied, denied.address("out"), "/chat"))
        .isInstanceOfSatisfying(UpgradeRejectedException.class, e -> assertThat(e.getStatus()).isEqualTo(403));
    ProxyFixture a = nodeA(WEB);
    // Upgrade: h2c (or anything but websocket) is hop-by-hop: removed, the request is served as HTTP/1.1
    try (RawHttpClient c = new RawHttpClient(a.address("out"))) {
      c.send("GET /u HTTP/1.1\r\nHost: chat.default\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("upgrade=null xfcc=By=");
    }
  }

  @Test
  void rawTcpCrossesTheMtlsHopAuthorizedOnTheCallersSpiffeIdAndADeniedCallerIsClosed() throws Exception {
    ProxyFixture a = nodeA(WEB);
    byte[] payload = new byte[1 << 20];
    new java.util.Random(7).nextBytes(payload);
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(a.address("out-tcp"), 5000);
      s.setSoTimeout(10_000);
      java.io.InputStream in = s.getInputStream();
      assertThat(new String(in.readNBytes(6), java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("hello\n"); // the server spoke first
      // write and read concurrently: 1 MiB is more than the socket buffers along the way hold
      java.util.concurrent.CompletableFuture<byte[]> echoed = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return in.readNBytes(payload.length);
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      s.getOutputStream().write(payload);
      s.getOutputStream().flush();
      assertThat(Arrays.equals(echoed.get(10, TimeUnit.SECONDS), payload)).isTrue();
    }
    // one exchange per connection on each node; B authorized it on A's source workload identity
    ProxyFixture.Seen atA = a.nextCompleted();
    ProxyFixture.Seen atB = b.nextCompleted();
    for (ProxyFixture.Seen seen : List.of(atA, atB)) {
      assertThat(seen.method()).isNull();
      assertThat(seen.status()).isZero();
      assertThat(seen.bytesIn()).isEqualTo(payload.length);
      assertThat(seen.bytesOut()).isEqualTo(payload.length + 6);
    }
    assertThat(atA.listener()).isEqualTo("out-tcp");
    assertThat(atA.cluster()).isEqualTo("mesh-db");
    assertThat(atB.listener()).isEqualTo("in-tcp");
    assertThat(atB.flags()).isEmpty();
    assertThat(((dev.lattice.authz.Decision) atB.decision()).allowed()).isTrue();
    assertThat(tcpConnections.get()).isEqualTo(1);

    // a source the policy does not allow: B closes the connection before the workload is dialled
    ProxyFixture denied = nodeA("spiffe://lattice.local/ns/default/sa/db");
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(denied.address("out-tcp"), 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write("SELECT 1".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    ProxyFixture.Seen deniedAtB = b.nextCompleted();
    assertThat(deniedAtB.flags()).isEqualTo("RBAC");
    assertThat(((dev.lattice.authz.Decision) deniedAtB.decision()).allowed()).isFalse();
    assertThat(tcpConnections.get()).isEqualTo(1);
    // a plaintext caller on B's STRICT TCP listener is refused
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(nodeBTcp, 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write("hi\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      assertThat(s.getInputStream().read()).isEqualTo(-1);
    }
    assertThat(tcpConnections.get()).isEqualTo(1);
  }

  @Test
  void h2cServerStreamingWithTrailersCrossesTheMtlsHopThroughTcpListeners() throws Exception {
    // L4 only: the TCP listeners relay HTTP/2 frames untouched (no L7 h2 in the proxy yet); B authorizes the connection
    ProxyFixture a = nodeA(WEB);
    InetSocketAddress out = a.address("out-grpc");
    io.vertx.core.http.HttpClient client = a.vertx.createHttpClient(new io.vertx.core.http.HttpClientOptions()
        .setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false));
    try {
      for (int call = 0; call < 2; call++) { // two streams on one h2 connection
        io.vertx.core.http.HttpClientResponse[] resp = new io.vertx.core.http.HttpClientResponse[1];
        // the body is asked for on the event loop as the response arrives (later, its first DATA frame would be gone)
        Buffer body = client.request(io.vertx.core.http.HttpMethod.POST, out.getPort(), out.getHostString(), "/lattice.Echo/Stream")
            .compose(req -> req.putHeader("content-type", "application/grpc").send(Buffer.buffer("req")))
            .compose(x -> {
              resp[0] = x;
              return x.body();
            }).await(10, TimeUnit.SECONDS);
        io.vertx.core.http.HttpClientResponse r = resp[0];
        assertThat(r.version()).isEqualTo(io.vertx.core.http.HttpVersion.HTTP_2);
        assertThat(body.toString()).isEqualTo("m1;m2;m3;");
        assertThat(r.trailers().get("grpc-status")).isEqualTo("0");
        assertThat(r.trailers().get("grpc-message")).isEqualTo("ok HTTP_2");
      }
    } finally {
      client.close().await(10, TimeUnit.SECONDS);
    }
    ProxyFixture.Seen atB = b.nextCompleted();
    assertThat(atB.listener()).isEqualTo("in-grpc");
    assertThat(((dev.lattice.authz.Decision) atB.decision()).allowed()).isTrue();
    assertThat(a.nextCompleted().listener()).isEqualTo("out-grpc");
  }
}
