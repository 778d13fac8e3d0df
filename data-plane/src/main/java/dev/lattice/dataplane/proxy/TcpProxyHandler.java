package dev.lattice.dataplane.proxy;

import dev.lattice.authz.AuthzRequest;
import dev.lattice.authz.Decision;
import dev.lattice.authz.PeerIdentity;
import dev.lattice.authz.RequestAuth;
import dev.lattice.dataplane.filter.ExchangeKeys;
import dev.lattice.dataplane.filter.StateKey;
import dev.lattice.dataplane.route.UpstreamCluster;
import dev.lattice.events.config.TrafficDirection;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One downstream connection of a TCP listener (Envoy's {@code tcp_proxy}): once the connection's mesh mTLS, if any, is
 * up, authorization decides on its L4 attributes (a denial closes it: Istio's TCP deny), a weighted cluster and an
 * endpoint are picked, an upstream connection is opened (over the mesh's mTLS for a mesh endpoint of an outbound
 * listener) and both become a raw relay ({@link ConnectTunnel}). Bytes the client sends meanwhile are held (reads off
 * after the first) and go upstream first. One completed exchange per connection (protocol {@code TCP}, no method).
 * Event-loop confined.
 */
final class TcpProxyHandler extends ChannelInboundHandlerAdapter implements CompletedExchange {
  private static final Logger LOG = LoggerFactory.getLogger(TcpProxyHandler.class);

  private final ListenerRuntime runtime;
  private final ProxyServer server;
  private final UpstreamPool pool;
  private Channel channel;
  private InetSocketAddress local;
  private InetSocketAddress remote;
  private PeerIdentity peer;
  private ArrayDeque<Object> held;
  private boolean begun;
  private boolean done;
  private long startNanos;
  private long startMillis;
  private long firstByteNanos;
  private long endNanos;
  private String flags = "";
  private UpstreamCluster cluster;
  private InetSocketAddress upstreamAddress;
  private Channel upstream;
  private Decision decision;
  private long bytesIn;
  private long bytesOut;

  TcpProxyHandler(ListenerRuntime runtime, ProxyServer server, UpstreamPool pool) {
    this.runtime = runtime;
    this.server = server;
    this.pool = pool;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    channel = ctx.channel();
    local = (InetSocketAddress) channel.localAddress();
    remote = (InetSocketAddress) channel.remoteAddress();
    startNanos = System.nanoTime();
    startMillis = server.clock().millis();
    if (ctx.pipeline().get("tls") == null && ctx.pipeline().get("tls-detect") == null) {
      begin(); // plaintext: nothing to wait for
    }
    ctx.fireChannelActive();
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      if (!e.isSuccess()) {
        server.countTlsHandshakeFailure(); // SslHandler closes the connection
      } else if (!begun) {
        peer = PeerCertificates.spiffePeer(ctx.pipeline().get(SslHandler.class).engine().getSession());
        begin();
      }
    } else if (evt instanceof IdleStateEvent && !begun) {
      ctx.close(); // a PERMISSIVE connection that never sent its first byte
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (done || !(msg instanceof ByteBuf)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    if (held == null) {
      held = new ArrayDeque<>(2);
    }
    held.add(msg);
    ctx.channel().config().setAutoRead(false); // hold at most what one read brought until the upstream is there
    if (!begun && ctx.pipeline().get(SslHandler.class) == null) {
      begin(); // PERMISSIVE, and the first bytes were not TLS: plaintext without an identity
    }
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (!done) {
      flag("DC");
      if (upstream != null) {
        upstream.close();
      }
      finish();
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    ctx.close(); // resets: channelInactive settles the connection
  }

  private void begin() {
    begun = true;
    TcpRoute route = runtime.tcp();
    if (route.authz() != null) {
      decision = route.authz().evaluate(new View());
      if (!decision.allowed()) {
        LOG.debug("listener {}: TCP connection from {} ({}) denied: {}", runtime.name(), remote, peer == null ? "plaintext" : peer.spiffeId(),
            decision.reason().code());
        flag("RBAC");
        closeDownstream();
        return;
      }
    }
    cluster = route.pick();
    upstreamAddress = cluster == null ? null : cluster.pick();
    if (upstreamAddress == null) {
      flag("UH");
      closeDownstream();
      return;
    }
    ConnectTunnel t = new ConnectTunnel(this::tunnelClosed);
    int timeout = (int) Math.min(Integer.MAX_VALUE,
        cluster.connectTimeoutMillis() > 0 ? cluster.connectTimeoutMillis() : runtime.settings().connectTimeout().toMillis());
    MeshTarget target = runtime.meshTarget(cluster.name(), upstreamAddress, remote.getAddress().getHostAddress());
    if (target == null) {
      ChannelFuture f = pool.connectRaw(upstreamAddress, timeout, t.upstreamHandler());
      f.addListener(x -> connected(t, f.isSuccess() ? f.channel() : null, f.cause()));
      return;
    }
    SslContext tls = server.meshClientContext(target.source());
    if (tls == null) {
      LOG.warn("listener {}: cluster {} wants mTLS to {} on node {} but the proxy holds no SVID", runtime.name(), cluster.name(),
          target.address(), target.node());
      flag("UF");
      closeDownstream();
      return;
    }
    io.netty.util.concurrent.Future<Channel> f = pool.connect(target, tls, timeout);
    f.addListener(x -> connected(t, f.isSuccess() ? f.getNow() : null, f.cause()));
  }

  private void connected(ConnectTunnel t, Channel ch, Throwable cause) {
    if (done) {
      if (ch != null) {
        ch.close();
      }
      return;
    }
    if (ch == null) {
      if (cause instanceof UpstreamPool.UpstreamTlsException e) {
        LOG.warn("listener {}: mTLS to {} (cluster {}) failed: {}", runtime.name(), upstreamAddress, cluster.name(), e.getMessage());
      }
      flag("UF");
      closeDownstream();
      return;
    }
    upstream = ch;
    firstByteNanos = System.nanoTime();
    // splice first: a mesh connection's HTTP codec must be gone before raw bytes are written through its pipeline;
    // nothing new is read in between (same event loop), so the held bytes still go first
    t.splice(channel, ch, runtime.settings().idleTimeout().toNanos(), false);
    if (held != null) {
      Object m;
      while ((m = held.poll()) != null) {
        bytesIn += ((ByteBuf) m).readableBytes();
        ch.write(m, ch.voidPromise());
      }
      ch.flush();
    }
  }

  private void tunnelClosed(ConnectTunnel t) {
    bytesIn += t.sent();
    bytesOut += t.received();
    finish();
  }

  private void closeDownstream() {
    releaseHeld();
    channel.close();
    finish();
  }

  private void releaseHeld() {
    if (held != null) {
      held.forEach(ReferenceCountUtil::release);
      held.clear();
    }
  }

  private void finish() {
    if (done) {
      return;
    }
    done = true;
    releaseHeld();
    endNanos = System.nanoTime();
    server.completed(this);
  }

  private void flag(String f) {
    flags = flags.isEmpty() ? f : flags + "," + f;
  }

  /** The connection as lattice-authz reads it: L4 only, so HTTP-only rule fields never match (Istio's TCP semantics). */
  private final class View implements AuthzRequest {
    @Override public boolean http() { return false; }
    @Override public PeerIdentity peer() { return peer; }
    @Override public byte[] sourceAddress() { return remote.getAddress().getAddress(); }
    @Override public byte[] remoteAddress() { return sourceAddress(); }
    @Override public byte[] destinationAddress() { return local.getAddress().getAddress(); }
    @Override public int destinationPort() { return local.getPort(); }
    @Override public String sni() { return null; }
    @Override public String method() { return null; }
    @Override public String authority() { return null; }
    @Override public String path() { return null; }
    @Override public String header(String lowerCaseName) { return null; }
    @Override public RequestAuth auth() { return null; }
  }

  // ---- CompletedExchange ----

  @Override public long startEpochMillis() { return startMillis; }
  @Override public long durationMicros() { return ((done ? endNanos : System.nanoTime()) - startNanos) / 1000; }
  @Override public long durationToFirstUpstreamByteMicros() { return firstByteNanos == 0 ? -1 : (firstByteNanos - startNanos) / 1000; }
  @Override public String node() { return runtime.settings().node(); }
  @Override public String listenerName() { return runtime.name(); }
  @Override public String configVersion() { return runtime.version(); }
  @Override public TrafficDirection direction() { return runtime.config().getDirection(); }
  @Override public InetSocketAddress sourceAddress() { return remote; }
  @Override public InetSocketAddress destinationAddress() { return local; }
  @Override public PeerIdentity peer() { return peer; }
  @Override public String protocol() { return "TCP"; }
  @Override public String method() { return null; }
  @Override public String authority() { return null; }
  @Override public String path() { return null; }
  @Override public String requestId() { return null; }
  @Override public String route() { return null; }
  @Override public String cluster() { return cluster == null ? null : cluster.name(); }
  @Override public InetSocketAddress upstreamAddress() { return upstream == null ? null : upstreamAddress; }
  @Override public int status() { return 0; }
  @Override public String responseFlags() { return flags; }
  @Override public long bytesReceived() { return bytesIn; }
  @Override public long bytesSent() { return bytesOut; }
  @Override public int retries() { return 0; }
  @Override public boolean localResponse() { return false; }

  @Override
  @SuppressWarnings("unchecked")
  public <T> T get(StateKey<T> key) {
    return key == ExchangeKeys.AUTHZ_DECISION ? (T) decision : null;
  }
}
