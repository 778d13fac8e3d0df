package dev.lattice.identity.agent.delegated;

import com.google.protobuf.Message;
import dev.lattice.identity.agent.attestor.CallerProcess;
import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.WorkloadAttestor;
import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.svid.AgentState;
import dev.lattice.identity.agent.svid.SvidManager;
import dev.lattice.identity.agent.svid.WorkloadX509Svid;
import dev.lattice.identity.agent.workload.AuthorityRewriter;
import dev.lattice.schemas.agent.v1.NodeIdentityGrpcService;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDRequest;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse;
import dev.lattice.schemas.delegated.v1.DelegatedIdentityGrpcService;
import dev.lattice.schemas.delegated.v1.FetchJWTSVIDsRequest;
import dev.lattice.schemas.delegated.v1.FetchJWTSVIDsResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToJWTBundlesRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToJWTBundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsRequest;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.spire.types.JWTSVID;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AttributeKey;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.net.impl.ConnectionBase;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServerRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SPIRE's Delegated Identity API on the node agent's admin Unix socket: the node's data plane asks for
 * the SVIDs of the workloads it proxies, by their selectors, and for the trust bundles, and gets a new
 * message on every change (rotation, a new or removed entry, a bundle update).
 *
 * <p>Served: {@code SubscribeToX509SVIDs}, {@code SubscribeToX509Bundles}, {@code FetchJWTSVIDs},
 * {@code SubscribeToJWTBundles}. The by-pid variants answer UNIMPLEMENTED. With a {@link DataPlaneNodeSvid}, also
 * Lattice's {@code lattice.agent.v1.NodeIdentity/SubscribeToNodeX509SVID}: the node SVID (own key) the data
 * plane presents to the config distributor, streamed again on every rotation. Every call is authorized by
 * {@link DelegatedIdentitySettings}: the connection's peer uid (epoll peer credentials) or the SPIFFE ID
 * the caller's own process attests to; anyone else gets PERMISSION_DENIED. A caller authorized by
 * SPIFFE ID is checked again on every change and its streams end with PERMISSION_DENIED once its entry
 * is gone. Keys in the answers were made by this agent and cross only this local socket.
 *
 * <p>The Vert.x instance must use {@code Transport.EPOLL} (peer credentials). Thread-safe. The owner
 * closes it with {@link #close()}, which also removes the socket file.
 */
public final class DelegatedIdentityServer {

  private static final Logger LOG = LoggerFactory.getLogger(DelegatedIdentityServer.class);
  private static final AttributeKey<PeerCredentials> PEER = AttributeKey.valueOf("lattice.delegated.peer");
  /** Owner and group may connect; who the caller is then decides whether it is served. */
  private static final String SOCKET_MODE = "rwxrwx---";

  private final Vertx vertx;
  private final SvidManager svids;
  private final List<WorkloadAttestor> attestors;
  private final ProcessTable processes;
  private final DelegatedIdentitySettings settings;
  private final DataPlaneNodeSvid nodeSvid;
  private final AtomicInteger openStreams = new AtomicInteger();
  private HttpServer server;
  private Path socket;

  public DelegatedIdentityServer(Vertx vertx, SvidManager svids, List<WorkloadAttestor> attestors,
      ProcessTable processes, DelegatedIdentitySettings settings) {
    this(vertx, svids, attestors, processes, settings, null);
  }

  /** @param nodeSvid the data plane's node SVID to serve on NodeIdentity (null: that service is not served) */
  public DelegatedIdentityServer(Vertx vertx, SvidManager svids, List<WorkloadAttestor> attestors,
      ProcessTable processes, DelegatedIdentitySettings settings, DataPlaneNodeSvid nodeSvid) {
    this.nodeSvid = nodeSvid;
    this.vertx = vertx;
    this.svids = svids;
    this.attestors = List.copyOf(attestors);
    this.processes = processes;
    this.settings = settings;
  }

  /** Open subscription streams now (for the agent's meters). */
  public int streamCount() {
    return openStreams.get();
  }

  /** Listens on the settings' socket (a stale socket file is replaced; the file is made 0770). */
  public Future<Void> listen() {
    Path absolute = settings.socket().toAbsolutePath();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(DelegatedIdentityGrpcService.SubscribeToX509SVIDs, this::subscribeToX509Svids);
    grpc.callHandler(DelegatedIdentityGrpcService.SubscribeToX509Bundles, this::subscribeToX509Bundles);
    grpc.callHandler(DelegatedIdentityGrpcService.SubscribeToJWTBundles, this::subscribeToJwtBundles);
    grpc.callHandler(DelegatedIdentityGrpcService.FetchJWTSVIDs, this::fetchJwtSvids);
    if (nodeSvid != null) {
      grpc.callHandler(NodeIdentityGrpcService.SubscribeToNodeX509SVID, this::subscribeToNodeX509Svid);
    }
    HttpServer http = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true))
        .connectionHandler(this::onConnection)
        .requestHandler(grpc);
    return vertx.executeBlocking(() -> {
      Files.createDirectories(absolute.getParent());
      Files.deleteIfExists(absolute);
      return null;
    }, false)
        .compose(v -> http.listen(SocketAddress.domainSocketAddress(absolute.toString())))
        .compose(s -> vertx.executeBlocking(() -> {
          Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString(SOCKET_MODE));
          return null;
        }, false))
        .onSuccess(v -> {
          synchronized (this) {
            server = http;
            socket = absolute;
          }
          LOG.info("Delegated Identity API listening on unix:{} (authorized uids {}, SPIFFE IDs {})", absolute,
              settings.authorizedUids(), settings.authorizedSpiffeIds());
        })
        .mapEmpty();
  }

  /** Stops listening, closes connections (ending every stream) and deletes the socket file. */
  public Future<Void> close() {
    HttpServer s;
    Path p;
    synchronized (this) {
      s = server;
      p = socket;
      server = null;
    }
    if (s == null) {
      return Future.succeededFuture();
    }
    return s.close().compose(v -> vertx.executeBlocking(() -> Files.deleteIfExists(p), false)).mapEmpty();
  }

  private void onConnection(HttpConnection connection) {
    Channel channel = ((ConnectionBase) connection).channel();
    AuthorityRewriter.install(channel);
    if (channel instanceof EpollDomainSocketChannel unix) {
      try {
        channel.attr(PEER).set(unix.peerCredentials());
      } catch (IOException e) {
        LOG.warn("cannot read the peer credentials of a Delegated Identity API connection: {}", e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- authorization

  private Future<Delegate> authorize(GrpcServerRequest<?, ?> request) {
    PeerCredentials peer = ((ConnectionBase) request.connection()).channel().attr(PEER).get();
    if (peer == null) {
      return Future.failedFuture(new DelegatedIdentityException(GrpcStatus.UNAUTHENTICATED,
          "the caller's peer credentials are unavailable (expected: a Unix socket on the epoll transport)"));
    }
    if (settings.authorizedUids().contains(peer.uid())) {
      return Future.succeededFuture(new Delegate(peer.uid(), peer.pid(), Optional.empty()));
    }
    if (settings.authorizedSpiffeIds().isEmpty()) {
      return Future.failedFuture(notAuthorized(peer.uid(), peer.pid()));
    }
    int[] gids = peer.gids();
    List<Integer> groups = Arrays.stream(gids == null ? new int[0] : gids).boxed().toList();
    return vertx.executeBlocking(() -> processes.startTime(peer.pid()), false)
        .compose(start -> {
          if (start.isEmpty()) {
            return Future.failedFuture(notAuthorized(peer.uid(), peer.pid()));
          }
          CallerProcess process = new CallerProcess(peer.pid(), peer.uid(), groups, start.getAsLong());
          List<Future<Set<Selector>>> found = attestors.stream().map(a -> a.attest(process)).toList();
          return Future.all(found).compose(all -> {
            Set<Selector> selectors = new HashSet<>();
            found.forEach(f -> selectors.addAll(f.result()));
            return Delegate.authorizedIdOf(selectors, svids.state(), settings.authorizedSpiffeIds()).isPresent()
                ? Future.succeededFuture(new Delegate(peer.uid(), peer.pid(), Optional.of(selectors)))
                : Future.failedFuture(notAuthorized(peer.uid(), peer.pid()));
          });
        });
  }

  private static DelegatedIdentityException notAuthorized(int uid, int pid) {
    LOG.warn("Delegated Identity API call refused: uid {} pid {} is not an authorized delegate", uid, pid);
    return new DelegatedIdentityException(GrpcStatus.PERMISSION_DENIED, "caller (uid " + uid + ", pid " + pid
        + ") is not an authorized delegate (expected: a uid in agent.delegated.authorized.uids or a SPIFFE ID "
        + "in agent.delegated.authorized.spiffe.ids)");
  }

  /** The request's selectors, validated: at least one, each a valid type and value. */
  static Set<Selector> selectorsOf(List<dev.lattice.schemas.spire.types.Selector> requested) {
    if (requested.isEmpty()) {
      throw new DelegatedIdentityException(GrpcStatus.INVALID_ARGUMENT,
          "selectors: none (expected: at least one, e.g. type unix, value uid:1000)");
    }
    Set<Selector> selectors = new LinkedHashSet<>();
    for (dev.lattice.schemas.spire.types.Selector s : requested) {
      try {
        selectors.add(new Selector(s.getType(), s.getValue()));
      } catch (IllegalArgumentException e) {
        throw new DelegatedIdentityException(GrpcStatus.INVALID_ARGUMENT, "selectors: " + e.getMessage());
      }
    }
    return selectors;
  }

  private static void fail(GrpcServerRequest<?, ?> request, Throwable err) {
    GrpcStatus status;
    String message;
    if (err instanceof DelegatedIdentityException d) {
      status = d.status();
      message = d.getMessage();
      LOG.debug("{} refused: {} {}", request.methodName(), status, message);
    } else {
      status = GrpcStatus.UNAVAILABLE;
      message = "the agent could not serve the call: " + err.getMessage();
      LOG.warn("{} failed: {}", request.methodName(), err.toString());
    }
    try {
      request.response().status(status).statusMessage(message).end();
    } catch (IllegalStateException alreadyEnded) {
      LOG.debug("{} already ended", request.methodName());
    }
  }

  // ---------------------------------------------------------------- calls

  private void subscribeToX509Svids(
      GrpcServerRequest<SubscribeToX509SVIDsRequest, SubscribeToX509SVIDsResponse> request) {
    request.last()
        .compose(message -> authorize(request).map(delegate -> {
          Set<Selector> selectors = selectorsOf(message.getSelectorsList());
          stream(request, delegate, state -> {
            // wait for the first snapshot of this node's entries: "nothing matches" must mean it
            if (state.snapshotRevision() < 0) {
              return null;
            }
            List<WorkloadX509Svid> held = state.svidsMatching(selectors);
            if (held.isEmpty() && !state.entriesMatching(selectors).isEmpty()) {
              // signing in progress (e.g. right after an agent restart): an empty set now would read as
              // "this workload has no identity" and make the data plane drop the SVIDs it still holds
              return null;
            }
            return new Versioned<>(held, () -> DelegatedResponses.x509Svids(held));
          });
          return null;
        }))
        .onFailure(err -> fail(request, err));
  }

  private void subscribeToX509Bundles(
      GrpcServerRequest<SubscribeToX509BundlesRequest, SubscribeToX509BundlesResponse> request) {
    request.last()
        .compose(message -> authorize(request))
        .onSuccess(delegate -> stream(request, delegate, bundles(DelegatedResponses::x509Bundles)))
        .onFailure(err -> fail(request, err));
  }

  private void subscribeToJwtBundles(
      GrpcServerRequest<SubscribeToJWTBundlesRequest, SubscribeToJWTBundlesResponse> request) {
    request.last()
        .compose(message -> authorize(request))
        .onSuccess(delegate -> stream(request, delegate, bundles(DelegatedResponses::jwtBundles)))
        .onFailure(err -> fail(request, err));
  }

  private void subscribeToNodeX509Svid(
      GrpcServerRequest<SubscribeToNodeX509SVIDRequest, SubscribeToNodeX509SVIDResponse> request) {
    request.last()
        .compose(message -> authorize(request))
        .onSuccess(delegate -> stream(request, delegate, state -> {
          var held = nodeSvid.current();
          var bundle = state.bundle();
          // nothing to send until both exist: the proxy cannot use an SVID it cannot verify the peer with
          if (held.isEmpty() || bundle.isEmpty()) {
            return null;
          }
          return new Versioned<>(List.of(held.get(), bundle.get()),
              () -> DelegatedResponses.nodeSvid(held.get(), bundle.get()));
        }, changed -> nodeSvid.addListener(c -> changed.run())))
        .onFailure(err -> fail(request, err));
  }

  private static <R> Function<AgentState, Versioned<R>> bundles(
      Function<List<dev.lattice.identity.agent.authority.TrustDomainBundle>, R> build) {
    return state -> {
      var all = DelegatedResponses.bundlesOf(state);
      return all.isEmpty() ? null : new Versioned<>(all, () -> build.apply(all));
    };
  }

  private void fetchJwtSvids(GrpcServerRequest<FetchJWTSVIDsRequest, FetchJWTSVIDsResponse> request) {
    request.last()
        .compose(message -> authorize(request).compose(delegate -> {
          if (message.getAudienceCount() == 0 || message.getAudienceList().stream().anyMatch(String::isBlank)) {
            return Future.failedFuture(new DelegatedIdentityException(GrpcStatus.INVALID_ARGUMENT,
                "audience: none or empty (expected: at least one non-empty audience)"));
          }
          Set<Selector> selectors = selectorsOf(message.getSelectorsList());
          {
            List<AgentEntry> entries = svids.state().entriesMatching(selectors);
            List<Future<JWTSVID>> tokens = entries.stream()
                .map(e -> svids.jwtSvid(e, message.getAudienceList())
                    .map(t -> DelegatedResponses.jwtSvid(t, e.hint())))
                .toList();
            return Future.all(tokens).map(all -> FetchJWTSVIDsResponse.newBuilder()
                .addAllSvids(tokens.stream().map(Future::result).toList()).build());
          }
        }))
        .onSuccess(response -> request.response().end(response))
        .onFailure(err -> fail(request, err));
  }

  // ---------------------------------------------------------------- streams

  /** A response and what it was built from: an equal {@code basis} means an equal response. */
  private record Versioned<R>(Object basis, java.util.function.Supplier<R> response) {}

  /**
   * Runs a server stream: sends the view of the current state (once it is not null) and again on every
   * state change that alters it, until the client goes away, the server closes, or the caller is no
   * longer authorized. A client that reads slowly gets only the latest view when it catches up.
   */
  private <Req, Resp extends Message> void stream(GrpcServerRequest<Req, Resp> request, Delegate delegate,
      Function<AgentState, Versioned<Resp>> view) {
    stream(request, delegate, view, null);
  }

  /** @param alsoOn registers a callback for changes the view reads outside the agent state; returns its removal */
  private <Req, Resp extends Message> void stream(GrpcServerRequest<Req, Resp> request, Delegate delegate,
      Function<AgentState, Versioned<Resp>> view, Function<Runnable, Runnable> alsoOn) {
    Context context = vertx.getOrCreateContext();
    Channel channel = ((ConnectionBase) request.connection()).channel();
    Subscription<Req, Resp> subscription = new Subscription<>(request, delegate, view);
    Runnable unsubscribeState = svids.addListener(state -> context.runOnContext(v -> subscription.offer(state)));
    Runnable unsubscribeOther = alsoOn == null ? () -> { }
        : alsoOn.apply(() -> context.runOnContext(v -> subscription.offer(svids.state())));
    Runnable unsubscribe = () -> {
      unsubscribeState.run();
      unsubscribeOther.run();
    };
    io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<? super Void>> onClose =
        f -> context.runOnContext(v -> subscription.end());
    channel.closeFuture().addListener(onClose);
    openStreams.incrementAndGet();
    subscription.onEnd = () -> {
      unsubscribe.run();
      channel.closeFuture().removeListener(onClose);
      openStreams.decrementAndGet();
    };
    request.exceptionHandler(err -> subscription.end());
    request.response().exceptionHandler(err -> subscription.end());
    request.response().drainHandler(v -> subscription.send());
    LOG.info("{} subscribed: {}", delegate, request.methodName());
    subscription.offer(svids.state());
  }

  /** One open stream; confined to its context. */
  private final class Subscription<Req, Resp extends Message> {
    private final GrpcServerRequest<Req, Resp> request;
    private final Delegate delegate;
    private final Function<AgentState, Versioned<Resp>> view;
    private Runnable onEnd;
    private AgentState latest;
    private Object sentBasis;
    private boolean ended;

    Subscription(GrpcServerRequest<Req, Resp> request, Delegate delegate,
        Function<AgentState, Versioned<Resp>> view) {
      this.request = request;
      this.delegate = delegate;
      this.view = view;
    }

    void offer(AgentState state) {
      if (ended || (latest != null && state.version() < latest.version())) {
        return;
      }
      latest = state;
      send();
    }

    void send() {
      if (ended || latest == null) {
        return;
      }
      if (!delegate.stillAuthorized(latest, settings.authorizedSpiffeIds())) {
        LOG.warn("{} is no longer an authorized delegate; ending {}", delegate, request.methodName());
        fail(request, new DelegatedIdentityException(GrpcStatus.PERMISSION_DENIED,
            "the caller's entry with an authorized SPIFFE ID is gone"));
        end();
        return;
      }
      if (request.response().writeQueueFull()) {
        return; // the drain handler sends the latest view
      }
      Versioned<Resp> next = view.apply(latest);
      if (next == null || Objects.equals(next.basis(), sentBasis)) {
        return;
      }
      sentBasis = next.basis();
      request.response().write(next.response().get()).onFailure(err -> end());
    }

    void end() {
      if (!ended) {
        ended = true;
        if (onEnd != null) {
          onEnd.run();
        }
      }
    }
  }
}
