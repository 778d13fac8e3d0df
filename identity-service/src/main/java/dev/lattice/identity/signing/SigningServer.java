package dev.lattice.identity.signing;

import com.google.protobuf.ByteString;
import dev.lattice.identity.attestation.AttestationException;
import dev.lattice.identity.attestation.NodeAttestor;
import dev.lattice.identity.bundle.BundleEvents;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import dev.lattice.identity.ca.CaKeys;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.CertificateRequests;
import dev.lattice.identity.ca.IssuedX509Svid;
import dev.lattice.identity.ca.X509SvidRequest;
import dev.lattice.identity.entry.EntryRegistry;
import dev.lattice.identity.entry.RegistrationEntryRecord;
import dev.lattice.identity.jwt.JwtSvidIssuer;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.kit.kafka.KafkaUnavailableException;
import dev.lattice.schemas.identity.v1.AttestNodeRequest;
import dev.lattice.schemas.identity.v1.AttestNodeResponse;
import dev.lattice.schemas.identity.v1.Entry;
import dev.lattice.schemas.identity.v1.JwtSvidResponse;
import dev.lattice.schemas.identity.v1.NodeAttestationGrpcService;
import dev.lattice.schemas.identity.v1.NodeSnapshot;
import dev.lattice.schemas.identity.v1.Selector;
import dev.lattice.schemas.identity.v1.SigningGrpcService;
import dev.lattice.schemas.identity.v1.X509SvidResponse;
import io.spiffe.spiffeid.SpiffeId;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.security.KeyPair;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-facing gRPC API of signing.proto on one TLS port (7071): {@code NodeAttestation} needs only
 * server-authenticated TLS; every {@code Signing} method requires the caller's node X.509-SVID
 * (client certificate verified by a {@link SpiffeTrustManager} against this CA's bundle; a call without
 * one is UNAUTHENTICATED). The server checks that the node is the entry's parent, that the CSR's key is
 * EC P-256 and its URI SAN (if any) is the entry's SPIFFE ID, signs on a worker pool (never the event
 * loop), and writes an {@code SvidIssued} audit event. {@code SyncNode} streams the node's entries and
 * the bundle, again on every change.
 *
 * <p>The server's own certificate is an X.509-SVID {@code spiffe://<td>/lattice/server} (DNS SAN
 * {@code localhost}) from the same CA, renewed at half life through a {@link RotatingKeyManager}.
 * Thread-safe; the owner calls {@link #close()}.
 */
public final class SigningServer {

  private static final Logger log = LoggerFactory.getLogger(SigningServer.class);

  /** Settings. */
  public record Settings(String host, int port, Duration nodeSvidTtl, Duration serverSvidTtl, int signingThreads) {}

  private final Vertx vertx;
  private final CertificateAuthority ca;
  private final JwtSvidIssuer jwtIssuer;
  private final EntryRegistry entries;
  private final NodeAttestor attestor;
  private final SvidAudit audit;
  private final Settings settings;
  private final RotatingKeyManager serverKeys = new RotatingKeyManager();
  private final SpiffeTrustManager clientTrust;
  private final Map<Long, SyncStream> streams = new ConcurrentHashMap<>();
  private WorkerExecutor signingPool;
  private HttpServer server;
  private long renewTimer = -1;
  private long nextStreamId;

  public SigningServer(Vertx vertx, CertificateAuthority ca, JwtSvidIssuer jwtIssuer, EntryRegistry entries,
      NodeAttestor attestor, SvidAudit audit, Settings settings) {
    this.vertx = vertx;
    this.ca = ca;
    this.jwtIssuer = jwtIssuer;
    this.entries = entries;
    this.attestor = attestor;
    this.audit = audit;
    this.settings = settings;
    this.clientTrust = new SpiffeTrustManager(() -> ca.bundle().x509Authorities(),
        id -> SpiffeIds.isNode(id, ca.trustDomain()), "a node SVID spiffe://" + ca.trustDomain() + "/lattice/node/<id>");
  }

  /** The server's SPIFFE ID. */
  public SpiffeId serverId() {
    return entries.serverId();
  }

  /** Issues the server SVID, binds the port and completes with the bound port. */
  public Future<Integer> listen() {
    signingPool = vertx.createSharedWorkerExecutor("lattice-identity-signing", settings.signingThreads());
    return signingPool.executeBlocking(this::renewServerSvid, false).compose(v -> {
      GrpcServer grpc = GrpcServer.server(vertx);
      grpc.callHandler(NodeAttestationGrpcService.AttestNode, this::attestNode);
      grpc.callHandler(SigningGrpcService.RenewNodeSvid, req -> unary(req, (node, r) -> renewNode(node, r.getCsr().toByteArray())));
      grpc.callHandler(SigningGrpcService.SignX509Svid, req -> unary(req, (node, r) -> signX509(node, r.getEntryId(), r.getCsr().toByteArray())));
      grpc.callHandler(SigningGrpcService.SignJwtSvid, req -> unary(req, (node, r) -> signJwt(node, r.getEntryId(), r.getAudienceList(), r.getTtlSeconds())));
      grpc.callHandler(SigningGrpcService.SyncNode, this::syncNode);
      HttpServerOptions options = new HttpServerOptions()
          .setHost(settings.host()).setPort(settings.port())
          .setSsl(true).setUseAlpn(true)
          .setClientAuth(ClientAuth.REQUEST)
          .setKeyCertOptions(KeyCertOptions.wrap(serverKeys))
          .setTrustOptions(TrustOptions.wrap(clientTrust));
      server = vertx.createHttpServer(options).requestHandler(grpc);
      entries.onChange(this::pushSnapshots);
      ca.onBundleChange(b -> pushSnapshots());
      return server.listen();
    }).map(s -> {
      long period = Math.max(1000, settings.serverSvidTtl().toMillis() / 2);
      renewTimer = vertx.setPeriodic(period, id -> signingPool.executeBlocking(this::renewServerSvid, false)
          .onFailure(e -> log.error("server SVID renewal failed: {}", e.toString())));
      log.info("signing API (gRPC, TLS; Signing requires a node SVID) on {}:{}", settings.host(), s.actualPort());
      return s.actualPort();
    });
  }

  public Future<Void> close() {
    if (renewTimer >= 0) {
      vertx.cancelTimer(renewTimer);
    }
    streams.values().forEach(s -> s.context.runOnContext(v -> s.request.response().end()));
    streams.clear();
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed.eventually(() -> signingPool == null ? Future.succeededFuture() : signingPool.close());
  }

  private Void renewServerSvid() {
    KeyPair key = CaKeys.newP256();
    IssuedX509Svid svid = ca.issue(new X509SvidRequest(serverId(), key.getPublic(), settings.serverSvidTtl(),
        List.of("localhost")));
    serverKeys.update(key.getPrivate(), svid.chain());
    return null;
  }

  // ---- NodeAttestation

  private void attestNode(GrpcServerRequest<AttestNodeRequest, AttestNodeResponse> req) {
    req.handler(r -> {
      AtomicReference<NodeAttestor.AttestedNode> claimed = new AtomicReference<>();
      signingPool.executeBlocking(() -> {
        CertificateRequests.CheckedCsr csr = CertificateRequests.parse(r.getCsr().toByteArray(), ca.signer());
        NodeAttestor.AttestedNode node = switch (r.getAttestationCase()) {
          case JOIN_TOKEN -> attestor.byJoinToken(r.getJoinToken());
          case K8S_PSAT -> attestor.byKubernetesToken(r.getK8SPsat());
          default -> throw new IllegalArgumentException("attestation: none (expected: join_token or k8s_psat)");
        };
        claimed.set(node);
        checkSans(csr, node.spiffeId());
        IssuedX509Svid svid = ca.issue(new X509SvidRequest(node.spiffeId(), csr.publicKey(), settings.nodeSvidTtl(), List.of()));
        return Map.entry(node, svid);
      }, false)
          // The join token burns only once the node entry is on Kafka: a node that met an outage retries with it.
          .compose(issued -> entries.registerNode(issued.getKey().spiffeId(), issued.getKey().method()).map(e -> issued))
          .compose(issued -> signingPool.executeBlocking(() -> {
            attestor.complete(issued.getKey());
            return issued;
          }, false))
          .onSuccess(issued -> {
            audit.x509(issued.getValue(), null, issued.getKey().spiffeId());
            log.info("node {} attested by {}; node SVID serial {}", issued.getKey().spiffeId(), issued.getKey().method(),
                issued.getValue().serialHex());
            req.response().send(AttestNodeResponse.newBuilder()
                .setSvid(toResponse(issued.getValue(), ""))
                .setBundle(BundleEvents.toProto(ca.bundle())).build());
          })
          .onFailure(e -> {
            Optional.ofNullable(claimed.get()).ifPresent(attestor::abandon);
            fail(req, e);
          });
    });
  }

  // ---- Signing

  @FunctionalInterface
  private interface Call<Req, Resp> {
    Resp handle(SpiffeId node, Req request) throws Exception;
  }

  private <Req, Resp> void unary(GrpcServerRequest<Req, Resp> req, Call<Req, Resp> call) {
    SpiffeId node;
    try {
      node = authenticate(req);
    } catch (CertificateException e) {
      reply(req, GrpcStatus.UNAUTHENTICATED, e.getMessage());
      return;
    }
    req.handler(r -> signingPool.executeBlocking(() -> call.handle(node, r), false)
        .onSuccess(resp -> req.response().send(resp))
        .onFailure(e -> fail(req, e)));
  }

  private X509SvidResponse renewNode(SpiffeId node, byte[] csrDer) {
    CertificateRequests.CheckedCsr csr = CertificateRequests.parse(csrDer, ca.signer());
    checkSans(csr, node);
    IssuedX509Svid svid = ca.issue(new X509SvidRequest(node, csr.publicKey(), settings.nodeSvidTtl(), List.of()));
    audit.x509(svid, null, node);
    return toResponse(svid, "");
  }

  private X509SvidResponse signX509(SpiffeId node, String entryId, byte[] csrDer) {
    RegistrationEntryRecord entry = authorizedEntry(node, entryId);
    CertificateRequests.CheckedCsr csr = CertificateRequests.parse(csrDer, ca.signer());
    checkSans(csr, entry.spiffeId());
    IssuedX509Svid svid = ca.issue(new X509SvidRequest(entry.spiffeId(), csr.publicKey(), entry.x509SvidTtl(), entry.dnsNames()));
    audit.x509(svid, entry.id(), node);
    return toResponse(svid, entry.id());
  }

  private JwtSvidResponse signJwt(SpiffeId node, String entryId, List<String> audience, long ttlSeconds) {
    RegistrationEntryRecord entry = authorizedEntry(node, entryId);
    if (ttlSeconds < 0) {
      throw new IllegalArgumentException("ttl_seconds: " + ttlSeconds + " (expected: >= 0)");
    }
    Duration ttl = ttlSeconds == 0 ? entry.jwtSvidTtl() : Duration.ofSeconds(ttlSeconds);
    Instant now = ca.clock().instant();
    JwtSvidIssuer.MintedJwtSvid jwt = jwtIssuer.mint(entry.spiffeId(), audience, ttl);
    audit.jwt(jwt, now, entry.id(), node);
    return JwtSvidResponse.newBuilder().setToken(jwt.token()).setSpiffeId(jwt.spiffeId().toString())
        .setExpiresAtEpochSecond(jwt.expiresAt().getEpochSecond()).build();
  }

  private RegistrationEntryRecord authorizedEntry(SpiffeId node, String entryId) {
    if (!entries.isAttestedNode(node)) {
      throw new SecurityException("node " + node + " has no node entry (expected: a node attested by this server)");
    }
    RegistrationEntryRecord entry = entries.get(entryId).orElseThrow(() ->
        new java.util.NoSuchElementException("entry: '" + entryId + "' not found"));
    if (!entry.parentId().equals(node)) {
      throw new SecurityException("entry " + entryId + " (" + entry.spiffeId() + ") has parent " + entry.parentId()
          + " (expected: the calling node " + node + ")");
    }
    return entry;
  }

  private static void checkSans(CertificateRequests.CheckedCsr csr, SpiffeId expected) {
    for (String uri : csr.uriSans()) {
      if (!uri.equals(expected.toString())) {
        throw new IllegalArgumentException("csr: URI SAN " + uri + " (expected: none or " + expected + ")");
      }
    }
  }

  // ---- SyncNode

  private record SyncStream(GrpcServerRequest<?, NodeSnapshot> request, Context context, SpiffeId node, String[] last) {}

  private void syncNode(GrpcServerRequest<dev.lattice.schemas.identity.v1.SyncNodeRequest, NodeSnapshot> req) {
    SpiffeId node;
    try {
      node = authenticate(req);
    } catch (CertificateException e) {
      reply(req, GrpcStatus.UNAUTHENTICATED, e.getMessage());
      return;
    }
    if (!entries.isAttestedNode(node)) {
      reply(req, GrpcStatus.PERMISSION_DENIED, "node " + node + " has no node entry (expected: a node attested by this server)");
      return;
    }
    long id;
    synchronized (this) {
      id = nextStreamId++;
    }
    SyncStream stream = new SyncStream(req, vertx.getOrCreateContext(), node, new String[1]);
    req.handler(r -> {
      streams.put(id, stream);
      push(stream);
    });
    req.errorHandler(err -> streams.remove(id));
    req.exceptionHandler(err -> streams.remove(id));
    req.response().exceptionHandler(err -> streams.remove(id));
  }

  private void pushSnapshots() {
    for (SyncStream s : streams.values()) {
      s.context().runOnContext(v -> push(s));
    }
  }

  private void push(SyncStream s) {
    NodeSnapshot snapshot = snapshotFor(s.node());
    String fingerprint = snapshot.toBuilder().setRevision(0).build().toString();
    if (fingerprint.equals(s.last()[0])) {
      return;
    }
    s.last()[0] = fingerprint;
    s.request().response().write(snapshot);
  }

  /** What node {@code node} is authorized to serve now. */
  NodeSnapshot snapshotFor(SpiffeId node) {
    NodeSnapshot.Builder b = NodeSnapshot.newBuilder()
        .setBundle(BundleEvents.toProto(ca.bundle()))
        .setRevision(entries.revision() * 1_000_000L + ca.bundle().sequence());
    for (RegistrationEntryRecord e : entries.byParent(node)) {
      Entry.Builder eb = Entry.newBuilder().setId(e.id()).setSpiffeId(e.spiffeId().toString())
          .setParentId(e.parentId().toString())
          .setX509SvidTtlSeconds((int) e.x509SvidTtl().toSeconds())
          .setJwtSvidTtlSeconds((int) e.jwtSvidTtl().toSeconds())
          .addAllDnsNames(e.dnsNames()).setAdmin(e.admin()).setRevision(e.revision()).setHint(e.hint())
          .setCreatedAtMillis(e.createdAt().toEpochMilli());
      e.selectors().forEach(sel -> eb.addSelectors(Selector.newBuilder().setType(sel.type()).setValue(sel.value())));
      b.addEntries(eb);
    }
    return b.build();
  }

  // ---- helpers

  private SpiffeId authenticate(GrpcServerRequest<?, ?> req) throws CertificateException {
    SSLSession session = req.connection().sslSession();
    if (session == null) {
      throw new CertificateException("no TLS session (expected: mTLS with a node SVID)");
    }
    Certificate[] peer;
    try {
      peer = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new CertificateException("no client certificate (expected: mTLS with a node SVID spiffe://"
          + ca.trustDomain() + "/lattice/node/<id>)");
    }
    X509Certificate[] chain = new X509Certificate[peer.length];
    for (int i = 0; i < peer.length; i++) {
      chain[i] = (X509Certificate) peer[i];
    }
    // verified at handshake; verified again here so an SVID that expired on a long-lived connection is refused
    return clientTrust.verify(chain);
  }

  private static X509SvidResponse toResponse(IssuedX509Svid svid, String entryId) {
    X509SvidResponse.Builder b = X509SvidResponse.newBuilder().setSpiffeId(svid.spiffeId().toString())
        .setExpiresAtEpochSecond(svid.notAfter().getEpochSecond()).setEntryId(entryId);
    for (X509Certificate c : svid.chain()) {
      try {
        b.addCertChain(ByteString.copyFrom(c.getEncoded()));
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException(e);
      }
    }
    return b.build();
  }

  private static void fail(GrpcServerRequest<?, ?> req, Throwable e) {
    Function<Throwable, GrpcStatus> status = t -> {
      if (KafkaUnavailableException.find(t) != null) {
        return GrpcStatus.UNAVAILABLE;
      }
      if (t instanceof AttestationException) {
        return GrpcStatus.PERMISSION_DENIED;
      }
      if (t instanceof SecurityException) {
        return GrpcStatus.PERMISSION_DENIED;
      }
      if (t instanceof java.util.NoSuchElementException) {
        return GrpcStatus.NOT_FOUND;
      }
      if (t instanceof IllegalArgumentException) {
        return GrpcStatus.INVALID_ARGUMENT;
      }
      return GrpcStatus.INTERNAL;
    };
    GrpcStatus s = status.apply(e);
    if (s == GrpcStatus.INTERNAL) {
      log.error("signing call {} failed", req.fullMethodName(), e);
    } else {
      log.info("signing call {} refused: {} {}", req.fullMethodName(), s, e.getMessage());
    }
    reply(req, s, s == GrpcStatus.INTERNAL ? "internal error" : e.getMessage());
  }

  private static void reply(GrpcServerRequest<?, ?> req, GrpcStatus status, String message) {
    req.response().status(status).statusMessage(message).end();
  }
}
