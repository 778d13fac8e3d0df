package dev.lattice.dataplane.proxy;

import dev.lattice.authz.Decision;
import dev.lattice.authz.PeerIdentity;
import dev.lattice.authz.normalize.MalformedRequestException;
import dev.lattice.authz.normalize.PathNormalizer;
import dev.lattice.dataplane.filter.ExchangeKeys;
import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.LocalResponse;
import dev.lattice.dataplane.filter.StateKey;
import dev.lattice.dataplane.route.Route;
import dev.lattice.dataplane.route.RouteAction;
import dev.lattice.dataplane.route.RouteTable;
import dev.lattice.dataplane.route.UpstreamCluster;
import dev.lattice.dataplane.upstream.resilience.CircuitBreaker;
import dev.lattice.dataplane.upstream.lb.LbRequest;
import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.dataplane.upstream.resilience.RetryBudget;
import dev.lattice.dataplane.upstream.resilience.RetryPolicy;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.TrafficDirection;
import io.netty.buffer.Unpooled;
import io.netty.handler.ssl.SslContext;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.handler.codec.DecoderResult;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HTTP request through the proxy, from its head to the end of its response: validation and path
 * normalization, the listener's filter chain, routing, the upstream connection from the loop's pool,
 * streaming both bodies without copies, and the completion record. The object is the filters'
 * {@link HttpExchange}, the route table's request view and the completion hook's
 * {@link CompletedExchange} at once, so a request allocates one of them. Event-loop confined.
 */
final class Exchange implements HttpExchange, CompletedExchange, RouteTable.RequestView, LbRequest {
  private static final Logger LOG = LoggerFactory.getLogger(Exchange.class);
  /** Request body bytes read and dropped after a local response before the connection is closed instead. */
  private static final long MAX_DISCARD = 64 * 1024;
  static final String UPSTREAM_RESET = "upstream connect error or disconnect/reset before headers. reset reason: connection termination";
  static final String UPSTREAM_CONNECT_FAILED = "upstream connect error or disconnect/reset before headers. reset reason: connection failure";
  static final String UPSTREAM_TIMEOUT = "upstream request timeout";
  static final String UPSTREAM_OVERFLOW = "upstream connect error or disconnect/reset before headers. reset reason: overflow";
  /** Request body bytes kept for replay on a retry (Envoy's default buffer limit); a larger body is not retried. */
  static final int MAX_REPLAY = 64 * 1024;

  private final DownstreamHandler conn;
  private final ListenerRuntime runtime;
  private final HttpRequest request;
  private final long startNanos;
  private final long startMillis;
  private long endNanos;
  private long firstByteNanos = -1;

  private String path;
  private String authority;
  private String requestId;
  private HttpFilter[] filters;
  private int filtersStarted;
  private Map<StateKey<?>, Object> state;
  private HttpHeaders responseHeaders;

  private Route route;
  private boolean routeMatched;
  /** Set once routing acted on the matched route: from then on its response header operations apply (Envoy's router). */
  private boolean routed;
  /** Index of {@link #cluster} among the route's clusters (its per-destination headers), or -1. */
  private int clusterIndex = -1;
  private UpstreamCluster cluster;
  /** The shadow copy of this request (route mirror), or null. */
  private Mirror mirror;
  /** Where this exchange is counted as in flight (least request), or null. */
  private UpstreamCluster activeCluster;
  private InetSocketAddress activeEndpoint;
  private InetSocketAddress upstreamAddress;
  /** Set when the endpoint is reached over the mesh's mTLS (a cluster with mtls, from an outbound listener). */
  private MeshTarget meshTarget;
  private Channel upstream;
  private boolean upstreamReused;
  private ArrayDeque<HttpContent> pendingBody;

  private int status;
  private String flags = "";
  private long bytesIn;
  private long bytesOut;
  private long discarded;
  private int retries;

  // retries and timeouts (upstream.resilience): a try is one attempt on one upstream connection
  private RetryPolicy retryPolicy;
  /** Retries the route's policy made (the pooled-connection resend does not count against it). */
  private int policyRetries;
  /** Bumped when a try starts or is abandoned: callbacks of an older try see a different number and back off. */
  private int tryNo;
  private InetSocketAddress failedAddress;
  /** Copies of the request body chunks sent so far, for a retry; null when retries are off or the body was too large. */
  private ArrayDeque<HttpContent> replay;
  private int replayBytes;
  private boolean replayOverflow;
  // route and per-try deadlines (System.nanoTime): the connection's one lazy timer watches the earliest
  // ({@link DownstreamHandler#armDeadline}), so a request schedules and cancels no task of its own
  private boolean routeDeadlineSet;
  private long routeDeadline;
  private boolean tryDeadlineSet;
  private long tryDeadline;
  /** The try {@link #tryDeadline} belongs to. */
  private int deadlineTry;
  // circuit breaking: the slots this exchange holds in its cluster's breaker, released once each
  private CircuitBreaker breaker;
  private boolean requestSlot;
  private boolean pendingSlot;
  private boolean retrySlot;
  /** Queued in the loop's pool for a connection of a cluster at maxConnections. */
  private boolean waiting;

  private boolean http10;
  private boolean keepAlive;
  private boolean head;
  private boolean expectsBody;
  private boolean requestComplete;
  private boolean lastForwarded;
  private boolean responseStarted;
  private boolean responseComplete;
  private boolean informational;
  private boolean upstreamKeepAlive;
  private boolean local;
  private boolean closeConnection;
  private boolean done;
  /** A {@code CONNECT} on the explicit HTTP proxy port: the exchange becomes a TCP tunnel. */
  private boolean tunnel;
  /** A WebSocket upgrade request ({@code Upgrade: websocket}): after the upstream's {@code 101} the exchange is a tunnel. */
  private boolean upgrade;

  Exchange(DownstreamHandler conn, ListenerRuntime runtime, HttpRequest request) {
    this.conn = conn;
    this.runtime = runtime;
    this.request = request;
    this.startNanos = System.nanoTime();
    this.startMillis = conn.server().clock().millis();
  }

  DownstreamHandler connection() {
    return conn;
  }

  // ---- request head ----

