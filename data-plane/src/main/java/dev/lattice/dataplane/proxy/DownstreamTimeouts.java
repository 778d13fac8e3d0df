package dev.lattice.dataplane.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The two timers of a downstream connection. The headers timeout is the slowloris bound (Envoy's
 * {@code request_headers_timeout}): from the first byte of a request head the client has a fixed time
 * to complete it. The idle timeout (Envoy's {@code idle_timeout}) closes a connection that has waited
 * for its next request, without a byte of one, for longer than configured. Sits before the decoder and
 * sees raw bytes. Both timers are lazy (as Netty's {@code IdleStateHandler}): a request only writes a
 * timestamp, and a timer that fires early re-arms itself for the rest, so keep-alive traffic does not
 * schedule and cancel a task per request. Event-loop confined.
 */
final class DownstreamTimeouts extends ChannelInboundHandlerAdapter {
  private final long headersTimeoutNanos;
  private final long idleTimeoutNanos;
  private final Runnable onHeadersTimeout;
  private final Runnable onIdleTimeout;
  private ChannelHandlerContext ctx;
  private boolean awaitingHead = true;
  private boolean headStarted;
  private long idleSince;
  private long headSince;
  private ScheduledFuture<?> idleTimer;
  private ScheduledFuture<?> headersTimer;

  DownstreamTimeouts(long headersTimeoutNanos, long idleTimeoutNanos, Runnable onHeadersTimeout, Runnable onIdleTimeout) {
    this.headersTimeoutNanos = headersTimeoutNanos;
    this.idleTimeoutNanos = idleTimeoutNanos;
    this.onHeadersTimeout = onHeadersTimeout;
    this.onIdleTimeout = onIdleTimeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelActive(ChannelHandlerContext ctx) {
    becomeIdle();
    ctx.fireChannelActive();
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (awaitingHead && !headStarted && msg instanceof ByteBuf b && b.isReadable()) {
      startHead();
    }
    ctx.fireChannelRead(msg);
  }

  /** A complete request head was decoded: neither timer applies while the exchange is in progress. */
  void headReceived() {
    awaitingHead = false;
    headStarted = false;
  }

  /** The connection waits for its next request head: idle until its first byte arrives. */
  void expectHead() {
    awaitingHead = true;
    becomeIdle();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    if (idleTimer != null) {
      idleTimer.cancel(false);
    }
    if (headersTimer != null) {
      headersTimer.cancel(false);
    }
    ctx.fireChannelInactive();
  }

  private void becomeIdle() {
    headStarted = false;
    idleSince = System.nanoTime();
    if (idleTimer == null) {
      idleTimer = ctx.executor().schedule(this::idleCheck, idleTimeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void startHead() {
    headStarted = true;
    headSince = System.nanoTime();
    if (headersTimer == null) {
      headersTimer = ctx.executor().schedule(this::headersCheck, headersTimeoutNanos, TimeUnit.NANOSECONDS);
    }
  }

  private void idleCheck() {
    idleTimer = null;
    if (!ctx.channel().isActive() || !awaitingHead || headStarted) {
      return; // busy: the next idle period arms the timer again
    }
    long left = idleSince + idleTimeoutNanos - System.nanoTime();
    if (left <= 0) {
      onIdleTimeout.run();
    } else {
      idleTimer = ctx.executor().schedule(this::idleCheck, left, TimeUnit.NANOSECONDS);
    }
  }

  private void headersCheck() {
    headersTimer = null;
    if (!ctx.channel().isActive() || !awaitingHead || !headStarted) {
      return;
    }
    long left = headSince + headersTimeoutNanos - System.nanoTime();
    if (left <= 0) {
      onHeadersTimeout.run();
    } else {
      headersTimer = ctx.executor().schedule(this::headersCheck, left, TimeUnit.NANOSECONDS);
    }
  }
}
