package dev.lattice.distributor.server;

import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.schemas.config.v1.ConfigDiscoveryGrpcService;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import io.spiffe.spiffeid.SpiffeId;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.ClientAuth;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node-facing {@code ConfigDiscovery.StreamConfig} endpoint (config_stream.proto): one bidirectional
 * gRPC stream per node, each driven by a {@link DeltaSession} over the node's {@link SnapshotCache}
 * snapshots, snapshot changes coalesced by a {@link PushDebouncer}. With {@link StreamTls} (the default
 * in the service) the stream requires the node's X.509-SVID: no client certificate fails the handshake,
 * and a node may only ask for its own id ({@code PERMISSION_DENIED} otherwise). A bad request ends only
 * its own stream with a status saying what was wrong. Thread-safe; the owner calls {@link #close()}.
 */
public final class ConfigStreamServer {

  private static final Logger log = LoggerFactory.getLogger(ConfigStreamServer.class);

  /**
   * Settings.
   *
   * @param instance this distributor's name, in nonces and on the status topic
   * @param debounce coalescing window of snapshot changes (zero = push every change at once)
   */
  public record Settings(String host, int port, Duration debounce, String instance) {
    public Settings {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(instance, "instance");
      if (debounce.isNegative()) {
        throw new IllegalArgumentException("debounce: " + debounce + " (expected: >= 0)");
      }
    }
  }

  private final Vertx vertx;
  private final SnapshotCache cache;
  private final Settings settings;
  private final StreamTls tls;
  private final StreamObserver observer;
  private final Clock clock;
  private final SvidTrustManager clientTrust;
  private final Map<String, Stream> streams = new ConcurrentHashMap<>();
  private final AtomicLong streamIds = new AtomicLong();
  private HttpServer server;

  /** @param tls null serves plaintext h2c, for local development only (no node authentication) */
  public ConfigStreamServer(Vertx vertx, SnapshotCache cache, Settings settings, StreamTls tls,
      StreamObserver observer, Clock clock) {
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.settings = Objects.requireNonNull(settings, "settings");
    this.tls = tls;
    this.observer = observer == null ? StreamObserver.NONE : observer;
    this.clock = Objects.requireNonNull(clock, "clock");
    this.clientTrust = tls == null ? null : tls.clientTrust();
  }

  /** Binds the port; completes with the bound port. */
  public Future<Integer> listen() {
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(ConfigDiscoveryGrpcService.StreamConfig, this::stream);
    HttpServerOptions options = new HttpServerOptions().setHost(settings.host()).setPort(settings.port());
    if (tls != null) {
      options.setSsl(true).setUseAlpn(true).setClientAuth(ClientAuth.REQUIRED)
          .setKeyCertOptions(tls.serverKeys()).setTrustOptions(TrustOptions.wrap(clientTrust));
    } else {
      log.warn("config stream served WITHOUT TLS on {}:{}: nodes are not authenticated (local development only)",
          settings.host(), settings.port());
    }
    server = vertx.createHttpServer(options).requestHandler(grpc);
    return server.listen().map(s -> {
      log.info("config stream (gRPC{}) on {}:{}", tls == null ? ", plaintext" : ", mTLS with node SVIDs",
          settings.host(), s.actualPort());
      return s.actualPort();
    });
  }

  /** Streams open now. */
  public int connectedStreams() {
    return streams.size();
  }

  /** Ends every stream with UNAVAILABLE (nodes reconnect to another instance) and closes the port. */
  public Future<Void> close() {
    streams.values().forEach(s -> s.context.runOnContext(v -> s.end(GrpcStatus.UNAVAILABLE,
        "distributor " + settings.instance() + " is shutting down")));
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void stream(GrpcServerRequest<DeltaConfigRequest, DeltaConfigResponse> request) {
    X509Certificate leaf;
    String certifiedNode;
    try {
      leaf = tls == null ? null : authenticate(request);
      certifiedNode = leaf == null ? null : NodeSpiffeIds.nodeOf(SvidTrustManager.spiffeIdOf(leaf), tls.trustDomain()).orElseThrow();
    } catch (CertificateException e) {
      request.response().status(GrpcStatus.UNAUTHENTICATED).statusMessage(e.getMessage()).end();
      return;
    }
    Stream s = new Stream(settings.instance() + "-" + streamIds.incrementAndGet(), vertx.getOrCreateContext(),
        request, certifiedNode, leaf);
    request.handler(s::onRequest);
    request.invalidMessageHandler(e -> s.end(GrpcStatus.INVALID_ARGUMENT,
        "malformed DeltaConfigRequest: " + e.getMessage()));
    request.endHandler(v -> s.end(GrpcStatus.OK, null));
    request.exceptionHandler(e -> s.closed());
    request.errorHandler(e -> s.closed());
    request.response().exceptionHandler(e -> s.closed());
  }

  /** The client's verified SVID leaf (a node SVID of the trust domain). */
  private X509Certificate authenticate(GrpcServerRequest<?, ?> request) throws CertificateException {
    SSLSession session = request.connection().sslSession();
    if (session == null) {
      throw new CertificateException("no TLS session (expected: mTLS with a node SVID)");
    }
    Certificate[] peer;
    try {
      peer = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      throw new CertificateException("no client certificate (expected: a node SVID spiffe://"
          + tls.trustDomain().getName() + NodeSpiffeIds.NODE_PATH_PREFIX + "<id>)");
    }
    X509Certificate[] chain = new X509Certificate[peer.length];
    for (int i = 0; i < peer.length; i++) {
      chain[i] = (X509Certificate) peer[i];
    }
    // verified at the handshake; again here so an SVID that expired on a long-lived connection is refused
    SpiffeId id = clientTrust.verify(chain);
    if (NodeSpiffeIds.nodeOf(id, tls.trustDomain()).isEmpty()) {
      throw new CertificateException(id + " is not a node SVID of " + tls.trustDomain().getName());
    }
    return chain[0];
  }

  /** One node's stream; every method runs on {@link #context}. */
  private final class Stream {
    final String id;
    final Context context;
    final GrpcServerRequest<DeltaConfigRequest, DeltaConfigResponse> request;
    final String certifiedNode;
    final X509Certificate leaf;
    DeltaSession session;
    SnapshotCache.Watch watch;
    PushDebouncer debouncer;
    boolean ended;

    Stream(String id, Context context, GrpcServerRequest<DeltaConfigRequest, DeltaConfigResponse> request,
        String certifiedNode, X509Certificate leaf) {
      this.id = id;
      this.context = context;
      this.request = request;
      this.certifiedNode = certifiedNode;
      this.leaf = leaf;
    }

    void onRequest(DeltaConfigRequest r) {
      if (ended) {
        return;
      }
      if (session == null && !open(r)) {
        return;
      }
      DeltaSession.Outcome outcome;
      try {
        outcome = session.onRequest(r);
      } catch (DeltaSession.Refused e) {
        end(GrpcStatus.valueOf(e.code), e.getMessage());
        return;
      }
      switch (outcome.kind()) {
        case ACK -> observer.acked(session.node(), outcome.type(), outcome.applied(), session);
        case NACK -> {
          log.info("node {} rejected {} {}: {}", session.node(), outcome.type(), outcome.rejected().keySet(),
              outcome.error());
          observer.nacked(session.node(), outcome.type(), outcome.rejected(), outcome.error(), session);
        }
        default -> { }
      }
      send(outcome.responses());
    }

    private boolean open(DeltaConfigRequest first) {
      String asked = first.hasNode() ? first.getNode().getId() : "";
      String node;
      if (certifiedNode != null) {
        if (!asked.isEmpty() && !asked.equals(certifiedNode)) {
          end(GrpcStatus.PERMISSION_DENIED, "node.id " + asked + " (expected: " + certifiedNode
              + ", the node of the client SVID " + NodeSpiffeIds.node(tls.trustDomain(), certifiedNode) + ")");
          return false;
        }
        node = certifiedNode;
      } else if (asked.isEmpty()) {
        end(GrpcStatus.INVALID_ARGUMENT, "node.id: empty (expected: the node id on the first request of a stream)");
        return false;
      } else {
        node = asked;
      }
      session = new DeltaSession(node, id, cache.snapshot(node));
      debouncer = new PushDebouncer(settings.debounce(), (delay, task) -> {
        long timer = vertx.setTimer(Math.max(1, delay.toMillis()), t -> task.run());
        return () -> vertx.cancelTimer(timer);
      }, this::pushSnapshot);
      watch = cache.watch(node, snapshot -> context.runOnContext(v -> {
        if (!ended) {
          debouncer.signal();
        }
      }));
      streams.put(id, this);
      observer.connected(node, id, clock.instant());
      if (leaf != null) {
        observer.presented(node, id, leaf);
      }
      log.debug("node {} opened config stream {}", node, id);
      // a change folded between creating the session and watching must not be missed
      pushSnapshot();
      return true;
    }

    private void pushSnapshot() {
      if (!ended) {
        send(session.onSnapshot(cache.snapshot(session.node())));
      }
    }

    private void send(List<DeltaConfigResponse> responses) {
      for (DeltaConfigResponse r : responses) {
        request.response().write(r);
        observer.pushed(session.node(), r, r.getSerializedSize());
      }
    }

    void end(GrpcStatus status, String message) {
      if (ended) {
        return;
      }
      if (status != GrpcStatus.OK) {
        log.info("config stream {}{} ended: {} {}", id, session == null ? "" : " of node " + session.node(), status.name(),
            message);
        request.response().status(status);
        if (message != null) {
          request.response().statusMessage(message);
        }
      }
      request.response().end();
      closed();
    }

    void closed() {
      if (ended) {
        return;
      }
      ended = true;
      streams.remove(id);
      if (watch != null) {
        watch.close();
        debouncer.close();
        observer.disconnected(session.node(), id);
      }
    }
  }
}
