package dev.lattice.policy.model;

import java.util.Optional;

/**
 * Principal patterns as AuthorizationPolicy and RateLimitPolicy write them: a SPIFFE ID with or without
 * the {@code spiffe://} scheme (Istio writes {@code cluster.local/ns/default/sa/web}), {@code *} (any
 * authenticated peer), or one {@code *} as prefix ({@code *}/sa/web) or suffix
 * ({@code lattice.local/ns/prod/*}). Character rules quote the SPIFFE ID standard. Stateless.
 */
public final class SpiffePrincipal {
  /** The SPIFFE URI scheme prefix. */
  public static final String SCHEME = "spiffe://";

  private SpiffePrincipal() {}

  /** Drops the {@code spiffe://} scheme, the form used for matching and on the wire (Istio's). */
  public static String normalize(String principal) {
    return principal.startsWith(SCHEME) ? principal.substring(SCHEME.length()) : principal;
  }

  /** The namespace named by a principal such as {@code td/ns/prod/sa/web}, when it is not wildcarded. */
  public static Optional<String> namespaceOf(String principal) {
    String p = normalize(principal);
    if (p.startsWith("*")) return Optional.empty();
    String[] segs = p.split("/", -1);
    for (int i = 1; i + 1 < segs.length; i++) {
      if (segs[i].equals("ns") && !segs[i + 1].contains("*") && !(i + 2 == segs.length && p.endsWith("*"))) {
        return Optional.of(segs[i + 1]);
      }
    }
    return Optional.empty();
  }

  /**
   * Checks a principal pattern; returns what is wrong, naming what was seen and expected, or empty when
   * valid.
   */
  public static Optional<String> problem(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      return Optional.of("empty principal (expected: a SPIFFE ID such as lattice.local/ns/default/sa/web, or *)");
    }
    if (pattern.equals("*")) return Optional.empty();
    boolean prefixWild = pattern.startsWith("*");
    boolean suffixWild = pattern.endsWith("*");
    String core = pattern.substring(prefixWild ? 1 : 0, pattern.length() - (suffixWild ? 1 : 0));
    if (prefixWild && suffixWild) {
      return Optional.of("\"" + pattern + "\": a wildcard may be a prefix or a suffix, not both");
    }
    if (core.contains("*")) {
      return Optional.of("\"" + pattern + "\": '*' is allowed only as the first or last character");
    }
    if (prefixWild) {
      // The rest is the end of an ID: path segments only (the first may be partial).
      return checkPath(pattern, core, true, false);
    }
    String rest = core;
    if (rest.regionMatches(true, 0, SCHEME, 0, SCHEME.length())) {
      if (!rest.startsWith(SCHEME)) {
        return Optional.of("\"" + pattern + "\": the scheme must be lower case (expected: spiffe://)");
      }
      rest = rest.substring(SCHEME.length());
    } else if (rest.contains("://")) {
      return Optional.of("\"" + pattern + "\": scheme \"" + rest.substring(0, rest.indexOf("://"))
          + "\" (expected: spiffe:// or no scheme)");
    }
    int slash = rest.indexOf('/');
    String td = slash < 0 ? rest : rest.substring(0, slash);
    if (td.isEmpty() && !(suffixWild && slash < 0)) {
      return Optional.of("\"" + pattern + "\": missing trust domain (expected: e.g. lattice.local/ns/default/sa/web)");
    }
    for (int i = 0; i < td.length(); i++) {
      char c = td.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_')) {
        return Optional.of("\"" + pattern + "\": trust domain \"" + td + "\" has '" + c
            + "' (expected: trust domain characters are limited to lowercase letters, numbers, dots, dashes, and underscores)");
      }
    }
    if (slash < 0) return Optional.empty();
    return checkPath(pattern, rest.substring(slash), false, suffixWild);
  }

  private static Optional<String> checkPath(String pattern, String path, boolean partialFirst, boolean partialLast) {
    if (path.isEmpty()) return Optional.empty();
    String p = path;
    if (!partialFirst) {
      if (!p.startsWith("/")) return Optional.of("\"" + pattern + "\": path must start with '/'");
      p = p.substring(1);
    }
    String[] segs = p.split("/", -1);
    for (int i = 0; i < segs.length; i++) {
      String s = segs[i];
      boolean first = i == 0;
      boolean last = i == segs.length - 1;
      if (s.isEmpty()) {
        if ((first && partialFirst) || (last && partialLast)) continue;
        return Optional.of("\"" + pattern + "\": empty path segment (expected: no '//' and no trailing '/')");
      }
      if ((s.equals(".") || s.equals("..")) && !(first && partialFirst) && !(last && partialLast)) {
        return Optional.of("\"" + pattern + "\": path segment \"" + s + "\" (expected: no '.' or '..' segments)");
      }
      for (int k = 0; k < s.length(); k++) {
        char c = s.charAt(k);
        if (!(Character.isLetterOrDigit(c) && c < 128) && c != '.' && c != '-' && c != '_') {
          return Optional.of("\"" + pattern + "\": '" + c
              + "' in path (expected: path segment characters are limited to letters, numbers, dots, dashes, and underscores)");
        }
      }
    }
    return Optional.empty();
  }
}
