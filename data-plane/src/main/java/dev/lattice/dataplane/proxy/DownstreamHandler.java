package dev.lattice.dataplane.proxy;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpObject;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslHandler;
import javax.net.ssl.SSLSession;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.ScheduledFuture;
import dev.lattice.authz.PeerIdentity;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * One downstream HTTP/1.1 connection: decodes requests, runs one {@link Exchange} at a time (pipelined
 * requests wait, reads paused, until the exchange before them is done), and applies backpressure both
 * ways through autoRead and channel writability so a slow reader on either side bounds the buffers.
 * Writes go out without per-write promises and are flushed once per read batch. Event-loop confined.
 */
final class DownstreamHandler extends ChannelInboundHandlerAdapter {
  /** Reads paused while the current exchange waits for filters or an upstream connection. */
  static final int PAUSE_PENDING = 1;
  /** Reads paused while pipelined requests wait for the exchange before them. */
  static final int PAUSE_BACKLOG = 2;
  /** Reads paused while the upstream connection cannot take more bytes. */
  static final int PAUSE_UPSTREAM = 4;

  private static final byte[] REQUEST_TIMEOUT = "request header timeout".getBytes(StandardCharsets.US_ASCII);

  private final ListenerBinding binding;
  private final ProxyServer server;
  private final UpstreamPool pool;
  private ChannelHandlerContext ctx;
  private Channel channel;
  private ResponseEncoder encoder;
  private DownstreamTimeouts timeouts;
  private InetSocketAddress local;
  private InetSocketAddress remote;
  private String remoteIp;
  private Exchange current;
  private ArrayDeque<HttpObject> backlog;
  private int paused;
  private boolean closing;
  private boolean draining;
  private boolean inRead;
  private boolean tls;
  private PeerIdentity peer;
  private String clientCertDetails;
  /** The one timer of the exchanges' route and per-try deadlines, and when it fires (System.nanoTime). */
  private ScheduledFuture<?> deadlineTimer;
  private long deadlineAt;

  DownstreamHandler(ListenerBinding binding, ProxyServer server, UpstreamPool pool) {
    this.binding = binding;
    this.server = server;
    this.pool = pool;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
    if (evt instanceof SslHandshakeCompletionEvent e) {
      if (!e.isSuccess()) {
        server.countTlsHandshakeFailure(); // SslHandler closes the connection
      } else {
        SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
        tls = true;
        peer = PeerCertificates.spiffePeer(session);
        clientCertDetails = peer == null ? null : PeerCertificates.forwardedClientCert(session, peer);
      }
    }
    ctx.fireUserEventTriggered(evt);
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
    this.channel = ctx.channel();
    this.encoder = ctx.pipeline().get(ResponseEncoder.class);
    this.timeouts = ctx.pipeline().get(DownstreamTimeouts.class);
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    local = (InetSocketAddress) channel.localAddress();
    remote = (InetSocketAddress) channel.remoteAddress();
    remoteIp = remote.getAddress().getHostAddress();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (closing || !(msg instanceof HttpObject o)) {
      ReferenceCountUtil.release(msg);
      return;
    }
    inRead = true;
    try {
      if (backlog != null && !backlog.isEmpty()) {
        backlog.add(o);
      } else {
        dispatch(o);
      }
    } finally {
      inRead = false;
    }
  }

  private void dispatch(HttpObject o) {
    if (o instanceof HttpRequest request) {
      if (current != null) {
        enqueue(o); // pipelined: waits for the exchange before it
        return;
      }
      timeouts.headReceived();
      current = new Exchange(this, binding.runtime(), request);
      if (o instanceof HttpContent c) {
        c.release(); // an invalid message arrives as a full request; its content is meaningless
      }
      current.start();
      return;
    }
    if (o instanceof HttpContent c) {
      if (current == null) {
        c.release(); // the rest of a request whose exchange already closed the connection
        return;
      }
      current.onRequestContent(c);
    }
  }

