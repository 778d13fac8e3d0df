package dev.lattice.dataplane.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The slowloris bound (Envoy's {@code request_headers_timeout}): from the first byte of a request head
 * the client has a fixed time to complete it; an idle keep-alive connection is not timed by it. Sits
 * before the decoder and sees raw bytes. Event-loop confined.
 */
final class RequestHeadTimeout extends ChannelInboundHandlerAdapter {
  private final long timeoutNanos;
  private final Runnable onTimeout;
  private boolean awaitingHead = true;
  private ScheduledFuture<?> timer;
  private ChannelHandlerContext ctx;

  RequestHeadTimeout(long timeoutNanos, Runnable onTimeout) {
    this.timeoutNanos = timeoutNanos;
    this.onTimeout = onTimeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (awaitingHead && timer == null && msg instanceof ByteBuf b && b.isReadable()) {
      timer = ctx.executor().schedule(this::expired, timeoutNanos, TimeUnit.NANOSECONDS);
    }
    ctx.fireChannelRead(msg);
  }

  /** A complete request head was decoded. */
  void headReceived() {
    awaitingHead = false;
    cancel();
  }

  /** The connection waits for its next request head; the clock starts with its first byte. */
  void expectHead() {
    awaitingHead = true;
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    cancel();
    ctx.fireChannelInactive();
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  private void expired() {
    timer = null;
    if (awaitingHead && ctx.channel().isActive()) {
      onTimeout.run();
    }
  }
}
