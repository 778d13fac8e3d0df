package dev.lattice.dataplane.proxy;

import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseEncoder;

/**
 * Netty's response encoder, told when the response answers a HEAD request so it writes no body framing
 * (a chunked HEAD response must not get a terminating chunk). One per connection; the proxy sets
 * {@link #headResponse} right before writing a response head, on the event loop.
 */
final class ResponseEncoder extends HttpResponseEncoder {
  boolean headResponse;

  @Override
  protected boolean isContentAlwaysEmpty(HttpResponse msg) {
    return headResponse || super.isContentAlwaysEmpty(msg);
  }
}
