package dev.lattice.configclient.tls;

import dev.lattice.schemas.agent.v1.NodeIdentityGrpcClient;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDRequest;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data plane's node identity from the node agent: subscribes to
 * {@code lattice.agent.v1.NodeIdentity/SubscribeToNodeX509SVID} on the agent's admin Unix socket and keeps
 * a {@link SvidKeyManager} (the client certificate for the config stream) and the trust anchors (to
 * verify the distributor) current on every rotation, with no reconnect of the config stream needed.
 *
 * <p>Each message is checked ({@link NodeSvid#parse}): a message that fails (wrong trust domain, not a
 * node ID, key not matching the leaf, chain not verifying to the bundle) is logged with its reason and
 * counted, and the SVID held stays. When the stream ends or the agent is away it resubscribes with
 * exponential backoff (doubling from {@code initialBackoff} to {@code maxBackoff}).
 *
 * <p>The Vert.x instance must run a native transport (Unix sockets). Thread-safe; the owner calls
 * {@link #close()}.
 */
public final class NodeSvidClient implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(NodeSvidClient.class);

  private final Vertx vertx;
  private final SocketAddress socket;
  private final TrustDomain trustDomain;
  private final java.time.Clock clock;
  private final Duration initialBackoff;
  private final Duration maxBackoff;
  private final GrpcClient grpc;
  private final SvidKeyManager keys = new SvidKeyManager();
  private final List<Consumer<NodeSvid>> listeners = new CopyOnWriteArrayList<>();
  private final Promise<NodeSvid> first = Promise.promise();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private final AtomicLong subscriptions = new AtomicLong();
  private volatile NodeSvid current;
  private GrpcClientRequest<SubscribeToNodeX509SVIDRequest, SubscribeToNodeX509SVIDResponse> stream;
  private long generation;
  private int failures;
  private long retryTimer = -1;
  private boolean closed;

  /** @param clock the time a received chain must be valid at */
  public NodeSvidClient(Vertx vertx, Path socket, TrustDomain trustDomain, java.time.Clock clock,
      Duration initialBackoff, Duration maxBackoff) {
    if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException("backoff: initial " + initialBackoff + ", max " + maxBackoff
          + " (expected: 0 < initial <= max)");
    }
    this.vertx = vertx;
    this.socket = SocketAddress.domainSocketAddress(socket.toAbsolutePath().toString());
    this.trustDomain = trustDomain;
    this.clock = clock;
    this.initialBackoff = initialBackoff;
    this.maxBackoff = maxBackoff;
    this.grpc = GrpcClient.client(vertx);
  }

  /** Subscribes; the future completes with the first valid node SVID (it never fails; it waits). */
  public Future<NodeSvid> start() {
    vertx.runOnContext(v -> subscribe());
    return first.future();
  }

  /** The key manager presenting the current node SVID (empty until the first one). */
  public SvidKeyManager keyManager() {
    return keys;
  }

  /** The trust anchors of the current SVID's bundle (empty until the first one). */
  public List<java.security.cert.X509Certificate> trustAnchors() {
    NodeSvid c = current;
    return c == null ? List.of() : c.bundle();
  }

  public Optional<NodeSvid> current() {
    return Optional.ofNullable(current);
  }

  /** Calls {@code listener} with every new valid node SVID (after the key manager has it). */
  public Runnable onUpdate(Consumer<NodeSvid> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Messages received / refused as invalid / subscriptions opened (for meters and tests). */
  public long received() {
    return received.get();
  }

  public long rejected() {
    return rejected.get();
  }

  public long subscriptions() {
    return subscriptions.get();
  }

  private synchronized void subscribe() {
    if (closed) {
      return;
    }
    retryTimer = -1;
    long gen = ++generation;
    grpc.request(socket, NodeIdentityGrpcClient.SubscribeToNodeX509SVID).onComplete(ar -> {
      synchronized (this) {
        if (gen != generation || closed) {
          if (ar.succeeded()) {
            ar.result().cancel();
          }
          return;
        }
        if (ar.failed()) {
          ended(gen, "cannot connect to the agent's admin socket " + socket.path() + ": " + ar.cause().getMessage());
          return;
        }
        stream = ar.result();
      }
      GrpcClientRequest<SubscribeToNodeX509SVIDRequest, SubscribeToNodeX509SVIDResponse> req = ar.result();
      subscriptions.incrementAndGet();
      req.exceptionHandler(e -> ended(gen, e.getMessage()));
      req.end(SubscribeToNodeX509SVIDRequest.getDefaultInstance());
      req.response().onComplete(resp -> {
        if (resp.failed()) {
          ended(gen, resp.cause().getMessage());
          return;
        }
        var response = resp.result();
        response.handler(m -> accept(gen, m));
        response.endHandler(v -> ended(gen, "stream ended: " + response.status()
            + (response.statusMessage() == null ? "" : " " + response.statusMessage())));
        response.exceptionHandler(e -> ended(gen, e.getMessage()));
      });
    });
  }

  private void accept(long gen, SubscribeToNodeX509SVIDResponse message) {
    synchronized (this) {
      if (gen != generation || closed) {
        return;
      }
    }
    received.incrementAndGet();
    NodeSvid svid;
    try {
      svid = NodeSvid.parse(message, trustDomain, clock.instant());
    } catch (IllegalArgumentException e) {
      rejected.incrementAndGet();
      LOG.error("node SVID from the agent refused, keeping the one held ({}): {}",
          current == null ? "none" : current.id() + " until " + current.expiresAt(), e.getMessage());
      return;
    }
    keys.update(svid.key(), svid.chain());
    current = svid;
    synchronized (this) {
      failures = 0;
    }
    LOG.info("node SVID {} until {} (serial {})", svid.id(), svid.expiresAt(),
        svid.chain().get(0).getSerialNumber().toString(16));
    first.tryComplete(svid);
    listeners.forEach(l -> l.accept(svid));
  }

  private synchronized void ended(long gen, String why) {
    if (gen != generation || closed) {
      return;
    }
    generation++; // late events of this stream are ignored from now on
    stream = null;
    failures++;
    long wait = Math.min(maxBackoff.toMillis(),
        initialBackoff.toMillis() << Math.min(20, failures - 1));
    if (failures == 1) {
      LOG.warn("node SVID stream: {}; resubscribing in {} ms (backing off up to {})", why, wait, maxBackoff);
    } else {
      LOG.debug("node SVID stream: {} ({} in a row); resubscribing in {} ms", why, failures, wait);
    }
    retryTimer = vertx.setTimer(Math.max(1, wait), id -> subscribe());
  }

  /** Ends the stream and stops resubscribing; the key manager keeps the last SVID. */
  @Override
  public void close() {
    GrpcClientRequest<?, ?> s;
    synchronized (this) {
      closed = true;
      generation++;
      if (retryTimer >= 0) {
        vertx.cancelTimer(retryTimer);
      }
      s = stream;
      stream = null;
    }
    if (s != null) {
      s.cancel();
    }
    grpc.close();
  }
}
