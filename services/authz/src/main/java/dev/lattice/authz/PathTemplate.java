package dev.lattice.authz;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A path template in an AuthorizationPolicy's {@code paths}/{@code notPaths} (Istio, after Envoy's URI
 * template match): {@code {*}} matches exactly one non-empty path segment, {@code {**}} matches the rest
 * of the path (zero or more characters, slashes included). Rules (as Istio validates them): no {@code *},
 * {@code {} or {@code }} outside an operator; an operator fills its whole segment; {@code {**}} is the last
 * operator. E.g. {@code /api/{*}/items} matches {@code /api/v1/items} but not {@code /api/v1/x/items};
 * {@code /files/{**}} matches {@code /files/}, {@code /files/a/b.txt}. Immutable and thread-safe;
 * matching does not allocate.
 */
public final class PathTemplate {
  private static final String ONE = "{*}";
  private static final String REST = "{**}";

  /** Literal text, {@code null} for one segment, or {@link #REST_PART} for the rest. */
  private final String[] parts;
  private static final String REST_PART = new String("**");

  private PathTemplate(String[] parts) {
    this.parts = parts;
  }

  /** Whether {@code path} uses a template operator. */
  public static boolean isTemplate(String path) {
    return path.contains(ONE) || path.contains(REST);
  }

  /** What is wrong with a template, naming the rule; empty when valid. */
  public static Optional<String> problem(String path) {
    if (!path.startsWith("/")) return Optional.of("\"" + path + "\": a path template must start with '/'");
    String[] segs = path.substring(1).split("/", -1);
    boolean restSeen = false;
    for (String seg : segs) {
      boolean one = seg.equals(ONE);
      boolean rest = seg.equals(REST);
      if (restSeen && (one || rest)) {
        return Optional.of("\"" + path + "\": {**} must be the last operator of a path template");
      }
      if (!one && !rest && (seg.contains("*") || seg.contains("{") || seg.contains("}"))) {
        return Optional.of("\"" + path + "\": segment \"" + seg
            + "\" (expected: {*} or {**} as a whole segment, and no other '*', '{' or '}' in a path template)");
      }
      restSeen |= rest;
    }
    return Optional.empty();
  }

  static PathTemplate parse(String path) {
    problem(path).ifPresent(p -> {
      throw new IllegalArgumentException(p);
    });
    List<String> parts = new ArrayList<>();
    StringBuilder literal = new StringBuilder("/");
    String[] segs = path.substring(1).split("/", -1);
    for (int i = 0; i < segs.length; i++) {
      String seg = segs[i];
      if (seg.equals(ONE) || seg.equals(REST)) {
        parts.add(literal.toString());
        literal.setLength(0);
        parts.add(seg.equals(ONE) ? null : REST_PART);
      } else {
        literal.append(seg);
      }
      if (i + 1 < segs.length) literal.append('/');
    }
    if (literal.length() > 0) parts.add(literal.toString());
    return new PathTemplate(parts.toArray(new String[0]));
  }

  boolean matches(String path) {
    return match(path, 0, 0);
  }

  private boolean match(String path, int pos, int part) {
    if (part == parts.length) return pos == path.length();
    String p = parts[part];
    if (p == REST_PART) {
      // {**} is the last operator: the remaining parts are one literal at most, matched at the end.
      if (part + 1 == parts.length) return true;
      String tail = parts[part + 1];
      return path.length() - pos >= tail.length() && path.endsWith(tail);
    }
    if (p == null) {
      int end = pos;
      while (end < path.length() && path.charAt(end) != '/') end++;
      if (end == pos) return false;
      return match(path, end, part + 1);
    }
    if (!path.startsWith(p, pos)) return false;
    return match(path, pos + p.length(), part + 1);
  }
}