  void start() {
    DecoderResult result = request.decoderResult();
    if (result.isFailure()) {
      Throwable cause = result.cause();
      HttpResponseStatus st = cause instanceof TooLongHttpHeaderException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
          : cause instanceof TooLongHttpLineException ? HttpResponseStatus.REQUEST_URI_TOO_LONG
          : cause instanceof TooLongFrameException ? HttpResponseStatus.REQUEST_HEADER_FIELDS_TOO_LARGE
          : HttpResponseStatus.BAD_REQUEST;
      rejectMalformed(st, st.reasonPhrase().toLowerCase(Locale.ROOT));
      return;
    }
    if (request.protocolVersion().majorVersion() != 1) {
      // RFC 9110 §15.6.6; a higher HTTP/1 minor version is served as 1.1 (RFC 9112 §2.3)
      rejectMalformed(HttpResponseStatus.HTTP_VERSION_NOT_SUPPORTED, "http version not supported: " + request.protocolVersion().text());
      return;
    }
    http10 = request.protocolVersion().minorVersion() == 0;
    keepAlive = HttpUtil.isKeepAlive(request);
    head = request.method().equals(HttpMethod.HEAD);
    HttpHeaders h = request.headers();
    // before any check: a request rejected as malformed keeps the caller's id in its flow record and log line
    requestId = ForwardingHeaders.requestId(h);
    boolean chunked = h.contains(HttpHeaderNames.TRANSFER_ENCODING);
    expectsBody = chunked || HttpUtil.getContentLength(request, 0L) > 0;
    if (chunked) {
      List<String> te = h.getAll(HttpHeaderNames.TRANSFER_ENCODING);
      if (http10 || te.size() != 1 || !HttpHeaderValues.CHUNKED.contentEqualsIgnoreCase(te.get(0).trim())) {
        rejectMalformed(HttpResponseStatus.BAD_REQUEST, "transfer-encoding: " + te + " (expected: chunked, on HTTP/1.1)");
        return;
      }
    }
    if (request.method().equals(HttpMethod.CONNECT)) {
      if (runtime.httpProxy()) {
        startConnect();
        return;
      }
      closeConnection = true;
      sendLocal(HttpResponseStatus.METHOD_NOT_ALLOWED.code(), "CONNECT is not served on this listener", null);
      return;
    }
    upgrade = webSocketUpgrade(request);
    String target = request.uri();
    if (target.regionMatches(true, 0, "http://", 0, 7) || target.regionMatches(true, 0, "https://", 0, 8)) {
      // absolute-form (RFC 9112 §3.2.2): its authority replaces Host
      int from = target.indexOf("//") + 2;
      int slash = target.indexOf('/', from);
      int q = target.indexOf('?', from);
      int end = slash < 0 ? (q < 0 ? target.length() : q) : (q >= 0 && q < slash ? q : slash);
      authority = target.substring(from, end);
      target = end == target.length() ? "/" : target.charAt(end) == '?' ? "/" + target.substring(end) : target.substring(end);
      h.set(HttpHeaderNames.HOST, authority);
    } else {
      List<String> hosts = h.getAll(HttpHeaderNames.HOST);
      if (hosts.size() > 1 || (hosts.isEmpty() && !http10)) {
        rejectMalformed(HttpResponseStatus.BAD_REQUEST, "host: " + hosts.size() + " headers (expected: exactly one)");
        return;
      }
      authority = hosts.isEmpty() ? null : hosts.get(0);
    }
    if (authority != null && authority.isEmpty()) {
      rejectMalformed(HttpResponseStatus.BAD_REQUEST, "host: empty (expected: host[:port])");
      return;
    }
    if (authority != null && !ForwardingHeaders.validAuthority(authority)) {
      rejectMalformed(HttpResponseStatus.BAD_REQUEST, "host: not a valid authority (expected: host[:port])");
      return;
    }
    try {
      path = PathNormalizer.normalize(target, runtime.pathNormalization());
    } catch (MalformedRequestException e) {
      path = target;
      put(ExchangeKeys.AUTHZ_DECISION, Decision.rejectedBeforeAuthz(e.getMessage()));
      rejectMalformed(HttpResponseStatus.BAD_REQUEST, "bad request");
      return;
    }
    if (!path.equals("*")) {
      // the upstream sees the path authorization judged, with the query it came with
      int q = target.indexOf('?');
      int hash = target.indexOf('#');
      String query = q < 0 ? "" : target.substring(q, hash > q ? hash : target.length());
      String forwardTarget = query.isEmpty() ? path : path + query;
      if (!forwardTarget.equals(request.uri())) {
        request.setUri(forwardTarget);
      }
    }
    List<HttpFilterConfig> configs = runtime.filters();
    if (!configs.isEmpty()) {
      filters = new HttpFilter[configs.size()];
      for (int i = 0; i < filters.length; i++) {
        filters[i] = configs.get(i).newFilter();
      }
    }
    runFilters(0);
  }

  /**
   * {@code CONNECT host:port} on the explicit HTTP proxy port: routed like a request to {@code host:port} with path
   * {@code /} (filters run), then a raw TCP tunnel to the picked endpoint ({@link ConnectTunnel}).
   */
  private void startConnect() {
    String target = request.uri();
    int colon = target.lastIndexOf(':');
    boolean port = colon > 0 && colon < target.length() - 1 && colon + 6 >= target.length();
    for (int i = colon + 1; port && i < target.length(); i++) {
      port = Character.isDigit(target.charAt(i));
    }
    int n = port ? Integer.parseInt(target.substring(colon + 1)) : 0;
    if (!port || target.indexOf('/') >= 0 || n < 1 || n > 65535) {
      rejectMalformed(HttpResponseStatus.BAD_REQUEST, "connect target: '" + target + "' (expected: host:port)");
      return;
    }
    authority = target;
    path = "/";
    tunnel = true;
    requestId = ForwardingHeaders.requestId(request.headers());
    if (!runtime.routes().exactDomain(target)) {
      // Envoy routes CONNECT only by a connect_matcher: here a domain naming exactly this host:port, so a wildcard or
      // port-less virtual host never opens a tunnel to a port its service does not serve
      sendLocal(404, "no CONNECT route for " + target + " (expected: a mesh service's host:port)", "NR");
      return;
    }
    List<HttpFilterConfig> configs = runtime.filters();
    if (!configs.isEmpty()) {
      filters = new HttpFilter[configs.size()];
      for (int i = 0; i < filters.length; i++) {
        filters[i] = configs.get(i).newFilter();
      }
    }
    runFilters(0);
  }

