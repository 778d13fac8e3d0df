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
   * frames by that header.
   */
  static void removeHopByHop(HttpHeaders h) {
    if (h.contains(HttpHeaderNames.CONNECTION)) {
      List<String> values = h.getAll(HttpHeaderNames.CONNECTION);
      for (String v : values) {
        for (String token : v.split(",")) {
          String t = token.trim();
          if (!t.isEmpty() && !HttpHeaderNames.TRANSFER_ENCODING.contentEqualsIgnoreCase(t)) {
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
