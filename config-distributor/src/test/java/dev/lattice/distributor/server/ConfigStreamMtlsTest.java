package dev.lattice.distributor.server;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.key;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Node;
import dev.lattice.schemas.config.v1.Resource;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The config stream's mTLS with node SVIDs from a real (test) SPIFFE CA, over real TLS sockets. */
class ConfigStreamMtlsTest {

  private static final String TD = "lattice.local";

  private final TestSpiffeCa ca = TestSpiffeCa.create(TD);
  private Vertx vertx;
  private SnapshotCache cache;
  private ConfigStreamServer server;
  private int port;
  private final java.util.List<GrpcClient> clients = new java.util.ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    cache = new SnapshotCache(Clock.systemUTC());
    put(cluster("node-a", "c1", 8080));
    put(cluster("node-b", "secret-of-b", 8080));
    TestSvid serverSvid = ca.issue(NodeSpiffeIds.distributor(TrustDomain.parse(TD)).toString());
    StreamTls tls = new StreamTls(TrustDomain.parse(TD), new PemKeyCertOptions()
        .addCertValue(Buffer.buffer(serverSvid.certPem())).addKeyValue(Buffer.buffer(serverSvid.keyPem())),
        () -> List.of(ca.root()));
    server = new ConfigStreamServer(vertx, cache, new ConfigStreamServer.Settings("127.0.0.1", 0, Duration.ZERO, "tls-1"),
        tls, StreamObserver.NONE, Clock.systemUTC());
    port = server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void put(ConfigResource r) {
    assertThat(cache.upsert(key(r.getNode(), r.getType(), r.getName()), r)).isEmpty();
  }

  private SvidTrustManager distributorTrust() {
    TrustDomain td = TrustDomain.parse(TD);
    return new SvidTrustManager(() -> List.of(ca.root()), id -> id.equals(NodeSpiffeIds.distributor(td)),
        NodeSpiffeIds.distributor(td).toString());
  }

  private RawConfigStream open(TestSvid svid, String node) throws Exception {
    HttpClientOptions o = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
        .setVerifyHost(false).setTrustOptions(TrustOptions.wrap(distributorTrust()))
        .setKeyCertOptions(KeyCertOptions.wrap(svid.keyManager()));
    GrpcClient client = GrpcClient.client(vertx, o);
    clients.add(client);
    return RawConfigStream.open(client, SocketAddress.inetSocketAddress(port, "127.0.0.1"), node);
  }

  /**
   * A bare JDK TLS handshake to the stream port, then the HTTP/2 preface and a read: true when the server
   * refused the client certificate — under TLS 1.3 that shows after the client's handshake as an alert
   * (SSLException) or the server closing the socket (SocketException / EOF) before any HTTP/2 byte.
   */
  private boolean refused(KeyManager keys) throws Exception {
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(keys == null ? null : new KeyManager[] {keys}, new TrustManager[] {distributorTrust()}, null);
    try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.setSSLParameters(withAlpnH2(socket));
      socket.startHandshake();
      socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes());
      socket.getOutputStream().flush();
      return socket.getInputStream().read() < 0;
    } catch (SSLException | java.net.SocketException e) {
      return true;
    }
  }

  private static javax.net.ssl.SSLParameters withAlpnH2(SSLSocket socket) {
    javax.net.ssl.SSLParameters p = socket.getSSLParameters();
    p.setApplicationProtocols(new String[] {"h2"});
    return p;
  }

  @Test
  void nodeWithItsOwnSvidReceivesItsConfig() throws Exception {
    try (RawConfigStream s = open(ca.issue("spiffe://" + TD + "/lattice/node/node-a"), "node-a")) {
      s.subscribe(ConfigType.CLUSTER, Map.of());
      DeltaConfigResponse r = s.next();
      assertThat(r.getResourcesList()).extracting(Resource::getName).containsExactly("c1");
    }
  }

  @Test
  void nodeOmittingItsIdIsServedTheNodeOfItsSvid() throws Exception {
    try (RawConfigStream s = open(ca.issue("spiffe://" + TD + "/lattice/node/node-b"), "")) {
      s.send(DeltaConfigRequest.newBuilder().setTypeUrl("lattice.dev/config/v1/CLUSTER").addResourceNamesSubscribe("*")
          .build());
      assertThat(s.next().getResourcesList()).extracting(Resource::getName).containsExactly("secret-of-b");
    }
  }

  @Test
  void nodeAskingForAnotherNodeIsPermissionDenied() throws Exception {
    try (RawConfigStream s = open(ca.issue("spiffe://" + TD + "/lattice/node/node-a"), "node-b")) {
      s.subscribe(ConfigType.CLUSTER, Map.of());
      RawConfigStream.End end = s.awaitEnd();
      assertThat(end.status()).isEqualTo(GrpcStatus.PERMISSION_DENIED);
      assertThat(end.message()).contains("node.id node-b").contains("spiffe://lattice.local/lattice/node/node-a");
      assertThat(s.responses).isEmpty();
    }
  }

  @Test
  void noClientCertificateFailsTheHandshake() throws Exception {
    assertThat(refused(null)).isTrue();
  }

  @Test
  void svidOfAForeignCaFailsTheHandshake() throws Exception {
    TestSpiffeCa foreign = TestSpiffeCa.create(TD);
    assertThat(refused(foreign.issue("spiffe://" + TD + "/lattice/node/node-a").keyManager())).isTrue();
  }

  @Test
  void workloadSvidIsNotANodeAndFailsTheHandshake() throws Exception {
    assertThat(refused(ca.issue("spiffe://" + TD + "/ns/default/sa/web").keyManager())).isTrue();
    assertThat(refused(ca.issue("spiffe://other.domain/lattice/node/node-a").keyManager())).isTrue();
  }

  @Test
  void expiredNodeSvidFailsTheHandshake() throws Exception {
    assertThat(refused(ca.issue("spiffe://" + TD + "/lattice/node/node-a", Duration.ofMinutes(-5)).keyManager()))
        .isTrue();
  }

  @Test
  void validNodeSvidCompletesTheHandshake() throws Exception {
    // the control case for the handshake tests above: the same bare client with a good SVID gets HTTP/2 frames
    assertThat(refused(ca.issue("spiffe://" + TD + "/lattice/node/node-a").keyManager())).isFalse();
    SSLContext ssl = SSLContext.getInstance("TLS");
    ssl.init(new KeyManager[] {ca.issue("spiffe://" + TD + "/lattice/node/node-a").keyManager()},
        new TrustManager[] {distributorTrust()}, null);
    try (SSLSocket socket = (SSLSocket) ssl.getSocketFactory().createSocket("127.0.0.1", port)) {
      socket.setSoTimeout(10_000);
      socket.setSSLParameters(withAlpnH2(socket));
      socket.startHandshake();
      socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes());
      socket.getOutputStream().flush();
      assertThat(socket.getInputStream().read()).isGreaterThanOrEqualTo(0); // the server's SETTINGS frame
    }
  }
}
