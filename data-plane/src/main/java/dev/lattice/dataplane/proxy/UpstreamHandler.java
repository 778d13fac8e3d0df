package dev.lattice.dataplane.proxy;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.HttpObject;
import io.netty.util.ReferenceCountUtil;

/**
 * The end of an upstream connection's pipeline: hands what the server sends to the exchange the
 * connection currently serves, and tells it when the server goes away. Between exchanges (idle in the
 * pool) anything the server sends is a protocol error and closes the connection. Event-loop confined.
 */
final class UpstreamHandler extends ChannelInboundHandlerAdapter {
  private final UpstreamPool pool;
  Exchange exchange;
  /** Requests this connection has carried (maxRequestsPerConnection). */
  int served;

  UpstreamHandler(UpstreamPool pool) {
    this.pool = pool;
  }

  /** The handler of an upstream connection: the pipeline's last (no name lookup per request). */
  static UpstreamHandler of(Channel ch) {
    return ch.pipeline().last() instanceof UpstreamHandler h ? h : (UpstreamHandler) ch.pipeline().get("proxy");
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    Exchange ex = exchange;
    if (ex == null || !(msg instanceof HttpObject)) {
      ReferenceCountUtil.release(msg);
      ctx.close();
      return;
    }
    ex.onUpstream((HttpObject) msg);
  }

  @Override
  public void channelReadComplete(ChannelHandlerContext ctx) {
    Exchange ex = exchange;
    if (ex != null) {
      ex.connection().flush();
    }
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    Exchange ex = exchange;
    if (ex != null) {
      ex.connection().upstreamWritabilityChanged(ctx.channel().isWritable());
    }
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) {
    pool.closed(ctx.channel());
    Exchange ex = exchange;
    exchange = null;
    if (ex != null) {
      ex.onUpstreamClosed(ctx.channel());
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // connection reset and the like: channelInactive follows and tells the exchange
    ctx.close();
  }
}
