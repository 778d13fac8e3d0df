package dev.lattice.dataplane.proxy;

import io.netty.handler.codec.http.HttpDecoderConfig;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpRequestDecoder;

/**
 * Netty's request decoder, strict where a proxy must be: a request framed both by
 * {@code Content-Length} and {@code Transfer-Encoding: chunked} is a smuggling shape (RFC 9112 §6.3
 * lets a server drop Content-Length; a proxy in front of a server that does not is desynchronized),
 * so it becomes an invalid message (400) instead of Netty's default of dropping Content-Length.
 * One per connection.
 */
final class RequestDecoder extends HttpRequestDecoder {

  RequestDecoder(HttpDecoderConfig config) {
    super(config);
  }

  @Override
  protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
    throw new IllegalArgumentException("both Content-Length and Transfer-Encoding: chunked (expected: one of them)");
  }
}
