package dev.lattice.dataplane.proxy;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.timeout.IdleStateEvent;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * The bytes of one {@code CONNECT} on the explicit HTTP proxy port after {@code 200}, or of one WebSocket connection after
 * the upstream's {@code 101}: the downstream connection's HTTP
 * codecs leave its pipeline and both connections relay raw bytes to each other, without copies, with the same
 * backpressure as HTTP (a side that cannot take more stops reads on the other). Either side closing (or both idle for
 * the listener's {@code idleTimeout}) closes the other once what it sent is flushed; then the exchange completes with the
 * bytes each way. Both connections live on the downstream connection's event loop. Event-loop confined.
 */
final class ConnectTunnel {
  static final byte[] ESTABLISHED = "HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  private final java.util.function.Consumer<ConnectTunnel> onClose;
  private final Relay down = new Relay(true);
  private final Relay up = new Relay(false);
  private Channel downstream;
  private Channel upstream;
  private long sent;
  private long received;
  private boolean closed;

  /** {@code onClose}: told once, when the tunnel ended (the exchange or TCP connection completes with its bytes). */
  ConnectTunnel(java.util.function.Consumer<ConnectTunnel> onClose) {
    this.onClose = onClose;
  }

  /** The handler of the upstream connection (installed when it is opened, reads off until {@link #splice}). */
  Relay upstreamHandler() {
    return up;
  }

  /**
   * Answers {@code 200} and turns {@code client} into a raw relay with {@code server}. Bytes the client sent after the
   * {@code CONNECT} head in the same read are still in the decoder: they go upstream first.
   */
  void splice(Channel client, Channel server, long idleTimeoutNanos) {
    splice(client, server, idleTimeoutNanos, true);
  }

  /**
   * Turns both connections into a raw relay: {@code established} writes the {@code CONNECT} answer first; without it
   * the caller already wrote its answer through the client's encoder (a WebSocket {@code 101}). A {@code server} that
   * is a pooled HTTP connection (an upgrade) loses its HTTP codec and handler here, synchronously, so bytes that came
   * behind the {@code 101} in the same read reach the client first and in order; its TLS, if any, stays.
   */
  void splice(Channel client, Channel server, long idleTimeoutNanos, boolean established) {
    downstream = client;
    upstream = server;
    ChannelPipeline p = client.pipeline();
    p.replace("proxy", "tunnel", down);
    removeIfPresent(p, "timeouts");
    removeIfPresent(p, "encoder");
    if (established) {
      client.write(Unpooled.wrappedBuffer(ESTABLISHED), client.voidPromise());
    }
    if (p.get("tunnel-idle") == null) {
      p.addBefore("tunnel", "tunnel-idle", new IdleStateHandler(0, 0, idleTimeoutNanos, TimeUnit.NANOSECONDS));
    }
    removeIfPresent(p, "decoder"); // fires what it still holds into the relay
    ChannelPipeline sp = server.pipeline();
    if (sp.get("proxy") != null) {
      sp.replace("proxy", "tunnel", up);
      sp.remove("codec"); // what it still holds goes to the relay
    }
    client.flush();
    server.flush();
    server.config().setAutoRead(client.isWritable());
    client.config().setAutoRead(server.isWritable());
  }

  private static void removeIfPresent(ChannelPipeline p, String name) {
    if (p.get(name) != null) {
      p.remove(name); // an HTTP connection's codecs; a TCP listener's connection has none
    }
  }

  /** Bytes from the client to the upstream. */
  long sent() {
    return sent;
  }

  /** Bytes from the upstream to the client (the {@code 200} line not counted). */
  long received() {
    return received;
  }

  private void closeBoth() {
    if (closed) {
      return;
    }
    closed = true;
    for (Channel ch : new Channel[] {downstream, upstream}) {
      if (ch != null && ch.isActive()) {
        ch.writeAndFlush(Unpooled.EMPTY_BUFFER).addListener(ChannelFutureListener.CLOSE);
      }
    }
    onClose.accept(this);
  }

  /** One direction: what its channel reads goes to the other channel. */
  final class Relay extends ChannelInboundHandlerAdapter {
    private final boolean fromClient;

    Relay(boolean fromClient) {
      this.fromClient = fromClient;
    }

    private Channel peer() {
      return fromClient ? upstream : downstream;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      Channel peer = peer();
      if (!(msg instanceof ByteBuf b) || peer == null || closed) {
        ReferenceCountUtil.release(msg);
        return;
      }
      if (fromClient) {
        sent += b.readableBytes();
      } else {
        received += b.readableBytes();
      }
      peer.write(b, peer.voidPromise());
      if (!peer.isWritable()) {
        ctx.channel().config().setAutoRead(false);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      Channel peer = peer();
      if (peer != null) {
        peer.flush();
      }
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
      Channel peer = peer();
      if (peer != null && !closed) {
        peer.config().setAutoRead(ctx.channel().isWritable());
      }
      ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (peer() != null) {
        closeBoth();
      }
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
      if (evt instanceof IdleStateEvent) {
        closeBoth();
      }
      ctx.fireUserEventTriggered(evt);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      ctx.close(); // resets: channelInactive closes the other side
    }
  }
}
