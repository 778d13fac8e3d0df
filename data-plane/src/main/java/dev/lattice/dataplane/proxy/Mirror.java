package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.route.UpstreamCluster;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One mirrored copy of a request (Istio's {@code mirror}, Envoy's request shadowing): fire and forget on
 * its own new connection to the mirror cluster, the {@code Host} suffixed {@code -shadow}, the body
 * duplicated piece by piece as the caller's arrives, the answer read and dropped. It never touches the
 * caller's exchange: a mirror that cannot keep up (its connection not writable, more than 64 KiB waiting
 * for the connect) or fails is abandoned, and one that does not answer is closed after 30 s. Mesh (mTLS)
 * endpoints are not mirrored yet. Event-loop confined.
 */
final class Mirror {
  private static final int MAX_PENDING = 64 * 1024;
  private static final long MAX_LIFETIME_MS = 30_000;

  private final ArrayDeque<HttpContent> pending = new ArrayDeque<>(2);
  private int pendingBytes;
  private Channel ch;
  private boolean abandoned;
  private boolean lastSent;

  private Mirror() {}

  /** Starts a copy of {@code request} (its head as about to be forwarded) to an endpoint of {@code cluster}; null if none. */
  static Mirror start(DownstreamHandler conn, ListenerRuntime runtime, UpstreamCluster cluster, HttpRequest request) {
    InetSocketAddress address = cluster.pick();
    if (address == null || runtime.meshTarget(cluster.name(), address) != null) {
      return null;
    }
    HttpRequest copy = new DefaultHttpRequest(request.protocolVersion(), request.method(), request.uri(), request.headers().copy());
    String host = copy.headers().get(HttpHeaderNames.HOST);
    if (host != null) {
      // Envoy shadows to "<host>-shadow" (before the port, so the authority stays parseable)
      int colon = host.lastIndexOf(':');
      boolean port = colon > 0 && host.indexOf(']') < colon;
      copy.headers().set(HttpHeaderNames.HOST, port ? host.substring(0, colon) + "-shadow" + host.substring(colon) : host + "-shadow");
    }
    Mirror m = new Mirror();
    int timeout = (int) Math.min(Integer.MAX_VALUE, runtime.settings().connectTimeout().toMillis());
    ChannelFuture f = conn.pool().connect(address, timeout);
    Channel c = f.channel();
    c.eventLoop().schedule(() -> c.close(), MAX_LIFETIME_MS, TimeUnit.MILLISECONDS);
    f.addListener(x -> {
      if (!f.isSuccess() || m.abandoned) {
        m.abandon();
        c.close();
        return;
      }
      if (c.pipeline().get("proxy") != null) {
        c.pipeline().replace("proxy", "mirror", new Sink(conn.pool()));
      }
      m.ch = c;
      c.write(copy, c.voidPromise());
      HttpContent p;
      while ((p = m.pending.poll()) != null) {
        m.send(p);
      }
      c.flush();
    });
    return m;
  }

  /** A piece of the caller's body: a duplicate goes to the mirror (the caller's piece is not consumed). */
  void content(HttpContent c) {
    if (abandoned || lastSent) {
      return;
    }
    HttpContent dup = c.retainedDuplicate();
    if (ch == null) {
      pendingBytes += dup.content().readableBytes();
      pending.add(dup);
      if (pendingBytes > MAX_PENDING) {
        abandon();
      }
      return;
    }
    send(dup);
    ch.flush();
  }

  /** The caller's body ended without a piece for it here (a bodiless request seen before the mirror started). */
  void end() {
    if (!lastSent) {
      content(LastHttpContent.EMPTY_LAST_CONTENT);
    }
  }

  private void send(HttpContent c) {
    if (abandoned || !ch.isActive() || !ch.isWritable()) {
      ReferenceCountUtil.release(c);
      abandon();
      return;
    }
    if (c instanceof LastHttpContent) {
      lastSent = true;
    }
    ch.write(c, ch.voidPromise());
  }

  /** Gives the copy up; the caller's request goes on as if there were no mirror. */
  void abandon() {
    abandoned = true;
    HttpContent p;
    while ((p = pending.poll()) != null) {
      ReferenceCountUtil.release(p);
    }
    if (ch != null) {
      ch.close();
    }
  }

  /** Reads the mirror's answer and drops it; closes the connection when it ends (mirrors are never pooled). */
  private static final class Sink extends ChannelInboundHandlerAdapter {
    private final UpstreamPool pool;

    Sink(UpstreamPool pool) {
      this.pool = pool;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      boolean last = msg instanceof LastHttpContent;
      ReferenceCountUtil.release(msg);
      if (last) {
        ctx.close();
      }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      pool.closed(ctx.channel());
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close();
    }
  }
}
