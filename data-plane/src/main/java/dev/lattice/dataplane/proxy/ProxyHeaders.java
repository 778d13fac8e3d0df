package dev.lattice.dataplane.proxy;

import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.util.AsciiString;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;

/**
 * The header maps of the traffic path (request heads from clients, response heads from upstreams). Netty
 * checks a header name's characters on every {@code add} and {@code set}; the names the proxy itself sets on
 * every request ({@code via}, {@code x-forwarded-*}, {@code x-request-id}, …) are constants that passed that
 * check once, so they are recognised by identity and skip it (~3 % of the event loop's samples in a
 * bare-route profile). Every other name — all that a client or an upstream sends — is checked as before.
 * Immutable and thread-safe.
 */
final class ProxyHeaders {
  private static final DefaultHeaders.NameValidator<CharSequence> NETTY =
      DefaultHttpHeadersFactory.headersFactory().getNameValidator();
  private static final Set<AsciiString> KNOWN = known(HttpHeaderNames.HOST, HttpHeaderNames.VIA, HttpHeaderNames.CONNECTION,
      HttpHeaderNames.KEEP_ALIVE, HttpHeaderNames.TRANSFER_ENCODING, HttpHeaderNames.CONTENT_LENGTH, HttpHeaderNames.CONTENT_TYPE,
      HttpHeaderNames.LOCATION, ForwardingHeaders.X_FORWARDED_FOR, ForwardingHeaders.X_FORWARDED_PROTO,
      ForwardingHeaders.X_REQUEST_ID, ForwardingHeaders.X_FORWARDED_CLIENT_CERT);

  /** The factory for the decoders' header maps (trailers keep Netty's default, which refuses framing names). */
  static final DefaultHttpHeadersFactory FACTORY = DefaultHttpHeadersFactory.headersFactory().withNameValidator(name -> {
    if (!(name instanceof AsciiString a && KNOWN.contains(a))) {
      NETTY.validateName(name);
    }
  });

  private ProxyHeaders() {}

  private static Set<AsciiString> known(AsciiString... names) {
    Set<AsciiString> s = Collections.newSetFromMap(new IdentityHashMap<>());
    for (AsciiString n : names) {
      NETTY.validateName(n); // a constant that would fail Netty's check must not be trusted
      s.add(n);
    }
    return Collections.unmodifiableSet(s);
  }
}
