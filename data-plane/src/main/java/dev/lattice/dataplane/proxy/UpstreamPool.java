package dev.lattice.dataplane.proxy;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFactory;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpDecoderConfig;
import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.dataplane.upstream.resilience.CircuitBreaker;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive upstream HTTP/1.1 connections of one event loop, by key — the endpoint's
 * {@link InetSocketAddress} for plaintext, its {@link MeshTarget} for mTLS: a downstream connection
 * takes its upstream from the pool of its own loop, so a request never crosses threads and the pool
 * needs no locks. Idle connections are reused most-recent first (warm, least likely to be closed by
 * the server's idle timeout). Confined to its event loop.
 */
final class UpstreamPool {
  /** Idle connections kept per endpoint and loop; more are closed on release. */
  static final int MAX_IDLE_PER_ENDPOINT = 256;

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  /** The pool key a connection was opened for. */
  private static final AttributeKey<Object> KEY = AttributeKey.valueOf("lattice.upstream.key");
  private final Map<Object, ArrayDeque<Channel>> idle = new HashMap<>();
  /** The circuit breaker that counts a connection (its cluster's), released when it closes. */
  private static final AttributeKey<CircuitBreaker> BREAKER = AttributeKey.valueOf("lattice.upstream.breaker");
  /** Exchanges of this loop waiting for a connection of a cluster at its maxConnections, oldest first. */
  private final Map<CircuitBreaker, ArrayDeque<Exchange>> waiters = new HashMap<>();
  private final Map<CircuitBreaker, Runnable> wakers = new HashMap<>();
  private boolean closed;

  UpstreamPool(EventLoop loop, ChannelFactory<? extends Channel> channels, WriteBufferWaterMark waterMark) {
    this.loop = loop;
    this.bootstrap = new Bootstrap().group(loop).channelFactory(channels)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.ALLOCATOR, ProxyServer.ALLOCATOR)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            // no aggregation: the response streams through in the pieces it arrives in
            ch.pipeline().addLast("codec", new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(64 * 1024)
                .setMaxHeaderSize(64 * 1024).setHeadersFactory(ProxyHeaders.FACTORY), HttpClientCodec.DEFAULT_PARSE_HTTP_AFTER_CONNECT_REQUEST, false));
            ch.pipeline().addLast("proxy", new UpstreamHandler(UpstreamPool.this));
          }
        });
  }

  EventLoop loop() {
    return loop;
  }

  /** An idle, open connection opened for {@code key} (an address or a {@link MeshTarget}), or null. */
  Channel poll(Object key) {
    ArrayDeque<Channel> q = idle.get(key);
    if (q == null) {
      return null;
    }
    Channel ch;
    while ((ch = q.pollFirst()) != null) {
      if (ch.isActive()) {
        return ch;
      }
    }
    return null;
  }

  /**
   * Opens a raw TCP connection to {@code endpoint} on this loop with only {@code handler} in its pipeline and reads off
   * (a {@code CONNECT} tunnel; never pooled).
   */
  ChannelFuture connectRaw(InetSocketAddress endpoint, int connectTimeoutMillis, io.netty.channel.ChannelHandler handler) {
    return bootstrap.clone().handler(handler).option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis)
        .option(ChannelOption.AUTO_READ, false).connect(endpoint);
  }

  /** Opens a new plaintext connection to {@code endpoint} on this loop. */
  ChannelFuture connect(InetSocketAddress endpoint, int connectTimeoutMillis) {
    return connect(endpoint, connectTimeoutMillis, null);
  }

  /** As above, the connection counted by {@code breaker} (already acquired; released when it closes), or null. */
  ChannelFuture connect(InetSocketAddress endpoint, int connectTimeoutMillis, CircuitBreaker breaker) {
    ChannelFuture f = bootstrap.clone().option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis).connect(endpoint);
    f.channel().attr(KEY).set(endpoint);
    counted(f.channel(), breaker);
    return f;
  }

  private static void counted(Channel ch, CircuitBreaker breaker) {
    if (breaker != null) {
      ch.attr(BREAKER).set(breaker);
      ch.closeFuture().addListener(x -> breaker.releaseConnection());
    }
  }

  /** The endpoint a pooled connection was opened to. */
  static InetSocketAddress addressOf(Channel ch) {
    Object key = ch.attr(KEY).get();
    return key instanceof MeshTarget t ? t.address() : (InetSocketAddress) key;
  }

  /**
   * Queues {@code ex} until a connection of {@code breaker}'s cluster is released on this loop (handed over
   * at once) or one closes anywhere (it tries to connect again). Envoy's pending queue.
   */
  void await(CircuitBreaker breaker, Exchange ex) {
    ArrayDeque<Exchange> q = waiters.computeIfAbsent(breaker, b -> new ArrayDeque<>());
    q.addLast(ex);
    if (!wakers.containsKey(breaker)) {
      Runnable w = () -> loop.execute(() -> wake(breaker));
      wakers.put(breaker, w);
      breaker.addCapacityListener(w);
    }
  }

  /** A connection of the cluster closed somewhere: the oldest live waiter of this loop tries again. */
  private void wake(CircuitBreaker breaker) {
    Exchange ex = nextWaiter(breaker);
    if (ex != null) {
      ex.connectionAvailable(null);
    }
  }

  private Exchange nextWaiter(CircuitBreaker breaker) {
    ArrayDeque<Exchange> q = waiters.get(breaker);
    Exchange ex = null;
    while (q != null && (ex = q.pollFirst()) != null && !ex.waitingForConnection()) {
      ex = null;
    }
    if (q != null && q.isEmpty()) {
      waiters.remove(breaker);
      Runnable w = wakers.remove(breaker);
      if (w != null) {
        breaker.removeCapacityListener(w);
      }
    }
    return ex;
  }

  /**
   * Opens a new mTLS connection to {@code target} on this loop, presenting {@code tls}'s SVID. Completes
   * once the handshake succeeded and the server's SPIFFE ID is the expected one; nothing is sent before.
   * Fails with an {@link UpstreamTlsException} when the handshake or the identity check fails.
   */
  Future<Channel> connect(MeshTarget target, SslContext tls, int timeoutMillis) {
    return connect(target, tls, timeoutMillis, null);
  }

  /** As above, the connection counted by {@code breaker} (already acquired; released when it closes), or null. */
  Future<Channel> connect(MeshTarget target, SslContext tls, int timeoutMillis, CircuitBreaker breaker) {
    Promise<Channel> done = loop.newPromise();
    Bootstrap b = bootstrap.clone().option(ChannelOption.CONNECT_TIMEOUT_MILLIS, timeoutMillis);
    SslHandler[] ssl = new SslHandler[1];
    b.handler(new ChannelInitializer<>() {
      @Override
      protected void initChannel(Channel ch) {
        ssl[0] = tls.newHandler(ch.alloc(), target.address().getHostString(), target.address().getPort());
        ssl[0].setHandshakeTimeoutMillis(timeoutMillis);
        ch.pipeline().addLast("tls", ssl[0]);
        ch.pipeline().addLast(bootstrap.config().handler());
      }
    });
    ChannelFuture f = b.connect(target.address());
    f.channel().attr(KEY).set(target);
    counted(f.channel(), breaker);
    f.addListener(c -> {
      if (!c.isSuccess()) {
        done.tryFailure(c.cause());
        return;
      }
      ssl[0].handshakeFuture().addListener(h -> {
        if (!h.isSuccess()) {
          f.channel().close();
          done.tryFailure(new UpstreamTlsException("TLS error: " + rootMessage(h.cause()), h.cause()));
          return;
        }
        String peer = peerIdentity(ssl[0]);
        if (target.expectedPeer() != null && !target.expectedPeer().equals(peer)) {
          f.channel().close();
          done.tryFailure(new UpstreamTlsException("TLS error: the server presented " + peer + " (expected: "
              + target.expectedPeer() + ")", null));
          return;
        }
        done.trySuccess(f.channel());
      });
    });
    return done;
  }

  private static String peerIdentity(SslHandler ssl) {
    try {
      Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
      return SvidTrustManager.spiffeIdOf((X509Certificate) chain[0]).toString();
    } catch (Exception e) {
      return "no SPIFFE ID (" + e.getMessage() + ")";
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable r = t;
    while (r.getCause() != null && r.getCause() != r) {
      r = r.getCause();
    }
    return r.getMessage() == null ? r.getClass().getSimpleName() : r.getMessage();
  }

  /** The handshake with an upstream failed, or the server's SVID is not the expected one. */
  static final class UpstreamTlsException extends Exception {
    UpstreamTlsException(String message, Throwable cause) {
      super(message, cause, false, false);
    }
  }

  /** Returns a connection whose last exchange completed cleanly; it serves the next request to its endpoint. */
  void release(Channel ch) {
    if (closed || !ch.isActive()) {
      ch.close();
      return;
    }
    Object key = ch.attr(KEY).get();
    if (key == null) {
      ch.close();
      return;
    }
    CircuitBreaker breaker = ch.attr(BREAKER).get();
    if (breaker != null && waiters.containsKey(breaker)) {
      Exchange ex = nextWaiter(breaker);
      if (ex != null) {
        ex.connectionAvailable(ch); // a request queued at maxConnections takes it straight away
        return;
      }
    }
    if (breaker != null && breaker.hasWaiters()) {
      // requests of another loop wait for a connection of this cluster: a connection cannot change
      // loops, so free the slot instead of idling it; the close wakes them
      ch.close();
      return;
    }
    ArrayDeque<Channel> q = idle.computeIfAbsent(key, k -> new ArrayDeque<>());
    if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    ch.config().setAutoRead(true); // notice the server closing it while idle
    q.addFirst(ch);
  }

  /** An upstream connection closed: forget it if it was idle. */
  void closed(Channel ch) {
    Object key = ch.attr(KEY).get();
    ArrayDeque<Channel> q = key == null ? null : idle.get(key);
    if (q != null) {
      q.remove(ch);
    }
  }

  /** Idle connections per endpoint (admin views). */
  Map<InetSocketAddress, Integer> idleCounts() {
    Map<InetSocketAddress, Integer> counts = new HashMap<>();
    idle.forEach((k, v) -> counts.merge(k instanceof MeshTarget t ? t.address() : (InetSocketAddress) k, v.size(), Integer::sum));
    return counts;
  }

  /** Closes the idle connections and refuses later releases. */
  void close() {
    closed = true;
    wakers.forEach((b, w) -> b.removeCapacityListener(w));
    wakers.clear();
    waiters.clear();
    idle.values().forEach(q -> q.forEach(Channel::close));
    idle.clear();
  }
}