  /** The tunnel of a routed {@code CONNECT}: a raw connection to an endpoint of the cluster, then {@code 200}. */
  private void openTunnel() {
    upstreamAddress = cluster.pick(this, null);
    if (upstreamAddress == null) {
      sendLocal(503, "no healthy upstream", "UH");
      return;
    }
    if (runtime.meshTarget(cluster.name(), upstreamAddress) != null) {
      // the client's bytes inside the mesh's mTLS need the node-to-node tunnel (HBONE), which is not built
      sendLocal(503, UPSTREAM_CONNECT_FAILED + ", transport failure reason: CONNECT to a mesh mTLS endpoint is not supported", "UF");
      return;
    }
    ConnectTunnel t = new ConnectTunnel(this::tunnelClosed);
    conn.pause(DownstreamHandler.PAUSE_PENDING);
    ChannelFuture f = conn.pool().connectRaw(upstreamAddress,
        (int) Math.min(Integer.MAX_VALUE, runtime.settings().connectTimeout().toMillis()), t.upstreamHandler());
    f.addListener(x -> {
      if (done) {
        if (f.isSuccess()) {
          f.channel().close();
        }
        return;
      }
      if (!f.isSuccess()) {
        conn.resume(DownstreamHandler.PAUSE_PENDING);
        sendLocal(503, UPSTREAM_CONNECT_FAILED, "UF");
        return;
      }
      status = 200;
      responseStarted = true;
      responseComplete = true;
      closeConnection = true; // the connection is the tunnel's now
      firstByteNanos = System.nanoTime();
      releasePendingBody();
      t.splice(conn.channel(), f.channel(), runtime.settings().idleTimeout().toNanos());
    });
  }

  /** The tunnel ended: the exchange completes with its bytes (telemetry), the connection is gone. */
  private void tunnelClosed(ConnectTunnel t) {
    bytesIn += t.sent();
    bytesOut += t.received();
    requestComplete = true;
    finish();
  }

