package dev.lattice.identity.agent.workload;

import com.google.protobuf.Message;
import dev.lattice.identity.agent.attestor.CallerProcess;
import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.WorkloadAttestor;
import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import dev.lattice.identity.agent.svid.AgentState;
import dev.lattice.identity.agent.svid.SvidManager;
import dev.lattice.identity.agent.svid.WorkloadX509Svid;
import dev.lattice.schemas.workload.JWTBundlesRequest;
import dev.lattice.schemas.workload.JWTBundlesResponse;
import dev.lattice.schemas.workload.JWTSVID;
import dev.lattice.schemas.workload.JWTSVIDRequest;
import dev.lattice.schemas.workload.JWTSVIDResponse;
import dev.lattice.schemas.workload.SpiffeWorkloadAPIGrpcService;
import dev.lattice.schemas.workload.ValidateJWTSVIDRequest;
import dev.lattice.schemas.workload.ValidateJWTSVIDResponse;
import dev.lattice.schemas.workload.X509BundlesRequest;
import dev.lattice.schemas.workload.X509BundlesResponse;
import dev.lattice.schemas.workload.X509SVIDRequest;
import dev.lattice.schemas.workload.X509SVIDResponse;
import io.netty.channel.Channel;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.channel.unix.PeerCredentials;
import io.netty.util.AttributeKey;
import io.spiffe.bundle.jwtbundle.JwtBundle;
import io.spiffe.bundle.jwtbundle.JwtBundleSet;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SPIFFE Workload API on a Unix domain socket: FetchX509SVID, FetchX509Bundles and FetchJWTBundles
 * (server streams that push a new message whenever the caller's SVIDs or the bundles change),
 * FetchJWTSVID and ValidateJWTSVID (unary).
 *
 * <p>Every call must carry {@code workload.spiffe.io: true} (else InvalidArgument). The caller is
 * attested by the kernel's peer credentials of its connection (uid/gid/pid, read with Netty's epoll
 * transport: the Vert.x instance must use {@code Transport.EPOLL}) and its process start time; the
 * attestors turn that into selectors, and a caller gets the entries whose selectors are all among its
 * own — none gives PermissionDenied. Before the first reply of a call the start time of the pid is
 * read again: a caller that exited and whose pid was reused gets PermissionDenied rather than another
 * workload's SVIDs.
 *
 * <p>Thread-safe. The owner closes it with {@link #close()}, which also removes the socket file.
 */
public final class WorkloadApiServer {

  /** The security header every Workload API call must carry (SPIFFE Workload Endpoint §4). */
  public static final String SECURITY_HEADER = "workload.spiffe.io";

  private static final Logger LOG = LoggerFactory.getLogger(WorkloadApiServer.class);
  private static final AttributeKey<PeerCredentials> PEER = AttributeKey.valueOf("lattice.workload.peer");
  /**
   * HTTP/2 rapid-reset protection, raised for a local socket: clients that fetch once (java-spiffe's
   * {@code fetchX509Context}) cancel each FetchX509SVID stream with RST_STREAM, and Vert.x's default
   * (200 resets per 30 s) answers the 201st with GOAWAY ENHANCE_YOUR_CALM. Measured in the benchmark.
   */
  static final int MAX_RESETS_PER_WINDOW = 10_000;
  static final int RESET_WINDOW_SECONDS = 10;

  private final Vertx vertx;
  private final SvidManager svids;
  private final List<WorkloadAttestor> attestors;
  private final ProcessTable processes;
  private HttpServer server;
  private Path socket;

  public WorkloadApiServer(Vertx vertx, SvidManager svids, List<WorkloadAttestor> attestors,
      ProcessTable processes) {
    this.vertx = vertx;
    this.svids = svids;
    this.attestors = List.copyOf(attestors);
    this.processes = processes;
  }

  /** Listens on {@code socketPath} (a stale socket file is replaced; the file is made 0777). */
  public Future<Void> listen(Path socketPath) {
    Path absolute = socketPath.toAbsolutePath();
    GrpcServer grpc = GrpcServer.server(vertx);
    grpc.callHandler(SpiffeWorkloadAPIGrpcService.FetchX509SVID, this::fetchX509Svid);
    grpc.callHandler(SpiffeWorkloadAPIGrpcService.FetchX509Bundles, this::fetchX509Bundles);
    grpc.callHandler(SpiffeWorkloadAPIGrpcService.FetchJWTBundles, this::fetchJwtBundles);
    grpc.callHandler(SpiffeWorkloadAPIGrpcService.FetchJWTSVID, this::fetchJwtSvid);
    grpc.callHandler(SpiffeWorkloadAPIGrpcService.ValidateJWTSVID, this::validateJwtSvid);
    HttpServer http = vertx.createHttpServer(new HttpServerOptions().setHttp2ClearTextEnabled(true)
            .setHttp2RstFloodMaxRstFramePerWindow(MAX_RESETS_PER_WINDOW)
            .setHttp2RstFloodWindowDuration(RESET_WINDOW_SECONDS)
            .setHttp2RstFloodWindowDurationTimeUnit(java.util.concurrent.TimeUnit.SECONDS))
        .connectionHandler(this::onConnection)
        .requestHandler(grpc);
    return vertx.executeBlocking(() -> {
      Files.createDirectories(absolute.getParent());
      Files.deleteIfExists(absolute);
      return null;
    }, false)
        .compose(v -> http.listen(SocketAddress.domainSocketAddress(absolute.toString())))
        .compose(s -> vertx.executeBlocking(() -> {
          // Any local process may connect: who it is decides what it gets, not whether it may ask.
          Files.setPosixFilePermissions(absolute, PosixFilePermissions.fromString("rwxrwxrwx"));
          return null;
        }, false))
        .onSuccess(v -> {
          synchronized (this) {
            server = http;
            socket = absolute;
          }
          LOG.info("Workload API listening on unix:{}", absolute);
        })
        .mapEmpty();
  }

  /** Stops listening, closes connections and deletes the socket file. */
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
    if (!AuthorityRewriter.install(channel)) {
      LOG.debug("connection without HTTP/2 handler on the Workload API socket");
    }
    if (channel instanceof EpollDomainSocketChannel unix) {
      try {
        channel.attr(PEER).set(unix.peerCredentials());
      } catch (IOException e) {
        LOG.warn("cannot read the peer credentials of a Workload API connection: {}", e.toString());
      }
    }
  }

  // ---------------------------------------------------------------- attestation

  private Future<Caller> attest(GrpcServerRequest<?, ?> request) {
    if (!"true".equals(request.headers().get(SECURITY_HEADER))) {
      return Future.failedFuture(new WorkloadApiException(GrpcStatus.INVALID_ARGUMENT,
          "security header missing from request (expected: " + SECURITY_HEADER + ": true)"));
    }
    Channel channel = ((ConnectionBase) request.connection()).channel();
    PeerCredentials peer = channel.attr(PEER).get();
    if (peer == null) {
      return Future.failedFuture(new WorkloadApiException(GrpcStatus.UNAUTHENTICATED,
          "the caller's peer credentials are unavailable (expected: a Unix socket on the epoll transport)"));
    }
    int[] gids = peer.gids();
    List<Integer> groups = Arrays.stream(gids == null ? new int[0] : gids).boxed().toList();
    return vertx.executeBlocking(() -> processes.startTime(peer.pid()), false)
        .compose(start -> {
          if (start.isEmpty()) {
            return Future.failedFuture(new WorkloadApiException(GrpcStatus.PERMISSION_DENIED,
                "caller process " + peer.pid() + " is gone"));
          }
          CallerProcess process = new CallerProcess(peer.pid(), peer.uid(), groups, start.getAsLong());
          List<Future<Set<Selector>>> found = attestors.stream().map(a -> a.attest(process)).toList();
          return Future.all(found).map(all -> {
            Set<Selector> selectors = new HashSet<>();
            found.forEach(f -> selectors.addAll(f.result()));
            return new Caller(process, selectors);
          });
        });
  }

  /** Fails when the caller's pid now belongs to another process (or none) than the one attested. */
  private Future<Void> verifySameProcess(Caller caller) {
    return vertx.executeBlocking(() -> processes.startTime(caller.process().pid()), false)
        .compose(start -> {
          OptionalLong expected = OptionalLong.of(caller.process().startTimeTicks());
          if (!start.equals(expected)) {
            LOG.warn("pid {} changed between attestation and reply (start time {} then {}); refused",
                caller.process().pid(), caller.process().startTimeTicks(), start);
            return Future.failedFuture(new WorkloadApiException(GrpcStatus.PERMISSION_DENIED,
                "caller process " + caller.process().pid() + " exited or its pid was reused"));
          }
          return Future.succeededFuture();
        });
  }

  private static String denial(Caller caller) {
    return "no registration entry matches the caller (pid " + caller.process().pid() + ", selectors "
        + new TreeSet<>(caller.selectors().stream().map(Selector::toString).toList()) + ")";
  }

  private static <Req, Resp> void fail(GrpcServerRequest<Req, Resp> request, Throwable err) {
    if (err instanceof WorkloadApiException w) {
      LOG.debug("{} refused: {} {}", request.methodName(), w.status(), w.getMessage());
      end(request, w.status(), w.getMessage());
    } else {
      LOG.warn("{} failed: {}", request.methodName(), err.toString());
      end(request, GrpcStatus.UNAVAILABLE, "the agent could not serve the call: " + err.getMessage());
    }
  }

  private static void end(GrpcServerRequest<?, ?> request, GrpcStatus status, String message) {
    try {
      request.response().status(status).statusMessage(message).end();
    } catch (IllegalStateException alreadyEnded) {
      LOG.debug("{} already ended", request.methodName());
    }
  }

  // ---------------------------------------------------------------- unary calls

  private void fetchJwtSvid(GrpcServerRequest<JWTSVIDRequest, JWTSVIDResponse> request) {
    request.last()
        .compose(message -> {
          if (message.getAudienceCount() == 0 || message.getAudienceList().stream().anyMatch(String::isBlank)) {
            return Future.failedFuture(new WorkloadApiException(GrpcStatus.INVALID_ARGUMENT,
                "audience must be specified (expected: at least one non-empty audience)"));
          }
          return attest(request).compose(caller -> {
            List<AgentEntry> entries = svids.state().entriesMatching(caller.selectors()).stream()
                .filter(e -> message.getSpiffeId().isEmpty() || e.spiffeId().equals(message.getSpiffeId()))
                .toList();
            if (entries.isEmpty()) {
              return Future.failedFuture(new WorkloadApiException(GrpcStatus.PERMISSION_DENIED,
                  message.getSpiffeId().isEmpty() ? denial(caller)
                      : "the caller is not entitled to " + message.getSpiffeId()));
            }
            List<Future<JWTSVID>> tokens = entries.stream()
                .map(e -> svids.jwtSvid(e, message.getAudienceList())
                    .map(t -> JWTSVID.newBuilder().setSpiffeId(t.spiffeId()).setSvid(t.token())
                        .setHint(e.hint()).build()))
                .toList();
            return Future.all(tokens)
                .compose(all -> verifySameProcess(caller))
                .map(v -> JWTSVIDResponse.newBuilder()
                    .addAllSvids(tokens.stream().map(Future::result).toList()).build());
          });
        })
        .onSuccess(response -> request.response().end(response))
        .onFailure(err -> fail(request, err));
  }

  private void validateJwtSvid(GrpcServerRequest<ValidateJWTSVIDRequest, ValidateJWTSVIDResponse> request) {
    request.last()
        .compose(message -> {
          if (message.getAudience().isBlank()) {
            return Future.failedFuture(new WorkloadApiException(GrpcStatus.INVALID_ARGUMENT,
                "audience must be specified"));
          }
          if (message.getSvid().isBlank()) {
            return Future.failedFuture(new WorkloadApiException(GrpcStatus.INVALID_ARGUMENT,
                "svid must be specified"));
          }
          return attest(request).compose(caller -> {
            List<TrustDomainBundle> bundles = WorkloadResponses.bundlesOf(svids.state());
            return vertx.executeBlocking(() -> validate(message, bundles), false)
                .compose(r -> verifySameProcess(caller).map(r));
          });
        })
        .onSuccess(response -> request.response().end(response))
        .onFailure(err -> fail(request, err));
  }

  private static ValidateJWTSVIDResponse validate(ValidateJWTSVIDRequest message,
      List<TrustDomainBundle> bundles) {
    try {
      List<JwtBundle> jwtBundles = new ArrayList<>();
      for (TrustDomainBundle b : bundles) {
        jwtBundles.add(JwtBundle.parse(TrustDomain.parse(b.trustDomain()),
            b.jwtAuthoritiesJwks().getBytes(java.nio.charset.StandardCharsets.UTF_8)));
      }
      JwtSvid svid = JwtSvid.parseAndValidate(message.getSvid(), JwtBundleSet.of(jwtBundles),
          Set.of(message.getAudience()));
      return ValidateJWTSVIDResponse.newBuilder()
          .setSpiffeId(svid.getSpiffeId().toString())
          .setClaims(WorkloadResponses.claims(svid.getClaims()))
          .build();
    } catch (Exception e) {
      throw new WorkloadApiException(GrpcStatus.INVALID_ARGUMENT, "JWT-SVID rejected: " + e.getMessage());
    }
  }

  // ---------------------------------------------------------------- streams

  private void fetchX509Svid(GrpcServerRequest<X509SVIDRequest, X509SVIDResponse> request) {
    stream(request, (caller, state) -> {
      if (state.entriesMatching(caller.selectors()).isEmpty()) {
        throw new WorkloadApiException(GrpcStatus.PERMISSION_DENIED, denial(caller));
      }
      List<WorkloadX509Svid> held = state.svidsMatching(caller.selectors());
      if (held.isEmpty() || state.bundle().isEmpty()) {
        return null;
      }
      return new Versioned<>(List.of(held, WorkloadResponses.bundlesOf(state)),
          () -> WorkloadResponses.x509Svids(held, state.bundle().get(), state.federatedBundles()));
    });
  }

  private void fetchX509Bundles(GrpcServerRequest<X509BundlesRequest, X509BundlesResponse> request) {
    stream(request, (caller, state) -> bundlesOnly(caller, state,
        b -> WorkloadResponses.x509Bundles(b, state.federatedBundles())));
  }

  private void fetchJwtBundles(GrpcServerRequest<JWTBundlesRequest, JWTBundlesResponse> request) {
    stream(request, (caller, state) -> bundlesOnly(caller, state,
        b -> WorkloadResponses.jwtBundles(b, state.federatedBundles())));
  }

  private static <R> Versioned<R> bundlesOnly(Caller caller, AgentState state,
      Function<TrustDomainBundle, R> build) {
    if (state.entriesMatching(caller.selectors()).isEmpty()) {
      throw new WorkloadApiException(GrpcStatus.PERMISSION_DENIED, denial(caller));
    }
    if (state.bundle().isEmpty()) {
      return null;
    }
    return new Versioned<>(WorkloadResponses.bundlesOf(state), () -> build.apply(state.bundle().get()));
  }

  /** A response and what it was built from: equal {@code basis} means an equal response. */
  private record Versioned<R>(Object basis, java.util.function.Supplier<R> response) {}

  /** Computes a caller's view of a state: null while not ready; throws to end the stream. */
  private interface View<R> {
    Versioned<R> of(Caller caller, AgentState state);
  }

  /**
   * Runs a server stream: attests, sends the caller's view now (once ready) and again on every state
   * change that alters it, until the client goes away or the view throws (e.g. PermissionDenied).
   */
  private <Req, Resp extends Message> void stream(GrpcServerRequest<Req, Resp> request, View<Resp> view) {
    Context context = vertx.getOrCreateContext();
    Channel channel = ((ConnectionBase) request.connection()).channel();
    attest(request).onComplete(attested -> {
      if (attested.failed()) {
        fail(request, attested.cause());
        return;
      }
      Caller caller = attested.result();
      StreamState<Req, Resp> stream = new StreamState<>(request, view, caller);
      try {
        view.of(caller, svids.state());
      } catch (WorkloadApiException denied) {
        fail(request, denied);
        return;
      }
      Runnable unsubscribe = svids.addListener(state -> context.runOnContext(v -> stream.offer(state)));
      // the connection may outlive many streams (one-shot fetches): the close listener goes with the stream
      io.netty.util.concurrent.GenericFutureListener<io.netty.util.concurrent.Future<? super Void>> onClose =
          f -> context.runOnContext(v -> stream.end());
      channel.closeFuture().addListener(onClose);
      stream.onEnd = () -> {
        unsubscribe.run();
        channel.closeFuture().removeListener(onClose);
      };
      request.errorHandler(err -> stream.end());
      request.exceptionHandler(err -> stream.end());
      request.response().exceptionHandler(err -> stream.end());
      stream.offer(svids.state());
    });
  }

  /** One open stream; confined to its context. */
  private final class StreamState<Req, Resp extends Message> {
    private final GrpcServerRequest<Req, Resp> request;
    private final View<Resp> view;
    private final Caller caller;
    private Runnable onEnd;
    private AgentState latest;
    private Object sentBasis;
    private boolean verified;
    private boolean verifying;
    private boolean ended;

    StreamState(GrpcServerRequest<Req, Resp> request, View<Resp> view, Caller caller) {
      this.request = request;
      this.view = view;
      this.caller = caller;
    }

    void offer(AgentState state) {
      if (ended || (latest != null && state.version() < latest.version())) {
        return;
      }
      latest = state;
      send();
    }

    private void send() {
      if (ended || verifying) {
        return;
      }
      Versioned<Resp> next;
      try {
        next = view.of(caller, latest);
      } catch (WorkloadApiException denied) {
        fail(request, denied);
        end();
        return;
      }
      if (next == null || Objects.equals(next.basis(), sentBasis)) {
        return;
      }
      if (!verified) {
        verifying = true;
        verifySameProcess(caller).onComplete(ok -> {
          verifying = false;
          if (ok.failed()) {
            fail(request, ok.cause());
            end();
          } else {
            verified = true;
            send();
          }
        });
        return;
      }
      sentBasis = next.basis();
      request.response().write(next.response().get())
          .onFailure(err -> end());
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