  private void enqueue(HttpObject o) {
    if (backlog == null) {
      backlog = new ArrayDeque<>(4);
    }
    backlog.add(o);
    pause(PAUSE_BACKLOG);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Exchange ex = current;
    if (ex != null) {
      ex.flushUpstream();
    }
    ctx.flush();
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange ex = current;
    if (ex != null) {
      ex.downstreamWritabilityChanged(channel.isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    closing = true;
    if (deadlineTimer != null) {
      deadlineTimer.cancel(false);
      deadlineTimer = null;
    }
    Exchange ex = current;
    current = null;
    if (ex != null) {
      ex.onDownstreamClosed();
    }
    releaseBacklog();
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseBacklog(); // a CONNECT tunnel took the connection over
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // resets and other I/O errors: close; channelInactive settles the exchange
    ctx.close();
  }

  /** The exchange is over (response sent, request read or abandoned): on to the next request, or close. */
  void exchangeDone(Exchange ex, boolean closeConnection) {
    if (current != ex) {
      return;
    }
    current = null;
    if (closeConnection || closing) {
      closeAfterFlush();
      return;
    }
    resume(PAUSE_PENDING | PAUSE_UPSTREAM);
    timeouts.expectHead();
    drain();
  }

  private void drain() {
    if (draining) {
      return; // an outer drain loop continues
    }
    draining = true;
    try {
      while (backlog != null && !backlog.isEmpty() && !closing) {
        if (backlog.peek() instanceof HttpRequest && current != null) {
          return;
        }
        dispatch(backlog.poll());
      }
      resume(PAUSE_BACKLOG);
    } finally {
      draining = false;
    }
  }

  /**
   * Makes the connection's deadline timer fire by {@code atNanos} (System.nanoTime) for the current exchange.
   * Lazy, like {@link DownstreamTimeouts}: a timer already due earlier stays (when it fires, the exchange
   * re-arms it for what is left), so keep-alive requests with timeouts schedule and cancel no task each; only
   * a deadline earlier than the armed one reschedules.
   */
  void armDeadline(long atNanos) {
    if (deadlineTimer != null) {
      if (deadlineAt - atNanos <= 0) {
        return;
      }
      deadlineTimer.cancel(false);
    }
    deadlineAt = atNanos;
    deadlineTimer = channel.eventLoop().schedule(this::deadlineFired, Math.max(0, atNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  private void deadlineFired() {
    deadlineTimer = null;
    Exchange ex = current;
    if (ex != null) {
      ex.deadlineCheck();
    }
  }

  /** Headers of a request did not complete in time: 408 and close (no exchange ever started). */
  void headersTimedOut() {
    if (current != null || closing) {
      return;
    }
    FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.REQUEST_TIMEOUT,
        Unpooled.wrappedBuffer(REQUEST_TIMEOUT));
    r.headers().set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.TEXT_PLAIN)
        .setInt(HttpHeaderNames.CONTENT_LENGTH, REQUEST_TIMEOUT.length)
        .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    encoder.headResponse = false;
    closing = true;
    server.countHeadersTimeout(); // before the response a client may see
    channel.writeAndFlush(r).addListener(ChannelFutureListener.CLOSE);
  }

  /** No request for the idle timeout: close (HTTP/1.1 has no way to announce it). */
  void idleTimedOut() {
    if (current != null || closing) {
      return;
    }
    closing = true;
    server.countIdleTimeout(); // before the close a client may see
    channel.close();
  }

  void writeHead(HttpResponse response, boolean head) {
    encoder.headResponse = head;
    ctx.write(response, ctx.voidPromise());
  }

  void write(Object msg) {
    ctx.write(msg, ctx.voidPromise());
  }

  void flush() {
    ctx.flush();
  }

  void upstreamWritabilityChanged(boolean writable) {
    if (writable) {
      resume(PAUSE_UPSTREAM);
    } else {
      pause(PAUSE_UPSTREAM);
    }
  }

  void pause(int reason) {
    if (paused == 0) {
      channel.config().setAutoRead(false);
    }
    paused |= reason;
  }

  void resume(int reason) {
    if (paused == 0) {
      return;
    }
    paused &= ~reason;
    if (paused == 0 && !closing) {
      channel.config().setAutoRead(true);
    }
  }

  /** Aborts the connection now (a response already started cannot be replaced by an error). */
  void closeNow() {
    closing = true;
    channel.close();
  }

  private void closeAfterFlush() {
    closing = true;
    releaseBacklog();
    channel.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
  }

  private void releaseBacklog() {
    if (backlog != null) {
      backlog.forEach(ReferenceCountUtil::release);
      backlog.clear();
    }
  }

  Channel channel() {
    return channel;
  }

  boolean inRead() {
    return inRead;
  }

  UpstreamPool pool() {
    return pool;
  }

  ProxyServer server() {
    return server;
  }

  InetSocketAddress localAddress() {
    return local;
  }

  InetSocketAddress remoteAddress() {
    return remote;
  }

  String remoteIp() {
    return remoteIp;
  }

  /** Whether the connection arrived over TLS. */
  boolean tls() {
    return tls;
  }

  /** The {@code x-forwarded-client-cert} value for this connection's verified peer, or null. */
  String clientCertDetails() {
    return clientCertDetails;
  }

  /** The SPIFFE identity of a client certificate verified on this connection, or null. */
  PeerIdentity peer() {
    return peer;
  }
}
