package dev.lattice.identity.agent.workload;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http2.Http2ConnectionHandler;
import io.netty.handler.codec.http2.Http2Exception;
import io.netty.handler.codec.http2.Http2FrameListener;
import io.netty.handler.codec.http2.Http2FrameListenerDecorator;
import io.netty.handler.codec.http2.Http2Headers;
import io.vertx.core.net.HostAndPort;

/**
 * Lets Vert.x serve gRPC clients that send the socket path as the HTTP/2 {@code :authority}
 * (java-spiffe and other grpc-java based SPIFFE clients do: {@code /run/…/workload.sock}). Vert.x
 * resets such streams with PROTOCOL_ERROR; this decorator rewrites an authority that Vert.x cannot
 * parse to {@code localhost} before Vert.x sees the headers. The Workload API ignores the authority.
 *
 * <p>It reaches into the connection's Netty pipeline (an internal Vert.x detail): the java-spiffe
 * interop test ({@code WorkloadApiInteropTest}) fails loudly if a Vert.x upgrade breaks it.
 * Stateless; one decorator per connection. Public for the agent's other Unix-socket API (the
 * Delegated Identity API in {@code agent.delegated}).
 */
public final class AuthorityRewriter extends Http2FrameListenerDecorator {

  static final String REPLACEMENT = "localhost";

  private AuthorityRewriter(Http2FrameListener delegate) {
    super(delegate);
  }

  /**
   * Installs the rewrite on an HTTP/2 connection channel.
   *
   * @return false when the channel has no HTTP/2 handler (e.g. an HTTP/1 connection), which gRPC
   *     clients never open
   */
  public static boolean install(Channel channel) {
    Http2ConnectionHandler handler = channel.pipeline().get(Http2ConnectionHandler.class);
    if (handler == null) {
      return false;
    }
    Http2FrameListener current = handler.decoder().frameListener();
    if (!(current instanceof AuthorityRewriter)) {
      handler.decoder().frameListener(new AuthorityRewriter(current));
    }
    return true;
  }

  /** The authority Vert.x will accept: the original when parseable, else {@link #REPLACEMENT}. */
  static CharSequence acceptable(CharSequence authority) {
    if (authority == null) {
      return null;
    }
    try {
      return HostAndPort.parseAuthority(authority.toString(), -1) != null ? authority : REPLACEMENT;
    } catch (RuntimeException unparseable) {
      // Vert.x 5.0.7's parser throws StringIndexOutOfBoundsException on e.g. "%2Ftmp%2Fagent.sock"
      return REPLACEMENT;
    }
  }

  private static void fix(Http2Headers headers) {
    CharSequence authority = headers.authority();
    CharSequence fixed = acceptable(authority);
    if (fixed != authority) {
      headers.authority(fixed);
    }
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
      boolean endOfStream) throws Http2Exception {
    fix(headers);
    super.onHeadersRead(ctx, streamId, headers, padding, endOfStream);
  }

  @Override
  public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers,
      int streamDependency, short weight, boolean exclusive, int padding, boolean endOfStream)
      throws Http2Exception {
    fix(headers);
    super.onHeadersRead(ctx, streamId, headers, streamDependency, weight, exclusive, padding, endOfStream);
  }
}
