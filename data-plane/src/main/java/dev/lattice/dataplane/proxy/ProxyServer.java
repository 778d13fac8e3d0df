package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.PooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.lattice.dataplane.tls.TlsEngine;
import dev.lattice.events.policy.MtlsMode;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.ssl.OptionalSslHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.internal.VertxInternal;
import io.vertx.core.spi.transport.Transport;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's traffic path: one Netty server socket per configured listener, on Vert.x's own event
 * loops and transport (epoll when available), each connection served by a {@link DownstreamHandler}
 * whose upstream connections come from the keep-alive pool of its event loop. {@link #apply} swaps the
 * config atomically (listeners added, removed or re-pointed; in-flight requests finish on the old one);
 * a snapshot that does not compile or bind is refused and the previous one keeps serving. Thread-safe;
 * the creator closes it.
 */
public final class ProxyServer {
  private static final Logger LOG = LoggerFactory.getLogger(ProxyServer.class);
  private static final WriteBufferWaterMark WATER_MARK = new WriteBufferWaterMark(32 * 1024, 64 * 1024);
  /**
   * Buffers of the traffic path, both sides. Netty 4.2's default (adaptive) allocator spent ~13 % of the event
   * loop's samples in a bare-route profile (a shared queue and a lock per allocation, sized for many threads);
   * the pooled allocator serves an event loop from its thread cache. {@code -Dio.netty.allocator.type=...}
   * still chooses (docs/decisions.md).
   */
  static final ByteBufAllocator ALLOCATOR = System.getProperty("io.netty.allocator.type") == null
      ? PooledByteBufAllocator.DEFAULT : ByteBufAllocator.DEFAULT;

  private final VertxInternal vertx;
  private final Transport transport;
  private final ProxyServerOptions options;
  private final Map<EventLoop, UpstreamPool> pools = new ConcurrentHashMap<>();
  private final ChannelGroup connections = new DefaultChannelGroup("lattice-downstream", GlobalEventExecutor.INSTANCE);
  private final Map<String, ListenerBinding> bindings = new LinkedHashMap<>();
  private final AtomicLong headersTimeouts = new AtomicLong();
  private final AtomicLong idleTimeouts = new AtomicLong();
  private final AtomicLong tlsHandshakeFailures = new AtomicLong();
  private final MeshTls meshTls;
  private volatile ProxySnapshot snapshot;
  private volatile boolean draining;
  private volatile String via;
  /** The timer driving outlier-detection sweeps (each cluster's detector sweeps once per its own interval). */
  private final long outlierTimer;

  private ProxyServer(Vertx vertx, ProxyServerOptions options) {
    this.vertx = (VertxInternal) vertx;
    this.transport = this.vertx.transport();
    this.options = options;
    this.meshTls = options.identitySource() == null ? null : new MeshTls(options.identitySource(), TlsEngine.AUTO);
    this.outlierTimer = this.vertx.setPeriodic(OUTLIER_TICK_MS, id -> sweepOutliers());
  }

  /** How often detectors are asked whether their interval is over (real time; the interval itself is on the clock). */
  static final long OUTLIER_TICK_MS = 50;

  /** Asks every cluster's outlier detector of the served snapshot to sweep if its interval passed. In memory, cheap. */
  void sweepOutliers() {
    ProxySnapshot s = snapshot;
    if (s == null) {
      return;
    }
    for (dev.lattice.dataplane.route.UpstreamCluster c : s.clusters.values()) {
      if (c.outlier() != null) {
        c.outlier().maybeSweep();
      }
    }
  }

  /** Binds every listener of {@code config}; fails (binding nothing) if the config does not compile or a port is taken. */
  public static Future<ProxyServer> start(Vertx vertx, ProxyConfig config, ProxyServerOptions options) {
    ProxyServer s = new ProxyServer(vertx, options);
    return s.apply(config).map(v -> s).onFailure(e -> s.vertx.cancelTimer(s.outlierTimer)); // a proxy never started keeps no timer
  }

  /** Makes {@code config} the served snapshot (refused while draining: a drained proxy binds nothing new). */
  public Future<Void> apply(ProxyConfig config) {
    if (draining) {
      return Future.failedFuture(new IllegalStateException("config " + config.version() + " refused: the proxy is draining"));
    }
    // compiling reads files (TLS certificates): never on an event loop
    return vertx.<ProxySnapshot>executeBlocking(() -> ProxySnapshot.compile(config, options.filterFactories(), meshTls != null,
        options.clock(), snapshot))
        .compose(next -> swap(config, next));
  }

  private synchronized Future<Void> swap(ProxyConfig config, ProxySnapshot next) {
    if (draining) {
      return Future.failedFuture(new IllegalStateException("config " + config.version() + " refused: the proxy is draining"));
    }
    List<Future<Void>> binds = new ArrayList<>();
    Map<String, ListenerBinding> added = new LinkedHashMap<>();
    for (ListenerRuntime r : next.listeners.values()) {
      ListenerBinding b = bindings.get(r.name());
      if (b != null && sameSocket(b, r)) {
        continue;
      }
      ListenerBinding nb = new ListenerBinding(r);
      added.put(r.name(), nb);
      binds.add(bind(nb));
    }
    return Future.all(binds).transform(ar -> {
      synchronized (this) {
        if (ar.failed()) {
          added.values().forEach(b -> {
            if (b.serverChannel != null) {
              b.serverChannel.close();
            }
          });
          return Future.failedFuture(ar.cause());
        }
        via = "1.1 " + config.settings().node();
        for (ListenerRuntime r : next.listeners.values()) {
          ListenerBinding nb = added.get(r.name());
          ListenerBinding old = bindings.get(r.name());
          if (nb != null) {
            if (old != null) {
              old.serverChannel.close();
            }
            bindings.put(r.name(), nb);
          } else {
            old.runtime(r);
          }
        }
        Set<String> keep = next.listeners.keySet();
        bindings.entrySet().removeIf(e -> {
          if (!keep.contains(e.getKey())) {
            e.getValue().serverChannel.close();
            return true;
          }
          return false;
        });
        snapshot = next;
        LOG.info("serving config {}: listeners {}", config.version(), listenerAddresses());
        return Future.<Void>succeededFuture();
      }
    });
  }

  /** Whether {@code next} can keep the socket {@code bound} holds (same address; same port, or any port when it asks for 0). */
  private static boolean sameSocket(ListenerBinding bound, ListenerRuntime next) {
    InetSocketAddress a = bound.boundAddress();
    return a != null && bound.runtime().config().getAddress().equals(next.config().getAddress())
        && (next.config().getPort() == 0 || next.config().getPort() == a.getPort());
  }

  private Future<Void> bind(ListenerBinding b) {
    ListenerRuntime r = b.runtime();
    ServerBootstrap sb = new ServerBootstrap()
        .group(vertx.acceptorEventLoopGroup(), vertx.nettyEventLoopGroup())
        .channelFactory(transport.serverChannelFactory(false))
        .option(ChannelOption.SO_REUSEADDR, true)
        .option(ChannelOption.SO_BACKLOG, 1024)
        .childOption(ChannelOption.TCP_NODELAY, true)
        .childOption(ChannelOption.ALLOCATOR, ALLOCATOR)
        .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, WATER_MARK)
        .childHandler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            UpstreamPool pool = pools.computeIfAbsent(ch.eventLoop(),
                loop -> new UpstreamPool(loop, transport.channelFactory(false), WATER_MARK));
            // limits come from the snapshot current when the connection is accepted
            ListenerRuntime runtime = b.runtime();
            ProxySettings settings = runtime.settings();
            HttpDecoderConfig decoder = new HttpDecoderConfig()
                .setMaxInitialLineLength(settings.maxInitialLineBytes())
                .setMaxHeaderSize(settings.maxHeaderBytes())
                .setMaxChunkSize(64 * 1024)
                .setHeadersFactory(ProxyHeaders.FACTORY);
            DownstreamHandler handler = new DownstreamHandler(b, ProxyServer.this, pool);
            long handshakeMillis = settings.headersTimeout().toMillis(); // a stalled ClientHello is a slowloris too
            if (runtime.tls() != null) {
              SslHandler tls = runtime.tls().newHandler(ch.alloc());
              tls.setHandshakeTimeoutMillis(handshakeMillis);
              ch.pipeline().addLast("tls", tls);
            } else if (runtime.peerMode() == MtlsMode.STRICT || runtime.peerMode() == MtlsMode.PERMISSIVE) {
              SslContext mesh = meshTls.serverContext(runtime.workload());
              if (mesh == null && runtime.peerMode() == MtlsMode.STRICT) {
                LOG.warn("listener {}: STRICT mTLS but {}; connection refused", runtime.name(), meshTls.problem(runtime.workload()));
                countTlsHandshakeFailure();
                ch.close();
                return;
              }
              if (mesh != null && runtime.peerMode() == MtlsMode.STRICT) {
                SslHandler tls = mesh.newHandler(ch.alloc());
                tls.setHandshakeTimeoutMillis(handshakeMillis);
                ch.pipeline().addLast("tls", tls);
              } else if (mesh != null) {
                // PERMISSIVE: mTLS when the first bytes are a TLS record, plaintext otherwise
                ch.pipeline().addLast("tls-detect", new OptionalSslHandler(mesh) {
                  @Override
                  protected SslHandler newSslHandler(ChannelHandlerContext context, SslContext sslContext) {
                    SslHandler tls = super.newSslHandler(context, sslContext);
                    tls.setHandshakeTimeoutMillis(handshakeMillis);
                    return tls;
                  }
                });
              }
            }
            if (runtime.tcp() != null) {
              // a TCP listener: no HTTP codecs; the idle timeout covers a PERMISSIVE connection's wait for its first byte too
              ch.pipeline()
                  .addLast("tunnel-idle", new io.netty.handler.timeout.IdleStateHandler(0, 0, settings.idleTimeout().toNanos(),
                      java.util.concurrent.TimeUnit.NANOSECONDS))
                  .addLast("proxy", new TcpProxyHandler(runtime, ProxyServer.this, pool));
              connections.add(ch);
              return;
            }
            ch.pipeline()
                .addLast("timeouts", new DownstreamTimeouts(settings.headersTimeout().toNanos(), settings.idleTimeout().toNanos(),
                    handler::headersTimedOut, handler::idleTimedOut))
                .addLast("decoder", new RequestDecoder(decoder))
                .addLast("encoder", new ResponseEncoder())
                .addLast("proxy", handler);
            connections.add(ch);
          }
        });
    Promise<Void> p = Promise.promise();
    ChannelFuture f = sb.bind(new InetSocketAddress(r.config().getAddress(), r.config().getPort()));
    f.addListener(x -> {
      if (f.isSuccess()) {
        b.serverChannel = f.channel();
        p.complete();
      } else {
        p.fail(new IllegalStateException("listener " + r.name() + ": cannot bind " + r.config().getAddress() + ":"
            + r.config().getPort() + " (" + f.cause().getMessage() + ")", f.cause()));
      }
    });
    return p.future();
  }

  /** The socket address listener {@code name} is bound to (the real port when the config said 0), or null. */
  public synchronized InetSocketAddress address(String name) {
    ListenerBinding b = bindings.get(name);
    return b == null ? null : b.boundAddress();
  }

  /** Bound address per listener name. */
  public synchronized Map<String, InetSocketAddress> listenerAddresses() {
    Map<String, InetSocketAddress> m = new LinkedHashMap<>();
    bindings.forEach((k, v) -> m.put(k, v.boundAddress()));
    return m;
  }

  /** Cluster {@code name} of the snapshot being served (breakers, budget, outlier state), or null. */
  public dev.lattice.dataplane.route.UpstreamCluster cluster(String name) {
    return snapshot.clusters.get(name);
  }

  /** The config being served. */
  public ProxyConfig config() {
    return snapshot.config;
  }

  /** Request heads that did not complete within the headers timeout (closed with 408). */
  public long headersTimeouts() {
    return headersTimeouts.get();
  }

  /** Downstream connections closed after the idle timeout without a request. */
  public long idleTimeouts() {
    return idleTimeouts.get();
  }

  /** TLS handshakes that failed or timed out on listeners that terminate TLS. */
  public long tlsHandshakeFailures() {
    return tlsHandshakeFailures.get();
  }

  /** Downstream connections open now. */
  public int openConnections() {
    return connections.size();
  }

  /** Whether {@link #drain} was called. */
  public boolean draining() {
    return draining;
  }

  /**
   * Envoy's drain: stops accepting (the listener sockets close at once), lets the open connections finish
   * what they are doing for up to {@code grace} (an idle keep-alive connection goes at its idle timeout),
   * then {@link #close}s whatever is left. Idempotent in effect; the future completes when closed.
   */
  public Future<Void> drain(Duration grace) {
    synchronized (this) {
      draining = true;
      bindings.values().forEach(b -> b.serverChannel.close());
    }
    Promise<Void> done = Promise.promise();
    long deadline = System.nanoTime() + grace.toNanos();
    vertx.setPeriodic(20, id -> {
      if (connections.isEmpty() || System.nanoTime() - deadline >= 0) {
        vertx.cancelTimer(id);
        close().onComplete(done);
      }
    });
    return done.future();
  }

  /** Stops listening, closes every connection and the idle upstream pools. */
  public Future<Void> close() {
    vertx.cancelTimer(outlierTimer);
    List<Future<Void>> all = new ArrayList<>();
    synchronized (this) {
      bindings.values().forEach(b -> all.add(toFuture(b.serverChannel.close())));
      bindings.clear();
    }
    Promise<Void> conns = Promise.promise();
    connections.close().addListener(x -> conns.complete());
    all.add(conns.future());
    pools.values().forEach(pool -> {
      Promise<Void> p = Promise.promise();
      pool.loop().execute(() -> {
        pool.close();
        p.complete();
      });
      all.add(p.future());
    });
    return Future.all(all).mapEmpty();
  }

  private static Future<Void> toFuture(ChannelFuture f) {
    Promise<Void> p = Promise.promise();
    f.addListener(x -> p.complete());
    return p.future();
  }

  Clock clock() {
    return options.clock();
  }

  /** The client mTLS context presenting {@code source}'s SVID (null: the node's only one), or null when there is none. */
  SslContext meshClientContext(String source) {
    return meshTls == null ? null : meshTls.clientContext(source);
  }

  String via(ListenerRuntime r) {
    return via;
  }

  void countHeadersTimeout() {
    headersTimeouts.incrementAndGet();
  }

  void countTlsHandshakeFailure() {
    tlsHandshakeFailures.incrementAndGet();
  }

  void countIdleTimeout() {
    idleTimeouts.incrementAndGet();
  }

  void completed(CompletedExchange ex) {
    try {
      options.exchangeListener().onComplete(ex);
    } catch (RuntimeException e) {
      LOG.warn("exchange listener failed: {}", e.toString());
    }
  }
}
