package dev.lattice.authz.normalize;

/**
 * Normalizes a request target's path the way policies are written against (Istio's "Security policy
 * normalization" reference, Envoy's {@code normalize_path} / {@code merge_slashes} /
 * {@code path_with_escaped_slashes_action: UNESCAPE_AND_MERGE}): drops the query string and fragment,
 * rejects what cannot be normalized safely, and applies the {@link PathNormalization} option.
 *
 * <p>Rejected (400, before authorization): a NUL or any other control character, a space, a byte above
 * 0x7E, a {@code %} not followed by two hex digits, a percent-encoded NUL ({@code %00}), and a path that
 * does not start with {@code /} (other than {@code *}). Stateless; allocation-free for a path that needs
 * no change (the common case).
 */
public final class PathNormalizer {
  private static final int MAX_EXCERPT = 64;

  private PathNormalizer() {}

  /**
   * The normalized path of {@code target} (origin-form: path plus optional {@code ?query}).
   *
   * @throws MalformedRequestException if the path is malformed or unsafe to normalize
   */
  public static String normalize(String target, PathNormalization mode) throws MalformedRequestException {
    if (target == null || target.isEmpty()) throw new MalformedRequestException("path: empty (expected: a path starting with '/')");
    int end = target.length();
    boolean percent = false;
    boolean backslash = false;
    boolean dotOrSlash = false;
    for (int i = 0; i < target.length(); i++) {
      char c = target.charAt(i);
      if (c == '?' || c == '#') {
        end = i;
        break;
      }
      if (c <= 0x20 || c >= 0x7F) throw rejected(target, c == 0 ? "a NUL byte" : "character 0x" + Integer.toHexString(c));
      if (c == '%') {
        if (i + 2 >= target.length() || hex(target.charAt(i + 1)) < 0 || hex(target.charAt(i + 2)) < 0) {
          throw rejected(target, "invalid percent-encoding");
        }
        if (target.charAt(i + 1) == '0' && target.charAt(i + 2) == '0') throw rejected(target, "a percent-encoded NUL (%00)");
        percent = true;
      } else if (c == '\\') {
        backslash = true;
      } else if (c == '/' && i + 1 < target.length()) {
        char n = target.charAt(i + 1);
        if (n == '.' || n == '/') dotOrSlash = true;
      }
    }
    if (end == 1 && target.charAt(0) == '*') return "*";
    if (end == 0 || target.charAt(0) != '/') {
      if (target.charAt(0) == '\\' && mode != PathNormalization.NONE) {
        // "\a" becomes "/a" below
      } else {
        throw rejected(target, "no leading '/'");
      }
    }
    String path = end == target.length() ? target : target.substring(0, end);
    if (mode == PathNormalization.NONE || (!percent && !backslash && !dotOrSlash)) return path;
    return slowPath(path, mode);
  }

  private static String slowPath(String path, PathNormalization mode) {
    boolean decodeSlashes = mode == PathNormalization.DECODE_AND_MERGE_SLASHES;
    boolean merge = mode == PathNormalization.MERGE_SLASHES || decodeSlashes;
    // 1. percent-decoding of unreserved characters (and of / and \ when asked), hex upper-cased, \ → /
    StringBuilder b = new StringBuilder(path.length());
    for (int i = 0; i < path.length(); i++) {
      char c = path.charAt(i);
      if (c == '%') {
        int v = hex(path.charAt(i + 1)) * 16 + hex(path.charAt(i + 2));
        i += 2;
        if (unreserved(v)) {
          b.append((char) v);
        } else if (decodeSlashes && (v == '/' || v == '\\')) {
          b.append('/');
        } else {
          b.append('%').append(Character.toUpperCase(path.charAt(i - 1))).append(Character.toUpperCase(path.charAt(i)));
        }
      } else {
        b.append(c == '\\' ? '/' : c);
      }
    }
    String decoded = b.toString();
    // 2. slashes merged (before dot removal, so "//.." cannot climb past a merged segment)
    if (merge) decoded = mergeSlashes(decoded);
    // 3. dot segments removed
    return removeDotSegments(decoded);
  }

  private static String mergeSlashes(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '/' && b.length() > 0 && b.charAt(b.length() - 1) == '/') continue;
      b.append(c);
    }
    return b.toString();
  }

  /** RFC 3986 section 5.2.4, for an absolute path. */
  static String removeDotSegments(String in) {
    StringBuilder out = new StringBuilder(in.length());
    int i = 0;
    int n = in.length();
    while (i < n) {
      if (in.startsWith("/./", i)) {
        i += 2;
      } else if (i + 2 == n && in.startsWith("/.", i)) {
        out.append('/');
        i = n;
      } else if (in.startsWith("/../", i)) {
        i += 3;
        dropLastSegment(out);
      } else if (i + 3 == n && in.startsWith("/..", i)) {
        dropLastSegment(out);
        out.append('/');
        i = n;
      } else {
        int next = in.indexOf('/', i + 1);
        if (next < 0) next = n;
        out.append(in, i, next);
        i = next;
      }
    }
    return out.length() == 0 ? "/" : out.toString();
  }

  private static void dropLastSegment(StringBuilder out) {
    int last = out.lastIndexOf("/");
    out.setLength(Math.max(last, 0));
  }

  private static boolean unreserved(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
        || c == '_' || c == '~';
  }

  private static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  private static MalformedRequestException rejected(String target, String what) {
    return new MalformedRequestException("path " + excerpt(target) + ": " + what
        + " (expected: a path of printable ASCII, percent-encoding as %XX)");
  }

  /** A short, printable quote of a hostile value. */
  static String excerpt(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (int i = 0; i < s.length() && i < MAX_EXCERPT; i++) {
      char c = s.charAt(i);
      if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') b.append(String.format("\\x%02x", (int) c & 0xFF));
      else b.append(c);
    }
    if (s.length() > MAX_EXCERPT) b.append("…");
    return b.append('"').toString();
  }
}
