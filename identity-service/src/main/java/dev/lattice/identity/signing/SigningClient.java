package dev.lattice.identity.signing;

import com.google.protobuf.ByteString;
import dev.lattice.schemas.identity.v1.AttestNodeRequest;
import dev.lattice.schemas.identity.v1.AttestNodeResponse;
import dev.lattice.schemas.identity.v1.JwtSvidResponse;
import dev.lattice.schemas.identity.v1.NodeAttestationGrpcClient;
import dev.lattice.schemas.identity.v1.NodeSnapshot;
import dev.lattice.schemas.identity.v1.RenewNodeSvidRequest;
import dev.lattice.schemas.identity.v1.SignJwtSvidRequest;
import dev.lattice.schemas.identity.v1.SignX509SvidRequest;
import dev.lattice.schemas.identity.v1.SigningGrpcClient;
import dev.lattice.schemas.identity.v1.SyncNodeRequest;
import dev.lattice.schemas.identity.v1.X509SvidResponse;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.client.GrpcClient;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The node side of signing.proto, for the node agent: {@link #attestNode} over server-authenticated TLS,
 * everything else over mTLS with the node's X.509-SVID. The server must present
 * {@code spiffe://<td>/lattice/server} chaining to the current trust anchors (the bundle; a bootstrap
 * bundle before the first attestation).
 *
 * <p>Credentials rotate without restart: {@link #updateCredential} installs the new node SVID and key
 * and opens a fresh mTLS connection for later calls; the previous connection is closed after
 * {@code drainMillis} (its in-flight unary calls finish; a {@link #syncNode} stream on it ends through
 * its {@code onEnd} and the caller re-subscribes). {@link #updateTrustAnchors} applies from the next
 * handshake. Every method returns at once; failures are failed futures (a gRPC refusal is a
 * {@link SigningRefusedException} carrying the status and the server's message).
 *
 * <p>Thread-safe. The creator calls {@link #close()}.
 */
public final class SigningClient {

  private final Vertx vertx;
  private final SocketAddress server;
  private final long drainMillis;
  private volatile List<X509Certificate> anchors;
  private final SpiffeTrustManager serverTrust;
  private final GrpcClient attestationClient;
  private volatile RotatingKeyManager nodeKeys;
  private volatile GrpcClient mtlsClient;

  private SigningClient(Vertx vertx, SocketAddress server, TrustDomain trustDomain, List<X509Certificate> anchors,
      long drainMillis) {
    this.vertx = vertx;
    this.server = server;
    this.drainMillis = drainMillis;
    this.anchors = List.copyOf(anchors);
    SpiffeId serverId = SpiffeId.parse("spiffe://" + trustDomain.getName() + "/lattice/server");
    this.serverTrust = new SpiffeTrustManager(() -> this.anchors, serverId::equals, serverId.toString());
    this.attestationClient = GrpcClient.client(vertx, options(null));
  }

  /**
   * A client of the identity server at {@code server} (host:port of the signing API, 7071 locally).
   *
   * @param trustAnchors the X.509 authorities the server's SVID must chain to
   */
  public static SigningClient create(Vertx vertx, SocketAddress server, TrustDomain trustDomain,
      List<X509Certificate> trustAnchors) {
    return new SigningClient(vertx, server, trustDomain, trustAnchors, 30_000);
  }

  /** Replaces the trust anchors (e.g. from a new {@code Bundle}); applies from the next handshake. */
  public void updateTrustAnchors(List<X509Certificate> trustAnchors) {
    this.anchors = List.copyOf(trustAnchors);
  }

  /** Installs the node SVID ({@code chain} leaf first) and its key for every later Signing call. */
  public synchronized void updateCredential(PrivateKey key, List<X509Certificate> chain) {
    RotatingKeyManager keys = new RotatingKeyManager();
    keys.update(key, chain);
    GrpcClient previous = mtlsClient;
    nodeKeys = keys;
    mtlsClient = GrpcClient.client(vertx, options(keys));
    if (previous != null) {
      vertx.setTimer(drainMillis, t -> previous.close());
    }
  }

  /** Attests the node: a join token or a Kubernetes PSAT plus a DER CSR for the node key. */
  public Future<AttestNodeResponse> attestNode(AttestNodeRequest request) {
    return unary(attestationClient, NodeAttestationGrpcClient.AttestNode, request);
  }

  /** Renews the node SVID with a CSR for a new node key. */
  public Future<X509SvidResponse> renewNodeSvid(byte[] csrDer) {
    return mtls().compose(c -> unary(c, SigningGrpcClient.RenewNodeSvid,
        RenewNodeSvidRequest.newBuilder().setCsr(ByteString.copyFrom(csrDer)).build()));
  }

  /** Signs an X.509-SVID for {@code entryId} (an entry whose parent is this node). */
  public Future<X509SvidResponse> signX509Svid(String entryId, byte[] csrDer) {
    return mtls().compose(c -> unary(c, SigningGrpcClient.SignX509Svid, SignX509SvidRequest.newBuilder()
        .setEntryId(entryId).setCsr(ByteString.copyFrom(csrDer)).build()));
  }

  /** Mints a JWT-SVID for {@code entryId}; {@code ttlSeconds} 0 = the entry's JWT TTL. */
  public Future<JwtSvidResponse> signJwtSvid(String entryId, List<String> audience, long ttlSeconds) {
    return mtls().compose(c -> unary(c, SigningGrpcClient.SignJwtSvid, SignJwtSvidRequest.newBuilder()
        .setEntryId(entryId).addAllAudience(audience).setTtlSeconds(ttlSeconds).build()));
  }

  /**
   * Follows the node's snapshot stream: {@code onSnapshot} gets the first snapshot and one per change;
   * {@code onEnd} is called once when the stream ends or fails (null on a clean end). The returned
   * handle's {@code close()} stops the stream without calling {@code onEnd}.
   */
  public Future<AutoCloseable> syncNode(Handler<NodeSnapshot> onSnapshot, Handler<Throwable> onEnd) {
    GrpcClient c = mtlsClient;
    if (c == null) {
      return Future.failedFuture(new IllegalStateException(
          "no node SVID yet (expected: attestNode, then updateCredential, before Signing calls)"));
    }
    AtomicBoolean closed = new AtomicBoolean();
    return c.request(server, SigningGrpcClient.SyncNode).compose(req -> req.end(SyncNodeRequest.getDefaultInstance())
        .compose(v -> req.response())
        .compose(resp -> {
          if (resp.status() != null && resp.status() != io.vertx.grpc.common.GrpcStatus.OK) {
            return Future.failedFuture(new SigningRefusedException(resp.status(), resp.statusMessage()));
          }
          resp.handler(s -> {
            if (!closed.get()) {
              onSnapshot.handle(s);
            }
          });
          resp.exceptionHandler(e -> {
            if (closed.compareAndSet(false, true)) {
              onEnd.handle(e);
            }
          });
          resp.endHandler(v -> {
            if (closed.compareAndSet(false, true)) {
              onEnd.handle(resp.status() == null || resp.status() == io.vertx.grpc.common.GrpcStatus.OK ? null
                  : new SigningRefusedException(resp.status(), resp.statusMessage()));
            }
          });
          return Future.succeededFuture((AutoCloseable) () -> {
            if (closed.compareAndSet(false, true)) {
              req.cancel();
            }
          });
        }));
  }

  public Future<Void> close() {
    GrpcClient m = mtlsClient;
    return Future.all(attestationClient.close(), m == null ? Future.succeededFuture() : m.close()).mapEmpty();
  }

  private Future<GrpcClient> mtls() {
    GrpcClient c = mtlsClient;
    if (c == null) {
      return Future.failedFuture(new IllegalStateException(
          "no node SVID yet (expected: attestNode, then updateCredential, before Signing calls)"));
    }
    return Future.succeededFuture(c);
  }

  private <Req, Resp> Future<Resp> unary(GrpcClient client, io.vertx.grpc.common.ServiceMethod<Resp, Req> method, Req request) {
    return client.request(server, method).compose(req -> req.send(request)).compose(resp -> resp.last()
        .transform(ar -> {
          if (resp.status() != null && resp.status() != io.vertx.grpc.common.GrpcStatus.OK) {
            return Future.<Resp>failedFuture(new SigningRefusedException(resp.status(), resp.statusMessage()));
          }
          return ar.succeeded() ? Future.succeededFuture(ar.result()) : Future.<Resp>failedFuture(ar.cause());
        }));
  }

  private HttpClientOptions options(RotatingKeyManager keys) {
    HttpClientOptions o = new HttpClientOptions().setSsl(true).setUseAlpn(true).setVerifyHost(false)
        .setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false)
        .setTrustOptions(TrustOptions.wrap(serverTrust));
    if (keys != null) {
      o.setKeyCertOptions(KeyCertOptions.wrap(keys));
    }
    return o;
  }
}