  /**
   * RFC 6455 §4.1's opening handshake: a bodiless HTTP/1.1 {@code GET} with {@code Upgrade: websocket} and {@code upgrade}
   * among {@code Connection}'s tokens. Only this upgrade is passed through (Envoy's {@code upgrade_configs} with
   * {@code websocket}); any other {@code Upgrade} (h2c, …) is hop-by-hop and removed as before.
   */
  private static boolean webSocketUpgrade(HttpRequest r) {
    HttpHeaders h = r.headers();
    if (!r.method().equals(HttpMethod.GET) || r.protocolVersion().minorVersion() != 1 || h.contains(HttpHeaderNames.CONTENT_LENGTH)
        || h.contains(HttpHeaderNames.TRANSFER_ENCODING)) {
      return false;
    }
    List<String> up = h.getAll(HttpHeaderNames.UPGRADE);
    if (up.size() != 1 || !HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(up.get(0).trim())) {
      return false;
    }
    return h.containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true);
  }

  /**
   * The upstream accepted the WebSocket upgrade: its {@code 101} goes to the client (hop-by-hop cleaned, {@code Via},
   * response filters) and both connections become a raw relay for the rest of their lives ({@link ConnectTunnel}); the
   * upstream connection leaves the pool for good. One exchange per WebSocket: status 101, its bytes, its lifetime.
   */
  private void switchToWebSocket(HttpResponse r) {
    tryDeadlineSet = false;
    routeDeadlineSet = false; // a route timeout bounds the handshake, not the session
    releaseReplay();
    reportOutlier(101); // an answer: resets the endpoint's consecutive errors
    firstByteNanos = System.nanoTime();
    status = 101;
    responseStarted = true;
    responseComplete = true;
    closeConnection = true; // the connection is the tunnel's now
    HttpHeaders h = r.headers();
    ForwardingHeaders.removeHopByHop(h);
    ForwardingHeaders.appendVia(h, conn.server().via(runtime));
    finishResponseHead(r);
    h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
    h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    r.setProtocolVersion(HttpVersion.HTTP_1_1);
    conn.writeHead(r, false);
    Channel ch = upstream;
    upstream = null;
    ((UpstreamHandler) ch.pipeline().get("proxy")).exchange = null;
    new ConnectTunnel(this::tunnelClosed).splice(conn.channel(), ch, runtime.settings().idleTimeout().toNanos(), false);
  }

  private void rejectMalformed(HttpResponseStatus st, String body) {
    if (get(ExchangeKeys.AUTHZ_DECISION) == null) {
      // every 400-class answer to a malformed head is a decision taken before authorization, as explain reports it
      put(ExchangeKeys.AUTHZ_DECISION, Decision.rejectedBeforeAuthz(body));
    }
    flag("DPE");
    closeConnection = true;
    requestComplete = true; // nothing after a malformed head is trusted
    sendLocal(st.code(), body, null);
  }

  // ---- filters ----

  private void runFilters(int from) {
    if (filters != null) {
      for (int i = from; i < filters.length; i++) {
        filtersStarted = i + 1;
        CompletionStage<FilterAction> stage;
        try {
          stage = filters[i].onRequest(this);
        } catch (RuntimeException e) {
          filterFailed(i, e);
          return;
        }
        if (stage instanceof CompletableFuture<FilterAction> f && f.isDone() && !f.isCompletedExceptionally()) {
          FilterAction a = f.getNow(null);
          if (a != null && a.response() != null) {
            respondLocal(a.response());
            return;
          }
          continue;
        }
        int next = i + 1;
        int index = i;
        conn.pause(DownstreamHandler.PAUSE_PENDING);
        stage.whenComplete((a, err) -> conn.channel().eventLoop().execute(() -> resumeFilters(index, next, a, err)));
        return;
      }
    }
    forward();
  }

  private void resumeFilters(int index, int next, FilterAction a, Throwable err) {
    if (done || responseStarted) {
      return;
    }
    if (err != null) {
      filterFailed(index, err);
    } else if (a != null && a.response() != null) {
      respondLocal(a.response());
    } else {
      runFilters(next);
    }
  }

  private void filterFailed(int index, Throwable e) {
    LOG.warn("listener {}: filter {} failed on request {}: {}", runtime.name(), runtime.filterNames().get(index), requestId, e.toString());
    sendLocal(500, "filter failed", null);
  }

  // ---- routing and upstream ----

  private Route matchRoute() {
    if (!routeMatched) {
      routeMatched = true;
      route = runtime.routes().match(this);
    }
    return route;
  }

  private void forward() {
    if (matchRoute() == null) {
      sendLocal(404, "", "NR");
      return;
    }
    RouteAction action = route.action();
    routed = true;
    if (action.answersLocally()) {
      RouteAction.LocalAnswer answer = action.localAnswer(this, request.uri());
      if (answer.location() != null) {
        responseHeaders().set(HttpHeaderNames.LOCATION, answer.location());
      }
      sendLocal(answer.status(), answer.body(), null);
      return;
    }
    clusterIndex = route.pickIndex();
    if (clusterIndex < 0) {
      sendLocal(503, "no cluster", "NC");
      return;
    }
    cluster = route.clusters().get(clusterIndex);
    breaker = cluster.breaker();
    if (!breaker.tryAcquireRequest()) {
      sendLocal(503, UPSTREAM_OVERFLOW, "UO");
      return;
    }
    requestSlot = true;
    if (tunnel) {
      openTunnel();
      return;
    }
    retryPolicy = route.retryPolicy();
    if (retryPolicy != null && retryPolicy.numRetries() > 0) {
      RetryBudget budget = cluster.retryBudget();
      if (budget != null) {
        budget.recordRequest();
      }
    }
    HttpHeaders h = request.headers();
    ForwardingHeaders.removeHopByHop(h);
    if (upgrade) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE);
      h.set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
    }
    ForwardingHeaders.appendVia(h, conn.server().via(runtime));
    ForwardingHeaders.appendForwardedFor(h, conn.remoteIp());
    if (!runtime.inbound() || !h.contains(ForwardingHeaders.X_FORWARDED_PROTO)) {
      h.set(ForwardingHeaders.X_FORWARDED_PROTO, conn.tls() ? "https" : "http");
    }
    h.set(ForwardingHeaders.X_REQUEST_ID, requestId);
    // Envoy's SANITIZE_SET: a client's own XFCC is never trusted; a verified peer's is set
    h.remove(ForwardingHeaders.X_FORWARDED_CLIENT_CERT);
    if (conn.clientCertDetails() != null) {
      h.set(ForwardingHeaders.X_FORWARDED_CLIENT_CERT, conn.clientCertDetails());
    }
    if (authority == null) {
      h.set(HttpHeaderNames.HOST, cluster.name());
    }
    try {
      action.applyRequest(request, clusterIndex);
    } catch (dev.lattice.dataplane.route.PathRegexRewrite.BudgetExceeded e) {
      // a backtracking uriRegexRewrite on a hostile path: refuse this request rather than stall the event loop
      sendLocal(400, "uri rewrite: path too costly to match", null);
      return;
    }
    if (action.mirror() != null && !upgrade && action.mirror().roll()) {
      startMirror(action.mirror());
    }
    request.setProtocolVersion(HttpVersion.HTTP_1_1);
    if (route.timeoutMillis() > 0) {
      // Envoy's route timeout: from the request being routed to the end of the response, across every try
      routeDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(route.timeoutMillis());
      routeDeadlineSet = true;
      conn.armDeadline(routeDeadline);
    }
    startTry();
  }

  /** One try: an endpoint (not the one that just failed, when there is another), a connection, the request. */
  private void startTry() {
    int t = ++tryNo;
    upstreamAddress = policyRetries == 0 ? cluster.pick(this, null) : cluster.pick(this, a -> !a.equals(failedAddress));
    countActive(upstreamAddress);
    if (upstreamAddress == null) {
      sendLocal(503, "no healthy upstream", "UH");
      return;
    }
    upstreamReused = false;
    meshTarget = runtime.meshTarget(cluster.name(), upstreamAddress, conn.remoteIp());
    if (retryPolicy != null && retryPolicy.perTryTimeoutMillis() > 0) {
      tryDeadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(retryPolicy.perTryTimeoutMillis());
      tryDeadlineSet = true;
      deadlineTry = t;
      conn.armDeadline(tryDeadline);
    }
    Channel pooled = conn.pool().poll(meshTarget != null ? meshTarget : upstreamAddress);
    if (pooled != null) {
      attach(pooled, true);
    } else {
      connect();
    }
  }

  /**
   * The connection's timer fired: act on a deadline that passed, else have it fire again at the earliest one
   * left (it was armed for an earlier exchange or an earlier deadline of this one).
   */
  void deadlineCheck() {
    if (done) {
      return;
    }
    long now = System.nanoTime();
    if (routeDeadlineSet && now - routeDeadline >= 0) {
      routeDeadlineSet = false;
      tryDeadlineSet = false;
      routeTimedOut();
      return;
    }
    if (tryDeadlineSet && now - tryDeadline >= 0) {
      tryDeadlineSet = false;
      perTryTimedOut(deadlineTry);
      if (done) {
        return;
      }
    }
    if (tryDeadlineSet) {
      conn.armDeadline(routeDeadlineSet && routeDeadline - tryDeadline < 0 ? routeDeadline : tryDeadline);
    } else if (routeDeadlineSet) {
      conn.armDeadline(routeDeadline);
    }
  }

  private void perTryTimedOut(int t) {
    if (done || responseStarted || t != tryNo) {
      return;
    }
    waiting = false;
    releasePendingSlot();
    dropUpstream();
    tryFailed(RetryPolicy.Failure.PER_TRY_TIMEOUT, 504, UPSTREAM_TIMEOUT, "UT");
  }

  private void routeTimedOut() {
    if (done || responseComplete) {
      return;
    }
    tryNo++; // whatever is still connecting belongs to no try now
    waiting = false;
    if (!responseStarted && upstream != null) {
      reportLocalFailure(504); // the endpoint had the request and did not answer in time
    }
    if (!responseStarted) {
      sendLocal(504, UPSTREAM_TIMEOUT, "UT");
    } else {
      dropUpstream();
      abort("UT");
    }
  }

  /** A try failed before a response was forwarded: retry when the policy, the attempts left and the budget allow, else answer. */
  private void tryFailed(RetryPolicy.Failure failure, int code, String body, String flag) {
    reportLocalFailure(code); // stands for 503 (connect/reset) or 504 (timeout), or counts apart with the local-origin split
    String denied = null;
    if (retryPolicy != null && retryPolicy.retriable(failure)) {
      denied = retry();
      if (denied == null) {
        return;
      }
    }
    sendLocal(code, body, denied == null || denied.isEmpty() ? flag : flag + "," + denied);
  }

  /**
   * Schedules the next try after the backoff. Returns null when scheduled, else why not: {@code URX} (no
   * attempts left), {@code UO} (the retry budget is spent) or "" (the body was too large to replay).
   */
  private String retry() {
    if (policyRetries >= retryPolicy.numRetries()) {
      return retryPolicy.numRetries() > 0 ? "URX" : "";
    }
    if (replayOverflow) {
      return "";
    }
    RetryBudget budget = cluster.retryBudget();
    if (budget != null && !budget.tryAcquireRetry()) {
      return "UO";
    }
    releaseRetrySlot();
    if (!breaker.tryAcquireRetry()) {
      return "UO"; // maxRetries retries are already in flight to this cluster
    }
    retrySlot = true;
    releasePendingSlot();
    policyRetries++;
    retries++;
    failedAddress = upstreamAddress;
    int t = ++tryNo;
    tryDeadlineSet = false;
    lastForwarded = false;
    if (replay != null && !replay.isEmpty()) {
      // what the last try was sent goes first, then whatever arrived since
      ArrayDeque<HttpContent> again = replay;
      replay = new ArrayDeque<>(Math.max(4, again.size()));
      replayBytes = 0;
      if (pendingBody != null) {
        again.addAll(pendingBody);
      }
      pendingBody = again;
    }
    conn.pause(DownstreamHandler.PAUSE_PENDING);
    long delay = retryPolicy.backoff().delay(policyRetries, n -> ThreadLocalRandom.current().nextLong(n)).toMillis();
    conn.channel().eventLoop().schedule(() -> {
      if (!done && !responseStarted && t == tryNo) {
        startTry();
      }
    }, delay, TimeUnit.MILLISECONDS);
    return null;
  }

  /** Tells the cluster's outlier detection how the current try's endpoint answered (nothing without it). */
  private void reportOutlier(int code) {
    OutlierDetector od = cluster.outlier();
    if (od != null) {
      od.report(upstreamAddress, code);
    }
  }

  private void reportLocalFailure(int code) {
    OutlierDetector od = cluster.outlier();
    if (od != null) {
      od.reportLocalFailure(upstreamAddress, code);
    }
  }

  /** Keeps a copy of a request body chunk about to be sent, for a retry. */
  private void keepForReplay(HttpContent c) {
    if (retryPolicy == null || retryPolicy.numRetries() == 0 || replayOverflow) {
      return;
    }
    int n = c.content().readableBytes();
    if (replayBytes + n > MAX_REPLAY) {
      replayOverflow = true; // Envoy: a body past the buffer limit is streamed and not retried
      releaseReplay();
      return;
    }
    if (replay == null) {
      replay = new ArrayDeque<>(4);
    }
    replay.add(c.retainedDuplicate());
    replayBytes += n;
  }

  private void releaseReplay() {
    if (replay != null) {
      replay.forEach(ReferenceCountUtil::release);
      replay = null;
    }
  }

  private void releasePendingSlot() {
    if (pendingSlot) {
      pendingSlot = false;
      breaker.releasePending();
    }
  }

  private void releaseRetrySlot() {
    if (retrySlot) {
      retrySlot = false;
      breaker.releaseRetry();
    }
  }

  /** Whether the pool should still hand this exchange a connection. */
  boolean waitingForConnection() {
    return waiting && !done && !responseStarted;
  }

  /**
   * The loop's pool has a connection for this queued exchange ({@code ch}, released by another request of
   * the cluster), or one of the cluster's connections closed ({@code ch} null: try to open one again).
   */
  void connectionAvailable(Channel ch) {
    if (!waitingForConnection()) {
      if (ch != null) {
        conn.pool().release(ch);
      }
      return;
    }
    OutlierDetector od = cluster.outlier();
    if (ch != null && od != null && od.ejecting() && od.isEjected(UpstreamPool.addressOf(ch))) {
      // released by a request to an endpoint ejected since (maybe by that very answer): not to be used; its
      // close frees the slot this exchange waits for and wakes it to connect to the endpoint it was balanced to
      conn.pool().await(breaker, this);
      ch.close();
      return;
    }
    waiting = false;
    if (ch == null) {
      connect();
      return;
    }
    upstreamAddress = UpstreamPool.addressOf(ch);
    meshTarget = runtime.meshTarget(cluster.name(), upstreamAddress, conn.remoteIp());
    releasePendingSlot();
    attach(ch, true);
  }

  /** Detaches and closes the upstream connection of the current try. */
  private void dropUpstream() {
    Channel ch = upstream;
    if (ch != null) {
      upstream = null;
      UpstreamHandler.of(ch).exchange = null;
      ch.close();
      conn.resume(DownstreamHandler.PAUSE_UPSTREAM);
    }
  }

  private void connect() {
    conn.pause(DownstreamHandler.PAUSE_PENDING);
    if (!pendingSlot) {
      if (!breaker.tryAcquirePending()) {
        sendLocal(503, UPSTREAM_OVERFLOW, "UO");
        return;
      }
      pendingSlot = true;
    }
    if (!breaker.tryAcquireConnection()) {
      waiting = true; // maxConnections: wait for one of the cluster's connections (pending, as Envoy)
      conn.pool().await(breaker, this);
      return;
    }
    if (meshTarget != null) {
      connectMesh();
      return;
    }
    int t = tryNo;
    ChannelFuture f = conn.pool().connect(upstreamAddress, connectTimeoutMillis(), breaker);
    f.addListener(x -> {
      if (done || responseStarted || t != tryNo) {
        if (f.isSuccess()) {
          conn.pool().release(f.channel()); // unused and healthy: the next request takes it
        }
        return;
      }
      releasePendingSlot();
      if (f.isSuccess()) {
        attach(f.channel(), false);
      } else {
        tryFailed(RetryPolicy.Failure.CONNECT_FAILURE, 503, UPSTREAM_CONNECT_FAILED, "UF");
      }
    });
  }

  private void connectMesh() {
    MeshTarget target = meshTarget;
    SslContext tls = conn.server().meshClientContext(target.source());
    if (tls == null) {
      LOG.warn("listener {}: cluster {} wants mTLS to {} on node {} but the proxy holds no SVID {}", runtime.name(), cluster.name(),
          target.address(), target.node(), target.source() == null ? "(expected: exactly one, the node's)" : "for " + target.source());
      breaker.releaseConnection(); // counted, never opened
      sendLocal(503, UPSTREAM_CONNECT_FAILED + ", transport failure reason: no workload SVID to present", "UF");
      return;
    }
    int timeout = connectTimeoutMillis();
    int t = tryNo;
    io.netty.util.concurrent.Future<Channel> f = conn.pool().connect(target, tls, timeout, breaker);
    f.addListener(x -> {
      if (done || responseStarted || t != tryNo) {
        if (f.isSuccess()) {
          conn.pool().release(f.getNow());
        }
        return;
      }
      releasePendingSlot();
      if (f.isSuccess()) {
        attach(f.getNow(), false);
      } else if (f.cause() instanceof UpstreamPool.UpstreamTlsException e) {
        LOG.warn("listener {}: mTLS to {} (cluster {}, node {}) failed: {}", runtime.name(), target.address(), cluster.name(),
            target.node(), e.getMessage());
        tryFailed(RetryPolicy.Failure.CONNECT_FAILURE, 503, UPSTREAM_CONNECT_FAILED + ", transport failure reason: " + e.getMessage(), "UF");
      } else {
        tryFailed(RetryPolicy.Failure.CONNECT_FAILURE, 503, UPSTREAM_CONNECT_FAILED, "UF");
      }
    });
  }

  private int connectTimeoutMillis() {
    long ms = cluster.connectTimeoutMillis() > 0 ? cluster.connectTimeoutMillis() : runtime.settings().connectTimeout().toMillis();
    return (int) Math.min(Integer.MAX_VALUE, ms);
  }

  private void attach(Channel ch, boolean reused) {
    UpstreamHandler handler = UpstreamHandler.of(ch);
    handler.served++;
    OutlierDetector od = cluster.outlier();
    if (od != null) {
      od.reportConnected(upstreamAddress); // Envoy's LocalOriginConnectSuccess (a no-op without the local-origin split)
    }
    upstream = ch;
    upstreamReused = reused;
    handler.exchange = this;
    ch.write(request, ch.voidPromise());
    if (pendingBody != null) {
      HttpContent c;
      while ((c = pendingBody.poll()) != null) {
        if (c instanceof LastHttpContent) {
          lastForwarded = true;
        }
        keepForReplay(c);
        ch.write(c, ch.voidPromise());
      }
    }
    if (requestComplete && !lastForwarded) {
      lastForwarded = true; // a retry of a bodiless request
      ch.write(LastHttpContent.EMPTY_LAST_CONTENT, ch.voidPromise());
    }
    if (!conn.inRead()) {
      ch.flush();
    }
    ch.config().setAutoRead(conn.channel().isWritable());
    conn.resume(DownstreamHandler.PAUSE_PENDING);
    if (!ch.isWritable()) {
      conn.pause(DownstreamHandler.PAUSE_UPSTREAM);
    }
  }

  void onRequestContent(HttpContent c) {
    if (c.decoderResult().isFailure()) {
      // a broken chunk or trailer: never let it end the upstream body as if it were complete
      c.release();
      requestComplete = true;
      closeConnection = true;
      Channel ch = upstream;
      if (ch != null) {
        upstream = null;
        UpstreamHandler.of(ch).exchange = null;
        ch.close();
      }
      if (!responseStarted) {
        sendLocal(HttpResponseStatus.BAD_REQUEST.code(), "bad request", "DPE");
      } else if (!responseComplete) {
        abort("DPE");
      } else {
        flag("DPE");
        maybeFinish();
      }
      return;
    }
    int n = c.content().readableBytes();
    bytesIn += n;
    boolean last = c instanceof LastHttpContent;
    if (last) {
      requestComplete = true;
    }
    if (mirror != null) {
      mirror.content(c);
    }
    if (responseComplete || local) {
      c.release();
      discarded += n;
      if (discarded > MAX_DISCARD) {
        closeConnection = true;
      }
      maybeFinish();
      return;
    }
    if (upstream != null) {
      if (last) {
        lastForwarded = true;
      }
      keepForReplay(c);
      upstream.write(c, upstream.voidPromise());
      if (!conn.inRead()) {
        upstream.flush();
      }
      return;
    }
    if (pendingBody == null) {
      pendingBody = new ArrayDeque<>(4);
    }
    pendingBody.add(c);
    conn.pause(DownstreamHandler.PAUSE_PENDING);
  }

  void flushUpstream() {
    if (upstream != null) {
      upstream.flush();
    }
  }

  void downstreamWritabilityChanged(boolean writable) {
    if (upstream != null) {
      upstream.config().setAutoRead(writable);
    }
  }

  // ---- response ----

  void onUpstream(HttpObject o) {
    if (o instanceof HttpResponse r) {
      if (r.decoderResult().isFailure()) {
        ReferenceCountUtil.release(o);
        upstreamProtocolError();
        return;
      }
      int code = r.status().code();
      if (code < 200) {
        if (code == 101) {
          List<String> up = r.headers().getAll(HttpHeaderNames.UPGRADE);
          if (upgrade && !responseStarted && up.size() == 1 && HttpHeaderValues.WEBSOCKET.contentEqualsIgnoreCase(up.get(0).trim())) {
            switchToWebSocket(r);
            return;
          }
          ReferenceCountUtil.release(o);
          upstreamProtocolError(); // a switch nobody asked for (or to another protocol) is a broken upstream
          return;
        }
        informational = true;
        if (!http10) {
          ForwardingHeaders.removeHopByHop(r.headers());
          conn.writeHead(r, false);
        }
        return;
      }
      reportOutlier(code); // every try's response counts, a retried one too (Envoy's router)
      if (retryPolicy != null && !responseStarted && retryPolicy.retriableResponse(code, r.headers().get("grpc-status"))) {
        String denied = retry();
        if (denied == null) {
          ReferenceCountUtil.release(o);
          dropUpstream(); // Envoy resets the stream of a response it retries: HTTP/1.1 can only close
          return;
        }
        if (!denied.isEmpty()) {
          flag(denied);
        }
      }
      tryDeadlineSet = false;
      releaseReplay();
      firstByteNanos = System.nanoTime();
      status = code;
      responseStarted = true;
      upstreamKeepAlive = HttpUtil.isKeepAlive(r);
      r.setProtocolVersion(HttpVersion.HTTP_1_1); // our version towards the client, whatever the upstream speaks
      HttpHeaders h = r.headers();
      ForwardingHeaders.removeHopByHop(h);
      ForwardingHeaders.appendVia(h, conn.server().via(runtime));
      if (!h.contains(HttpHeaderNames.CONTENT_LENGTH) && !h.contains(HttpHeaderNames.TRANSFER_ENCODING)
          && !head && code != 204 && code != 304) {
        // a close-delimited upstream body: chunk it for HTTP/1.1 so the downstream connection survives
        if (http10) {
          closeConnection = true;
        } else {
          h.set(HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderValues.CHUNKED);
        }
      }
      finishResponseHead(r);
      conn.writeHead(r, head);
      if (!(o instanceof HttpContent)) {
        return;
      }
    }
    if (o instanceof HttpContent c) {
      if (informational) {
        c.release();
        if (c instanceof LastHttpContent) {
          informational = false;
        }
        return;
      }
      bytesOut += c.content().readableBytes();
      conn.write(c);
      if (c instanceof LastHttpContent) {
        conn.flush();
        responseComplete = true;
        routeDeadlineSet = false;
        releaseUpstream();
        maybeFinish();
      }
    }
  }

  private void finishResponseHead(HttpResponse r) {
    HttpHeaders h = r.headers();
    if (routed && route.action().changesResponse()) {
      route.action().applyResponse(h, clusterIndex);
    }
    if (responseHeaders != null) {
      h.add(responseHeaders);
    }
    for (int i = filtersStarted - 1; i >= 0; i--) {
      try {
        filters[i].onResponse(this, r);
      } catch (RuntimeException e) {
        LOG.warn("listener {}: filter {} failed on the response of {}: {}", runtime.name(), runtime.filterNames().get(i), requestId, e.toString());
      }
    }
    if (http10 && HttpUtil.isTransferEncodingChunked(r)) {
      h.remove(HttpHeaderNames.TRANSFER_ENCODING); // HTTP/1.0 has no chunking: the body ends with the connection
      closeConnection = true;
    }
    if (!keepAlive || closeConnection) {
      closeConnection = true;
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    } else if (http10) {
      h.set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
    }
  }

  private void releaseUpstream() {
    Channel ch = upstream;
    if (ch == null) {
      return;
    }
    upstream = null;
    UpstreamHandler handler = UpstreamHandler.of(ch);
    handler.exchange = null;
    int maxPerConnection = cluster.breaker().limits().maxRequestsPerConnection();
    if (maxPerConnection > 0 && handler.served >= maxPerConnection) {
      ch.close(); // maxRequestsPerConnection: this connection has carried its share
    } else if (requestComplete && lastForwarded && upstreamKeepAlive && ch.isActive()) {
      conn.pool().release(ch);
    } else {
      ch.close();
    }
  }

  private void upstreamProtocolError() {
    if (!responseStarted) {
      reportOutlier(502);
    }
    Channel ch = upstream;
    if (ch != null) {
      upstream = null;
      UpstreamHandler.of(ch).exchange = null;
      ch.close();
    }
    if (!responseStarted) {
      sendLocal(502, "upstream protocol error", "UPE");
    } else {
      abort("UPE");
    }
  }

  /** The upstream connection closed under this exchange. */
  void onUpstreamClosed(Channel ch) {
    if (ch != upstream || done) {
      return;
    }
    upstream = null;
    if (responseComplete) {
      return;
    }
    if (!responseStarted) {
      if (upstreamReused && retries == 0 && requestComplete && bytesIn == 0 && idempotent()) {
        // a pooled connection the server closed as we reused it: nothing was processed, send again on a new one
        retries++;
        lastForwarded = false;
        connect();
        return;
      }
      tryFailed(RetryPolicy.Failure.RESET, 503, UPSTREAM_RESET, "UC");
    } else {
      abort("UC");
    }
  }

  private boolean idempotent() {
    HttpMethod m = request.method();
    return m.equals(HttpMethod.GET) || m.equals(HttpMethod.HEAD) || m.equals(HttpMethod.OPTIONS) || m.equals(HttpMethod.PUT)
        || m.equals(HttpMethod.DELETE) || m.equals(HttpMethod.TRACE);
  }

  /** The response cannot be completed: close downstream mid-body. */
  private void abort(String flag) {
    flag(flag);
    responseComplete = true;
    closeConnection = true;
    conn.closeNow();
    finish();
  }

  void onDownstreamClosed() {
    if (done) {
      return;
    }
    if (!responseComplete) {
      flag("DC");
    }
    Channel ch = upstream;
    if (ch != null) {
      upstream = null;
      UpstreamHandler.of(ch).exchange = null;
      ch.close();
    }
    closeConnection = true;
    finish();
  }

  private void respondLocal(LocalResponse r) {
    if (r.close()) {
      closeConnection = true;
    }
    if (!r.headers().isEmpty()) {
      HttpHeaders h = responseHeaders();
      r.headers().forEach(h::set);
    }
    sendLocal(r.status(), r.body(), r.responseFlag());
  }

  /** Answers from the proxy itself. */
  void sendLocal(int code, String body, String flag) {
    if (responseStarted) {
      abort(flag == null ? "LR" : flag);
      return;
    }
    local = true;
    responseStarted = true;
    responseComplete = true;
    status = code;
    if (flag != null) {
      flag(flag);
    }
    Channel ch = upstream;
    if (ch != null) {
      upstream = null;
      UpstreamHandler.of(ch).exchange = null;
      ch.close();
    }
    releasePendingBody();
    byte[] bytes = body == null ? new byte[0] : body.getBytes(StandardCharsets.UTF_8);
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.valueOf(code),
        bytes.length == 0 ? Unpooled.EMPTY_BUFFER : Unpooled.wrappedBuffer(bytes));
    HttpHeaders h = r.headers();
    if (bytes.length > 0) {
      h.set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN);
    }
    h.setInt(HttpHeaderNames.CONTENT_LENGTH, bytes.length);
    if (expectsBody && !requestComplete) {
      closeConnection = true; // its body may be large: do not read it only to drop it
    }
    finishResponseHead(r);
    bytesOut = bytes.length;
    conn.writeHead(r, head);
    conn.flush();
    maybeFinish();
  }

  private void releasePendingBody() {
    if (pendingBody != null) {
      pendingBody.forEach(ReferenceCountUtil::release);
      pendingBody = null;
    }
  }

  private void maybeFinish() {
    if (!done && responseComplete && (requestComplete || closeConnection)) {
      finish();
      conn.exchangeDone(this, closeConnection);
    }
  }

  /** Shadows this request to the route's mirror: fire and forget, the body as much of it as already arrived and the rest as it comes. */
  private void startMirror(RouteAction.MirrorPolicy policy) {
    mirror = Mirror.start(conn, runtime, policy.cluster(), request);
    if (mirror == null) {
      return;
    }
    boolean sawLast = false;
    if (pendingBody != null) {
      for (HttpContent c : pendingBody) {
        mirror.content(c);
        sawLast |= c instanceof LastHttpContent;
      }
    }
    if (requestComplete && !sawLast) {
      mirror.end();
    }
  }

  /** Moves this exchange's in-flight count (least request) to {@code endpoint}: one count per exchange, ended in finish. */
  private void countActive(InetSocketAddress endpoint) {
    if (activeCluster != null) {
      activeCluster.activeRequests().ended(activeEndpoint);
      activeCluster = null;
    }
    if (endpoint != null) {
      activeCluster = cluster;
      activeEndpoint = endpoint;
      cluster.activeRequests().started(endpoint);
    }
  }

  private void finish() {
    if (done) {
      return;
    }
    done = true;
    countActive(null);
    endNanos = System.nanoTime();
    routeDeadlineSet = false;
    tryDeadlineSet = false;
    waiting = false;
    if (breaker != null) {
      releasePendingSlot();
      releaseRetrySlot();
      if (requestSlot) {
        requestSlot = false;
        breaker.releaseRequest();
      }
    }
    releasePendingBody();
    releaseReplay();
    for (int i = filtersStarted - 1; i >= 0; i--) {
      try {
        filters[i].onComplete(this);
      } catch (RuntimeException e) {
        LOG.warn("listener {}: filter {} failed completing {}: {}", runtime.name(), runtime.filterNames().get(i), requestId, e.toString());
      }
    }
    conn.server().completed(this);
  }

  private void flag(String f) {
    flags = flags.isEmpty() ? f : flags + "," + f;
  }

  // ---- HttpExchange ----

  @Override
  public HttpRequest request() {
    return request;
  }

  @Override
  public String path() {
    return path;
  }

  @Override
  public InetSocketAddress sourceAddress() {
    return conn.remoteAddress();
  }

  @Override
  public InetSocketAddress destinationAddress() {
    return conn.localAddress();
  }

  @Override
  public PeerIdentity peer() {
    return conn.peer();
  }

  @Override
  public ListenerConfig listener() {
    return runtime.config();
  }

  @Override
  public HttpHeaders responseHeaders() {
    if (responseHeaders == null) {
      responseHeaders = new DefaultHttpHeaders();
    }
    return responseHeaders;
  }

  @Override
  public String requestId() {
    return requestId;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T get(StateKey<T> key) {
    return state == null ? null : (T) state.get(key);
  }

  @Override
  public <T> void put(StateKey<T> key, T value) {
    if (state == null) {
      state = new IdentityHashMap<>(4);
    }
    state.put(key, value);
  }

  @Override
  public void addResponseFlag(String f) {
    flag(f);
  }

  @Override
  public String routeName() {
    Route r = matchRoute();
    return r == null ? null : r.name();
  }

  @Override
  public java.util.concurrent.ScheduledExecutorService scheduler() {
    return conn.channel().eventLoop();
  }

  @Override
  public boolean debugHeaders() {
    return runtime.settings().debugHeaders();
  }

  // ---- RouteTable.RequestView ----

  @Override
  public String authority() {
    return authority;
  }

  @Override
  public String method() {
    return request.decoderResult().isFailure() ? null : request.method().name();
  }

  @Override
  public void addResponseHeader(String name, String value) {
    responseHeaders().add(name, value);
  }

  @Override
  public String header(String lowerCaseName) {
    return request.headers().get(lowerCaseName);
  }

  @Override
  public int port() {
    return conn.localAddress().getPort();
  }

  @Override
  public String query() {
    String uri = request.uri();
    int q = uri.indexOf('?');
    if (q < 0) {
      return null;
    }
    int hash = uri.indexOf('#', q);
    return uri.substring(q + 1, hash < 0 ? uri.length() : hash);
  }

  @Override
  public String scheme() {
    return conn.tls() ? "https" : "http";
  }

  // ---- CompletedExchange ----

  @Override
  public long startEpochMillis() {
    return startMillis;
  }

  @Override
  public long durationMicros() {
    return ((done ? endNanos : System.nanoTime()) - startNanos) / 1000;
  }

  @Override
  public long durationToFirstUpstreamByteMicros() {
    return firstByteNanos < 0 ? -1 : (firstByteNanos - startNanos) / 1000;
  }

  @Override
  public String node() {
    return runtime.settings().node();
  }

  @Override
  public String listenerName() {
    return runtime.name();
  }

  @Override
  public TrafficDirection direction() {
    return runtime.config().getDirection();
  }

  @Override
  public String protocol() {
    return request.protocolVersion().text();
  }

  @Override
  public String route() {
    return route == null ? null : route.name();
  }

  @Override
  public String cluster() {
    return cluster == null ? null : cluster.name();
  }

  @Override
  public InetSocketAddress upstreamAddress() {
    return upstreamAddress;
  }

  @Override
  public int status() {
    return responseStarted ? status : 0;
  }

  @Override
  public String responseFlags() {
    return flags;
  }

  @Override
  public long bytesReceived() {
    return bytesIn;
  }

  @Override
  public long bytesSent() {
    return bytesOut;
  }

  @Override
  public int retries() {
    return retries;
  }

  @Override
  public boolean localResponse() {
    return local;
  }

  @Override
  public String configVersion() {
    return runtime.version();
  }
}
