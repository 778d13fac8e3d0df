package dev.lattice.dataplane.identity;

import com.google.protobuf.Message;
import dev.lattice.schemas.delegated.v1.DelegatedIdentityGrpcClient;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.spire.types.Selector;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.GrpcClientResponse;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's {@link WorkloadIdentitySource} in a node: it subscribes over the node agent's admin
 * socket (SPIRE's Delegated Identity API, {@code SubscribeToX509SVIDs} by selectors and
 * {@code SubscribeToX509Bundles}) for each workload of its node, and publishes what it holds as
 * {@link IdentitySnapshot}s: every SVID by SPIFFE ID and every trust bundle by trust domain name.
 *
 * <ul>
 *   <li>A rotation, a new or removed entry, or a bundle change is a new snapshot (new handshakes use
 *       it; nothing is torn down).
 *   <li>When the agent goes away (restart, crash) every stream is opened again with exponential
 *       backoff ({@link Settings#initialBackoff()} doubling up to {@link Settings#maxBackoff()}, reset
 *       by the next message); meanwhile the last SVIDs keep serving until they expire ({@link Clock}),
 *       then they are dropped from the snapshot.
 *   <li>A refusal (PERMISSION_DENIED: this process is not an authorized delegate; INVALID_ARGUMENT;
 *       UNIMPLEMENTED) fails {@link #firstSnapshot()} with the agent's message, and is retried at the
 *       maximum backoff (the agent's config may be fixed without restarting the proxy).
 *   <li>A message that does not check out (bad DER, a leaf that does not name the SPIFFE ID, a key that
 *       is not the leaf's) is refused whole and logged; the previous SVIDs of that workload stay.
 * </ul>
 *
 * <p>Runs on one Vert.x context (an event loop); certificates and keys are parsed and checked on a
 * worker thread, in order. Listeners are called on that context and must not block. Thread-safe. The
 * creator closes it; closing does not close the Vert.x instance.
 */
public final class DelegatedIdentityClient implements WorkloadIdentitySource {

  private static final Logger LOG = LoggerFactory.getLogger(DelegatedIdentityClient.class);

  /**
   * @param socket the node agent's admin socket ({@code agent.delegated.socket})
   * @param initialBackoff the first wait before opening a stream again
   * @param maxBackoff the longest wait, and the wait after a refusal
   * @param expiryCheck how often held SVIDs are checked for expiry while the agent is away
   */
  public record Settings(Path socket, Duration initialBackoff, Duration maxBackoff, Duration expiryCheck) {
    public Settings {
      Objects.requireNonNull(socket, "socket");
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff: " + initialBackoff + ".." + maxBackoff
            + " (expected: 0 < initial <= max)");
      }
    }

    /** 100 ms doubling to 5 s; expiry checked every second. */
    public static Settings defaults(Path socket) {
      return new Settings(socket, Duration.ofMillis(100), Duration.ofSeconds(5), Duration.ofSeconds(1));
    }
  }

  private final Vertx vertx;
  private final Context context;
  private final Settings settings;
  private final Clock clock;
  private final GrpcClient grpc;
  private final SocketAddress address;
  private final List<Consumer<IdentitySnapshot>> listeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<IdentitySnapshot> first = new CompletableFuture<>();
  private final AtomicInteger reconnects = new AtomicInteger();
  // confined to the context
  private final Map<WorkloadSelectors, Stream<SubscribeToX509SVIDsRequest, SubscribeToX509SVIDsResponse, List<HeldSvid>>> workloads =
      new LinkedHashMap<>();
  private final Map<WorkloadSelectors, List<HeldSvid>> held = new HashMap<>();
  private Stream<SubscribeToX509BundlesRequest, SubscribeToX509BundlesResponse, Map<String, List<X509Certificate>>> bundleStream;
  private Map<String, List<X509Certificate>> bundles;
  private long expiryTimer = -1;
  private boolean closed;
  private volatile IdentitySnapshot current = IdentitySnapshot.empty();

  private DelegatedIdentityClient(Vertx vertx, Settings settings, Clock clock) {
    this.vertx = vertx;
    this.context = vertx.getOrCreateContext();
    this.settings = settings;
    this.clock = clock;
    this.grpc = GrpcClient.client(vertx);
    this.address = SocketAddress.domainSocketAddress(settings.socket().toAbsolutePath().toString());
  }

  /**
   * Starts subscribing for {@code workloads} (more or fewer later with {@link #watch}); returns at once.
   * Use {@link #firstSnapshot()} to wait for the first SVIDs and bundles.
   */
  public static DelegatedIdentityClient start(Vertx vertx, Settings settings, Clock clock,
      Collection<WorkloadSelectors> workloads) {
    DelegatedIdentityClient client = new DelegatedIdentityClient(vertx, settings, clock);
    Set<WorkloadSelectors> initial = Set.copyOf(workloads);
    client.context.runOnContext(v -> {
      client.bundleStream = client.new Stream<>("SubscribeToX509Bundles", DelegatedIdentityGrpcClient.SubscribeToX509Bundles,
          SubscribeToX509BundlesRequest.getDefaultInstance(), DelegatedMessages::bundles, b -> {
            client.bundles = b;
            client.publish();
          });
      client.bundleStream.open();
      client.watchOnContext(initial);
      client.expiryTimer = vertx.setPeriodic(settings.expiryCheck().toMillis(), id -> client.publish());
    });
    return client;
  }

  /** Replaces the set of workloads subscribed for (e.g. when the registry changes); returns at once. */
  public void watch(Collection<WorkloadSelectors> next) {
    Set<WorkloadSelectors> copy = Set.copyOf(next);
    context.runOnContext(v -> watchOnContext(copy));
  }

  private void watchOnContext(Set<WorkloadSelectors> next) {
    if (closed) {
      return;
    }
    boolean removed = workloads.keySet().removeIf(w -> {
      if (next.contains(w)) {
        return false;
      }
      workloads.get(w).close();
      held.remove(w);
      return true;
    });
    for (WorkloadSelectors w : next) {
      if (!workloads.containsKey(w)) {
        SubscribeToX509SVIDsRequest.Builder request = SubscribeToX509SVIDsRequest.newBuilder();
        for (int i = 0; i < w.selectors().size(); i++) {
          request.addSelectors(Selector.newBuilder().setType(w.type(i)).setValue(w.value(i)));
        }
        Stream<SubscribeToX509SVIDsRequest, SubscribeToX509SVIDsResponse, List<HeldSvid>> stream = new Stream<>("SubscribeToX509SVIDs(" + w + ")",
            DelegatedIdentityGrpcClient.SubscribeToX509SVIDs, request.build(), DelegatedMessages::svids, svids -> {
              held.put(w, svids);
              publish();
            });
        workloads.put(w, stream);
        stream.open();
      }
    }
    if (removed) {
      publish();
    }
  }

  @Override
  public IdentitySnapshot current() {
    return current;
  }

  /**
   * Completes once the bundles and every workload subscribed at that time have answered (the snapshot
   * holds the bundles and whatever SVIDs the agent had); fails on a refusal by the agent or on close.
   */
  @Override
  public CompletionStage<IdentitySnapshot> firstSnapshot() {
    return first.minimalCompletionStage();
  }

  @Override
  public void addListener(Consumer<IdentitySnapshot> listener) {
    listeners.add(listener);
  }

  /** How many times a stream was opened again after it ended (for tests and meters). */
  public int reconnects() {
    return reconnects.get();
  }

  /** Builds the snapshot from what the streams hold, drops expired SVIDs, publishes it if it changed. */
  private void publish() {
    if (closed || bundles == null) {
      return;
    }
    Instant now = clock.instant();
    Map<String, HeldSvid> svids = new HashMap<>();
    for (List<HeldSvid> list : held.values()) {
      for (HeldSvid svid : list) {
        if (now.isBefore(svid.notAfter())) {
          // two workloads may share an identity: keep the longer-lived SVID
          svids.merge(svid.spiffeId(), svid, (a, b) -> a.notAfter().isAfter(b.notAfter()) ? a : b);
        }
      }
    }
    IdentitySnapshot previous = current;
    if (!svids.equals(previous.svids()) || !bundles.equals(previous.bundles())) {
      IdentitySnapshot next = new IdentitySnapshot(svids, bundles, previous.revision() + 1);
      current = next;
      LOG.info("identity snapshot {}: {} SVID(s) {}, bundles {}", next.revision(), svids.size(),
          new java.util.TreeSet<>(svids.keySet()), new java.util.TreeSet<>(bundles.keySet()));
      for (Consumer<IdentitySnapshot> listener : listeners) {
        try {
          listener.accept(next);
        } catch (RuntimeException e) {
          LOG.error("identity snapshot listener failed", e);
        }
      }
    }
    if (!first.isDone() && bundleStream.answered && workloads.values().stream().allMatch(s -> s.answered)) {
      first.complete(current);
    }
  }

  @Override
  public void close() {
    context.runOnContext(v -> {
      if (closed) {
        return;
      }
      closed = true;
      if (expiryTimer >= 0) {
        vertx.cancelTimer(expiryTimer);
      }
      if (bundleStream != null) {
        bundleStream.close();
      }
      workloads.values().forEach(Stream::close);
      workloads.clear();
      first.completeExceptionally(new IllegalStateException("the delegated identity client was closed"));
      grpc.close();
    });
  }

  /**
   * One server stream, opened again with backoff whenever it ends. Confined to the context.
   *
   * @param <Q> the request message
   * @param <R> the response message
   * @param <V> what a response is parsed into (on a worker thread)
   */
  private final class Stream<Q extends Message, R extends Message, V> {
    private final String name;
    private final ServiceMethod<R, Q> method;
    private final Q request;
    private final Function<R, V> parse;
    private final Consumer<V> apply;
    private Duration backoff = settings.initialBackoff();
    private GrpcClientRequest<Q, R> call;
    private long generation;
    private long timer = -1;
    private boolean answered;
    private boolean closed;

    Stream(String name, ServiceMethod<R, Q> method, Q request, Function<R, V> parse, Consumer<V> apply) {
      this.name = name;
      this.method = method;
      this.request = request;
      this.parse = parse;
      this.apply = apply;
    }

    void open() {
      long gen = ++generation;
      grpc.request(address, method).onComplete(ar -> {
        if (closed || gen != generation) {
          if (ar.succeeded()) {
            ar.result().cancel();
          }
          return;
        }
        if (ar.failed()) {
          ended(gen, null, ar.cause().toString());
          return;
        }
        GrpcClientRequest<Q, R> opened = ar.result();
        call = opened;
        opened.end(request);
        opened.response().onComplete(response -> {
          if (response.failed()) {
            Throwable err = response.cause();
            GrpcStatus status = err instanceof InvalidStatusException invalid ? invalid.actualStatus() : null;
            ended(gen, status, err.getMessage());
            return;
          }
          GrpcClientResponse<Q, R> stream = response.result();
          stream.handler(message -> onMessage(gen, message));
          stream.endHandler(v -> ended(gen, stream.status(), statusMessage(stream)));
          stream.exceptionHandler(err -> ended(gen, null, err.toString()));
        });
      });
    }

    private void onMessage(long gen, R message) {
      vertx.<V>executeBlocking(() -> parse.apply(message), true).onComplete(parsed -> {
        if (closed || gen != generation) {
          return;
        }
        if (parsed.failed()) {
          LOG.warn("{}: message refused, keeping the previous one: {}", name, parsed.cause().getMessage());
          return;
        }
        backoff = settings.initialBackoff();
        answered = true;
        apply.accept(parsed.result());
      });
    }

    private void ended(long gen, GrpcStatus status, String message) {
      if (closed || gen != generation || timer >= 0) {
        return;
      }
      generation++;
      call = null;
      Duration wait;
      if (status == GrpcStatus.PERMISSION_DENIED || status == GrpcStatus.INVALID_ARGUMENT
          || status == GrpcStatus.UNIMPLEMENTED || status == GrpcStatus.UNAUTHENTICATED) {
        LOG.error("{} refused by the node agent: {} {}; retrying every {}", name, status.name(), message, settings.maxBackoff());
        first.completeExceptionally(new IllegalStateException(
            name + " refused by the node agent at " + settings.socket() + ": " + status.name() + " " + message));
        wait = settings.maxBackoff();
      } else {
        LOG.warn("{} ended ({}{}); opening it again in {}", name, status == null ? "" : status.name() + " ", message, backoff);
        wait = backoff;
        backoff = backoff.multipliedBy(2).compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff()
            : backoff.multipliedBy(2);
      }
      timer = vertx.setTimer(Math.max(1, wait.toMillis()), id -> {
        timer = -1;
        if (!closed) {
          reconnects.incrementAndGet();
          open();
        }
      });
    }

    void close() {
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
        timer = -1;
      }
      if (call != null) {
        try {
          call.cancel();
        } catch (RuntimeException alreadyEnded) {
          LOG.debug("{}: cancel after end", name);
        }
        call = null;
      }
    }
  }

  private static String statusMessage(GrpcClientResponse<?, ?> response) {
    String message = response.statusMessage();
    if (message == null && response.trailers() != null) {
      String encoded = response.trailers().get("grpc-message");
      message = encoded == null ? null
          : java.net.URLDecoder.decode(encoded.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    }
    return message == null ? "" : message;
  }
}
