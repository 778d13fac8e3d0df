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
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

/**
 * Keep-alive upstream HTTP/1.1 connections of one event loop, by endpoint: a downstream connection
 * takes its upstream from the pool of its own loop, so a request never crosses threads and the pool
 * needs no locks. Idle connections are reused most-recent first (warm, least likely to be closed by
 * the server's idle timeout). Confined to its event loop.
 */
final class UpstreamPool {
  /** Idle connections kept per endpoint and loop; more are closed on release. */
  static final int MAX_IDLE_PER_ENDPOINT = 256;

  private final EventLoop loop;
  private final Bootstrap bootstrap;
  private final Map<InetSocketAddress, ArrayDeque<Channel>> idle = new HashMap<>();
  private boolean closed;

  UpstreamPool(EventLoop loop, ChannelFactory<? extends Channel> channels, WriteBufferWaterMark waterMark) {
    this.loop = loop;
    this.bootstrap = new Bootstrap().group(loop).channelFactory(channels)
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
        .handler(new ChannelInitializer<>() {
          @Override
          protected void initChannel(Channel ch) {
            // no aggregation: the response streams through in the pieces it arrives in
            ch.pipeline().addLast("codec", new HttpClientCodec(new HttpDecoderConfig().setMaxChunkSize(64 * 1024)
                .setMaxHeaderSize(64 * 1024), HttpClientCodec.DEFAULT_PARSE_HTTP_AFTER_CONNECT_REQUEST, false));
            ch.pipeline().addLast("proxy", new UpstreamHandler(UpstreamPool.this));
          }
        });
  }

  EventLoop loop() {
    return loop;
  }

  /** An idle, open connection to {@code endpoint}, or null. */
  Channel poll(InetSocketAddress endpoint) {
    ArrayDeque<Channel> q = idle.get(endpoint);
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

  /** Opens a new connection to {@code endpoint} on this loop. */
  ChannelFuture connect(InetSocketAddress endpoint, int connectTimeoutMillis) {
    return bootstrap.clone().option(ChannelOption.CONNECT_TIMEOUT_MILLIS, connectTimeoutMillis).connect(endpoint);
  }

  /** Returns a connection whose last exchange completed cleanly; it serves the next request to its endpoint. */
  void release(Channel ch) {
    if (closed || !ch.isActive()) {
      ch.close();
      return;
    }
    InetSocketAddress endpoint = (InetSocketAddress) ch.remoteAddress();
    ArrayDeque<Channel> q = idle.computeIfAbsent(endpoint, k -> new ArrayDeque<>());
    if (q.size() >= MAX_IDLE_PER_ENDPOINT) {
      ch.close();
      return;
    }
    ch.config().setAutoRead(true); // notice the server closing it while idle
    q.addFirst(ch);
  }

  /** An upstream connection closed: forget it if it was idle. */
  void closed(Channel ch) {
    if (ch.remoteAddress() instanceof InetSocketAddress a) {
      ArrayDeque<Channel> q = idle.get(a);
      if (q != null) {
        q.remove(ch);
      }
    }
  }

  /** Idle connections per endpoint (admin views). */
  Map<InetSocketAddress, Integer> idleCounts() {
    Map<InetSocketAddress, Integer> counts = new HashMap<>();
    idle.forEach((k, v) -> counts.put(k, v.size()));
    return counts;
  }

  /** Closes the idle connections and refuses later releases. */
  void close() {
    closed = true;
    idle.values().forEach(q -> q.forEach(Channel::close));
    idle.clear();
  }
}
