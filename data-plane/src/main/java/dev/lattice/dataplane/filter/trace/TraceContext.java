package dev.lattice.dataplane.filter.trace;

import java.nio.charset.StandardCharsets;
import java.util.random.RandomGenerator;

/**
 * A W3C Trace Context {@code traceparent} (version {@code 00}): trace id, the span id of this hop, and the
 * sampled flag. The proxy continues an incoming valid header with a new span id (the incoming one becomes
 * {@link #parentSpanId()}) and starts a new trace when the header is missing or invalid, as the spec asks
 * (a receiver must not propagate a header it cannot parse). Immutable.
 *
 * @param traceId 32 lowercase hex, not all zeros
 * @param spanId 16 lowercase hex, not all zeros: this hop's span, sent upstream as the parent-id
 * @param parentSpanId the caller's span id, or {@code null} when this hop started the trace
 * @param flags trace-flags byte ({@code 0x01} = sampled)
 */
public record TraceContext(String traceId, String spanId, String parentSpanId, int flags) {

  /** The header name. */
  public static final String HEADER = "traceparent";
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /**
   * Continues {@code header} (may be {@code null}) with a new span id from {@code random}; a missing or
   * malformed header starts a new sampled trace.
   */
  public static TraceContext continueFrom(CharSequence header, RandomGenerator random) {
    if (header != null && isValid(header)) {
      String s = header.toString();
      return new TraceContext(s.substring(3, 35), newId(random, 16), s.substring(36, 52),
          Integer.parseInt(s.substring(53, 55), 16));
    }
    return new TraceContext(newId(random, 32), newId(random, 16), null, 0x01);
  }

  /**
   * Whether {@code header} is a traceparent this proxy accepts: {@code version-traceid-parentid-flags},
   * lowercase hex, version not {@code ff}; version {@code 00} exactly 55 characters; a higher version may
   * carry more fields after a {@code '-'}; trace id and parent id not all zeros.
   */
  public static boolean isValid(CharSequence h) {
    int n = h.length();
    if (n < 55) {
      return false;
    }
    if (!hex(h, 0, 2) || h.charAt(2) != '-' || !hex(h, 3, 35) || h.charAt(35) != '-' || !hex(h, 36, 52)
        || h.charAt(52) != '-' || !hex(h, 53, 55)) {
      return false;
    }
    boolean v00 = h.charAt(0) == '0' && h.charAt(1) == '0';
    if (h.charAt(0) == 'f' && h.charAt(1) == 'f') {
      return false;
    }
    if (v00 ? n != 55 : n > 55 && h.charAt(55) != '-') {
      return false;
    }
    return !zeros(h, 3, 35) && !zeros(h, 36, 52);
  }

  /** The {@code traceparent} to send upstream: this hop's span as the parent-id. */
  public String header() {
    StringBuilder b = new StringBuilder(55).append("00-").append(traceId).append('-').append(spanId).append('-');
    b.append((char) HEX[(flags >> 4) & 0xf]).append((char) HEX[flags & 0xf]);
    return b.toString();
  }

  /** Whether the sampled flag is set. */
  public boolean sampled() {
    return (flags & 0x01) != 0;
  }

  private static boolean hex(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) {
        return false;
      }
    }
    return true;
  }

  private static boolean zeros(CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }

  private static String newId(RandomGenerator random, int hexChars) {
    byte[] out = new byte[hexChars];
    long any;
    do {
      // the all-zero check on the random words, not on a String (this runs on every request's event loop)
      any = 0;
      for (int i = 0; i < hexChars; i += 16) {
        long v = random.nextLong();
        any |= v;
        for (int j = 0; j < 16 && i + j < hexChars; j++) {
          out[i + j] = HEX[(int) (v >>> (60 - 4 * j)) & 0xf];
        }
      }
    } while (any == 0);
    return new String(out, StandardCharsets.ISO_8859_1);
  }
}
