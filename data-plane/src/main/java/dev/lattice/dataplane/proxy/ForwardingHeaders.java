package dev.lattice.dataplane.proxy;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.util.AsciiString;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The header edits of a forwarding proxy (RFC 9110 §7.6): hop-by-hop headers removed both ways (the
 * fixed set and any named in {@code Connection}), {@code Via} appended, {@code X-Forwarded-For}
 * appended with the peer, {@code X-Forwarded-Proto} set, {@code X-Request-Id} kept when sane or made.
 * Stateless.
 */
final class ForwardingHeaders {
  static final AsciiString X_FORWARDED_FOR = AsciiString.cached("x-forwarded-for");
  static final AsciiString X_FORWARDED_PROTO = AsciiString.cached("x-forwarded-proto");
  static final AsciiString X_REQUEST_ID = AsciiString.cached("x-request-id");
  static final AsciiString X_FORWARDED_CLIENT_CERT = AsciiString.cached("x-forwarded-client-cert");
  static final AsciiString PROXY_CONNECTION = AsciiString.cached("proxy-connection");
  private static final int MAX_REQUEST_ID = 128;
  private static final char[] HEX = "0123456789abcdef".toCharArray();

  private ForwardingHeaders() {}

  /**
   * Removes hop-by-hop headers. {@code Transfer-Encoding} stays: the proxy forwards the body with the
   * framing it arrived in (validated to be exactly {@code chunked} on requests), and Netty's encoder
   * frames by that header; neither it, {@code Content-Length} nor {@code Host} is removed when
   * {@code Connection} names it.
   */
  static void removeHopByHop(HttpHeaders h) {
    if (h.contains(HttpHeaderNames.CONNECTION)) {
      List<String> values = h.getAll(HttpHeaderNames.CONNECTION);
      for (String v : values) {
        for (String token : v.split(",")) {
          String t = token.trim();
          if (!t.isEmpty() && !framingOrRouting(t)) {
            h.remove(t);
          }
        }
      }
      h.remove(HttpHeaderNames.CONNECTION);
    }
    h.remove(HttpHeaderNames.KEEP_ALIVE);
    h.remove(PROXY_CONNECTION);
    h.remove(HttpHeaderNames.TE);
    h.remove(HttpHeaderNames.UPGRADE);
    h.remove(HttpHeaderNames.PROXY_AUTHENTICATE);
  }

  /**
   * Fields a {@code Connection} option never removes: the message was framed (and routed) by them, so
   * forwarding it without them would let its body bytes be read as a next message upstream — a client
   * sending {@code Connection: content-length} would smuggle a request past the filters.
   */
  private static boolean framingOrRouting(String name) {
    return HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.CONTENT_LENGTH.contentEqualsIgnoreCase(name)
        || HttpHeaderNames.HOST.contentEqualsIgnoreCase(name);
  }

  /**
   * True when {@code authority} is {@code host[:port]} of RFC 9110 §7.2: a reg-name or IPv4 address of
   * unreserved, sub-delims and pct-encoded characters, or a bracketed IPv6 literal, then an optional
   * decimal port. Whitespace (an obs-fold Netty joined into {@code Host}), userinfo, a path or a second
   * port are not.
   */
  static boolean validAuthority(String authority) {
    int n = authority.length();
    int i = 0;
    if (n > 0 && authority.charAt(0) == '[') {
      int close = authority.indexOf(']');
      if (close < 2) {
        return false;
      }
      for (i = 1; i < close; i++) {
        char c = authority.charAt(i);
        if (!(c == ':' || c == '.' || Character.digit(c, 16) >= 0)) {
          return false;
        }
      }
      i = close + 1;
    } else {
      for (; i < n && authority.charAt(i) != ':'; i++) {
        char c = authority.charAt(i);
        boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || "-._~!$&'()*+,;=%".indexOf(c) >= 0;
        if (!ok) {
          return false;
        }
      }
      if (i == 0) {
        return false;
      }
    }
    if (i == n) {
      return true;
    }
    if (authority.charAt(i) != ':') {
      return false;
    }
    for (int j = i + 1; j < n; j++) {
      char c = authority.charAt(j);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return n - i - 1 <= 5;
  }

  /** Appends {@code 1.1 <pseudonym>} to {@code Via}. */
  static void appendVia(HttpHeaders h, String via) {
    String old = h.get(HttpHeaderNames.VIA);
    h.set(HttpHeaderNames.VIA, old == null ? via : old + ", " + via);
  }

  /** Appends the peer's address to {@code X-Forwarded-For}. */
  static void appendForwardedFor(HttpHeaders h, String peerIp) {
    String old = h.get(X_FORWARDED_FOR);
    h.set(X_FORWARDED_FOR, old == null ? peerIp : old + ", " + peerIp);
  }

  /**
   * The request id to use: the client's {@code x-request-id} if it is printable ASCII of at most 128
   * characters (Envoy keeps a caller's id so a trace spans hops), else a new random UUID-form id.
   */
  static String requestId(HttpHeaders h) {
    String id = h.get(X_REQUEST_ID);
    if (id != null && sane(id)) {
      return id;
    }
    return newId();
  }

  private static boolean sane(String id) {
    if (id.isEmpty() || id.length() > MAX_REQUEST_ID) {
      return false;
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (c <= 0x20 || c >= 0x7F) {
        return false;
      }
    }
    return true;
  }

  /** A version-4-shaped UUID from the thread's random (a request id needs uniqueness, not secrecy). */
  static String newId() {
    ThreadLocalRandom r = ThreadLocalRandom.current();
    long hi = (r.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L;
    long lo = (r.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L;
    char[] out = new char[36];
    int p = 0;
    for (int i = 15; i >= 0; i--) {
      if (p == 8 || p == 13) {
        out[p++] = '-';
      }
      out[p++] = HEX[(int) (hi >>> (i * 4)) & 0xf];
    }
    for (int i = 15; i >= 0; i--) {
      if (p == 18 || p == 23) {
        out[p++] = '-';
      }
      out[p++] = HEX[(int) (lo >>> (i * 4)) & 0xf];
    }
    return new String(out);
  }
}
