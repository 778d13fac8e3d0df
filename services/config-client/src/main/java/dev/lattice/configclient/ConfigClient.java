package dev.lattice.configclient;

import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.ConfigDiscoveryGrpcClient;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Node;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.TrustOptions;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.common.GrpcStatus;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node side of the config stream (config_stream.proto): subscribes to every config type of its node,
 * validates each response ({@link ConfigResponseValidator}) and hands the resulting snapshot to the
 * {@link ConfigListener}s before it ACKs; a bad resource or a refusing listener NACKs with a message
 * naming the resource, and the previous snapshot stays. Each good snapshot is persisted atomically
 * ({@link SnapshotFile}); on {@link #start()} the persisted one is loaded and served while no distributor
 * answers (a corrupt file is reported and ignored). On a stream failure it reconnects to the next
 * endpoint with exponential backoff and jitter, telling the distributor the versions it holds so only the
 * difference is sent. mTLS with the node's SVID (the caller supplies the key material, e.g. a key manager
 * fed by the node agent) is the default.
 *
 * <p>Thread-safe: the stream runs on one Vert.x context; {@link #snapshot()} may be read from anywhere.
 * The owner calls {@link #close()}.
 */
public final class ConfigClient implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConfigClient.class);

  /** Builds a {@link ConfigClient}. */
  public static final class Builder {
    private final Vertx vertx;
    private final String node;
    private final List<SocketAddress> endpoints = new ArrayList<>();
    private HttpClientOptions http;
    private Path snapshotFile;
    private Duration initialBackoff = Duration.ofMillis(200);
    private Duration maxBackoff = Duration.ofSeconds(15);
    private Random random = new Random();
    private String buildVersion = "";
    private final List<ConfigListener> listeners = new ArrayList<>();

    private Builder(Vertx vertx, String node) {
      this.vertx = Objects.requireNonNull(vertx, "vertx");
      this.node = Objects.requireNonNull(node, "node");
      if (node.isEmpty() || node.indexOf('/') >= 0) {
        throw new IllegalArgumentException("node: '" + node + "' (expected: a non-empty node id without '/')");
      }
    }

    /** Distributor endpoints, tried in turn (at least one). */
    public Builder endpoints(List<SocketAddress> endpoints) {
      this.endpoints.addAll(endpoints);
      return this;
    }

    /**
     * mTLS: present {@code nodeKeys} (the node's X.509-SVID {@code spiffe://<td>/lattice/node/<node>}) and accept
     * only a distributor SVID {@code spiffe://<td>/lattice/distributor} chaining to {@code anchors} (read on every
     * handshake, so bundle rotation needs no restart).
     */
    public Builder mtls(TrustDomain trustDomain, KeyCertOptions nodeKeys, Supplier<List<X509Certificate>> anchors) {
      SvidTrustManager trust = new SvidTrustManager(anchors,
          id -> id.equals(NodeSpiffeIds.distributor(trustDomain)), NodeSpiffeIds.distributor(trustDomain).toString());
      this.http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setSsl(true).setUseAlpn(true)
          .setVerifyHost(false).setKeyCertOptions(nodeKeys).setTrustOptions(TrustOptions.wrap(trust));
      return this;
    }

    /** Plaintext h2c, for local development only (the distributor must run with distributor.grpc.plaintext). */
    public Builder plaintext() {
      this.http = new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false);
      return this;
    }

    /** Where the last good snapshot is persisted and loaded from (none = no static stability). */
    public Builder snapshotFile(Path file) {
      this.snapshotFile = file;
      return this;
    }

    /** Reconnect backoff: doubles from {@code initial} up to {@code max}, each delay jittered to [d/2, d]. */
    public Builder backoff(Duration initial, Duration max) {
      if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
        throw new IllegalArgumentException("backoff: " + initial + ".." + max + " (expected: 0 < initial <= max)");
      }
      this.initialBackoff = initial;
      this.maxBackoff = max;
      return this;
    }

    /** Source of the backoff jitter (seed it in tests). */
    public Builder random(Random random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /** Data-plane build version, sent to the distributor for status. */
    public Builder buildVersion(String version) {
      this.buildVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /** Adds a listener (also possible later with {@link ConfigClient#addListener}). */
    public Builder listener(ConfigListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    public ConfigClient build() {
      if (endpoints.isEmpty()) {
        throw new IllegalStateException("endpoints: none (expected: at least one distributor address)");
      }
      if (http == null) {
        throw new IllegalStateException("transport: not set (expected: mtls(...) with the node SVID, or plaintext())");
      }
      return new ConfigClient(this);
    }
  }

  /** A builder for {@code node}'s client. */
  public static Builder builder(Vertx vertx, String node) {
    return new Builder(vertx, node);
  }

  private final Vertx vertx;
  private final Context context;
  private final String node;
  private final List<SocketAddress> endpoints;
  private final GrpcClient grpc;
  private final Path snapshotFile;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final Random random;
  private final String buildVersion;
  private final List<ConfigListener> listeners;
  private final AtomicLong acks = new AtomicLong();
  private final AtomicLong nacks = new AtomicLong();
  private final AtomicLong connects = new AtomicLong();
  private final AtomicLong responses = new AtomicLong();
  private final AtomicLong resourcesReceived = new AtomicLong();
  private final AtomicLong bytesReceived = new AtomicLong();
  private volatile ConfigSnapshot current;
  private volatile String lastNack;
  private volatile String persistedProblem;
  private volatile SocketAddress connectedTo;
  private GrpcClientRequest<DeltaConfigRequest, DeltaConfigResponse> stream;
  private long generation;
  private int nextEndpoint;
  private int attempt;
  private long reconnectTimer = -1;
  private Future<Void> processing = Future.succeededFuture();
  private boolean closed;

  private ConfigClient(Builder b) {
    this.vertx = b.vertx;
    this.context = b.vertx.getOrCreateContext();
    this.node = b.node;
    this.endpoints = List.copyOf(b.endpoints);
    this.grpc = GrpcClient.client(b.vertx, b.http);
    this.snapshotFile = b.snapshotFile;
    this.initialBackoff = b.initialBackoff;
    this.maxBackoff = b.maxBackoff;
    this.random = b.random;
    this.buildVersion = b.buildVersion;
    this.listeners = new CopyOnWriteArrayList<>(b.listeners);
    this.current = ConfigSnapshot.empty(node);
  }

  /**
   * Loads the persisted snapshot (if any; hands it to the listeners) and starts connecting. Completes once
   * the persisted snapshot is applied — not when a distributor answers, so a node can serve its last good
   * config while the control plane is away.
   */
  public Future<Void> start() {
    Promise<Void> started = Promise.promise();
    context.runOnContext(v -> {
      Future<Void> loaded = snapshotFile == null ? Future.succeededFuture() : context.executeBlocking(
          () -> SnapshotFile.load(snapshotFile, node), true).compose(this::applyPersisted);
      loaded.onComplete(ar -> {
        connect();
        started.handle(ar);
      });
    });
    return started.future();
  }

  private Future<Void> applyPersisted(SnapshotFile.Loaded loaded) {
    if (loaded.problem() != null) {
      persistedProblem = loaded.problem();
      log.warn("ignoring the persisted config snapshot: {}", loaded.problem());
      return Future.succeededFuture();
    }
    if (!loaded.present()) {
      return Future.succeededFuture();
    }
    return notifyListeners(loaded.snapshot()).map(v -> {
      if (current.source() == ConfigSnapshot.Source.EMPTY) {
        current = loaded.snapshot();
      }
      log.info("serving the persisted config snapshot ({} resources) until a distributor answers",
          loaded.snapshot().size());
      return (Void) null;
    }).recover(e -> {
      persistedProblem = snapshotFile + ": refused by a listener: " + e.getMessage();
      log.warn("ignoring the persisted config snapshot: {}", persistedProblem);
      return Future.succeededFuture();
    });
  }

  /** The snapshot applied now (empty before anything arrived or loaded). */
  public ConfigSnapshot snapshot() {
    return current;
  }

  /** Adds a listener for the snapshots from now on. */
  public void addListener(ConfigListener listener) {
    listeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** The distributor the stream is open to, or null. */
  public SocketAddress connectedTo() {
    return connectedTo;
  }

  /** The last NACK's message (null when none was sent). */
  public String lastNack() {
    return lastNack;
  }

  /** Why the persisted snapshot was ignored at start (null when it was loaded or absent). */
  public String persistedProblem() {
    return persistedProblem;
  }

  public long acks() {
    return acks.get();
  }

  public long nacks() {
    return nacks.get();
  }

  /** Responses received over every stream. */
  public long responses() {
    return responses.get();
  }

  /** Resources received (upserts plus removed names) over every stream. */
  public long resourcesReceived() {
    return resourcesReceived.get();
  }

  /** Encoded bytes of the responses received over every stream (the messages on the wire, before framing). */
  public long bytesReceived() {
    return bytesReceived.get();
  }

  /** Streams opened so far (reconnects + 1). */
  public long connects() {
    return connects.get();
  }

  // ---- the stream; every method below runs on `context`

  private void connect() {
    if (closed) {
      return;
    }
    long gen = ++generation;
    SocketAddress endpoint = endpoints.get(nextEndpoint++ % endpoints.size());
    grpc.request(endpoint, ConfigDiscoveryGrpcClient.StreamConfig).onComplete(ar -> {
      if (gen != generation || closed) {
        if (ar.succeeded()) {
          ar.result().cancel();
        }
        return;
      }
      if (ar.failed()) {
        streamEnded(gen, endpoint, "connect failed: " + ar.cause().getMessage());
        return;
      }
      GrpcClientRequest<DeltaConfigRequest, DeltaConfigResponse> req = ar.result();
      stream = req;
      connects.incrementAndGet();
      req.response().onComplete(resp -> {
        if (resp.failed()) {
          streamEnded(gen, endpoint, resp.cause().getMessage());
          return;
        }
        GrpcClientResponse<DeltaConfigRequest, DeltaConfigResponse> response = resp.result();
        connectedTo = endpoint;
        response.handler(r -> {
          responses.incrementAndGet();
          resourcesReceived.addAndGet(r.getResourcesCount() + r.getRemovedResourcesCount());
          bytesReceived.addAndGet(r.getSerializedSize());
          if (gen == generation) {
            processing = processing.transform(x -> handle(gen, r));
          }
        });
        response.endHandler(v -> streamEnded(gen, endpoint, describe(response.status(), response.statusMessage())));
        response.exceptionHandler(e -> streamEnded(gen, endpoint, e.getMessage()));
      });
      req.exceptionHandler(e -> streamEnded(gen, endpoint, e.getMessage()));
      ConfigSnapshot held = current;
      Node me = Node.newBuilder().setId(node).setBuildVersion(buildVersion).build();
      for (ConfigType type : ConfigTypeUrls.TYPES) {
        req.write(DeltaConfigRequest.newBuilder().setNode(me).setTypeUrl(ConfigTypeUrls.of(type))
            .addResourceNamesSubscribe("*").putAllInitialResourceVersions(held.versions(type)).build());
      }
    });
  }

  private static String describe(GrpcStatus status, String message) {
    return "stream ended: " + (status == null ? "no status" : status.name()) + (message == null ? "" : " " + message);
  }

  private Future<Void> handle(long gen, DeltaConfigResponse response) {
    if (gen != generation || closed) {
      return Future.succeededFuture();
    }
    attempt = 0; // the distributor answered: the next outage starts the backoff afresh
    ConfigResponseValidator.Result checked = ConfigResponseValidator.validate(current, response);
    if (!checked.ok()) {
      nack(gen, response, checked.problem());
      return Future.succeededFuture();
    }
    ConfigSnapshot next = checked.next();
    return notifyListeners(next).transform(ar -> {
      if (gen != generation || closed) {
        return Future.succeededFuture();
      }
      if (ar.failed()) {
        nack(gen, response, "rejected by the node: " + ar.cause().getMessage());
        return Future.succeededFuture();
      }
      current = next;
      send(gen, DeltaConfigRequest.newBuilder().setTypeUrl(response.getTypeUrl())
          .setResponseNonce(response.getNonce()).build());
      acks.incrementAndGet();
      persist();
      return Future.succeededFuture();
    });
  }

  private Future<Void> notifyListeners(ConfigSnapshot next) {
    Future<Void> chain = Future.succeededFuture();
    for (ConfigListener l : listeners) {
      chain = chain.compose(v -> {
        try {
          Future<Void> f = l.onSnapshot(next);
          return f == null ? Future.succeededFuture() : f;
        } catch (RuntimeException e) {
          return Future.failedFuture(e);
        }
      });
    }
    return chain;
  }

  private void nack(long gen, DeltaConfigResponse response, String problem) {
    lastNack = problem;
    nacks.incrementAndGet();
    log.warn("rejecting config {} (nonce {}): {}", response.getTypeUrl(), response.getNonce(), problem);
    send(gen, DeltaConfigRequest.newBuilder().setTypeUrl(response.getTypeUrl()).setResponseNonce(response.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(GrpcStatus.INVALID_ARGUMENT.code).setMessage(problem))
        .build());
  }

  private void send(long gen, DeltaConfigRequest request) {
    if (gen == generation && stream != null) {
      stream.write(request);
    }
  }

  private void persist() {
    if (snapshotFile == null) {
      return;
    }
    context.executeBlocking(() -> {
      ConfigSnapshot latest = current; // a burst of ACKs writes the newest snapshot, in order
      SnapshotFile.write(snapshotFile, latest);
      return null;
    }, true).onFailure(e -> log.warn("persisting the config snapshot to {} failed: {}", snapshotFile, e.toString()));
  }

  private void streamEnded(long gen, SocketAddress endpoint, String why) {
    if (gen != generation || closed) {
      return;
    }
    generation++; // late callbacks of this stream are ignored from now on
    if (stream != null) {
      stream.cancel();
      stream = null;
    }
    connectedTo = null;
    long delay = nextDelayMillis();
    log.info("config stream to {} down ({}); reconnecting in {} ms", endpoint, why, delay);
    reconnectTimer = vertx.setTimer(delay, t -> {
      reconnectTimer = -1;
      connect();
    });
  }

  /** Exponential backoff with jitter: d = min(max, initial·2^attempt), delay uniform in [d/2, d]. */
  long nextDelayMillis() {
    long d = Math.min(maxBackoff.toMillis(), initialBackoff.toMillis() << Math.min(attempt, 20));
    attempt++;
    return Math.max(1, d / 2 + (long) (random.nextDouble() * (d - d / 2)));
  }

  /** Ends the stream and stops reconnecting; the persisted snapshot stays. */
  @Override
  public void close() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> {
      closed = true;
      if (reconnectTimer >= 0) {
        vertx.cancelTimer(reconnectTimer);
      }
      if (stream != null) {
        stream.cancel();
        stream = null;
      }
      connectedTo = null;
      grpc.close().onComplete(ar -> done.complete());
    });
  }
}
