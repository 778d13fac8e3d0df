package dev.lattice.authz;

/**
 * One Istio string match from a policy: exact ({@code abc}), prefix ({@code abc*}), suffix ({@code *abc})
 * or presence ({@code *}: any non-empty value), optionally case-insensitive; for paths also an Envoy URI
 * template ({@link PathTemplate}). A principal pattern ({@link #principal}) is written without the
 * {@code spiffe://} scheme and matches a SPIFFE ID with it. Matching never allocates. Immutable and thread-safe.
 */
final class StringPattern {
  enum Kind { EXACT, PREFIX, SUFFIX, PRESENCE, TEMPLATE }

  /** Matches no value (stands for an invalid pattern, so a positive list never widens to "any"). */
  static final StringPattern NEVER = new StringPattern(Kind.EXACT, "\u0000never", "\u0000never", 0, false, null);

  final Kind kind;
  /** The literal as written (a principal's without its scheme): what the index files the pattern under. */
  final String text;
  final boolean ignoreCase;
  /** What an exact or prefix match compares the value with: {@link #text}, for a principal with the scheme. */
  private final String compare;
  /** The shortest value a suffix or presence pattern matches (a principal's scheme does not count). */
  private final int minLength;
  private final PathTemplate template;

  private StringPattern(Kind kind, String text, String compare, int minLength, boolean ignoreCase, PathTemplate template) {
    this.kind = kind;
    this.text = text;
    this.compare = compare;
    this.minLength = minLength;
    this.ignoreCase = ignoreCase;
    this.template = template;
  }

  static StringPattern of(String value, boolean ignoreCase) {
    return of(value, ignoreCase, "");
  }

  /**
   * A {@code principals} value (scheme optional) matched against a full SPIFFE ID (which always has the
   * scheme, see {@link PeerIdentity}): exact and prefix compare with the scheme in front, so the exact case
   * is one {@code equals}; a suffix or presence must still leave something after the scheme.
   */
  static StringPattern principal(String value) {
    String v = value.startsWith(PeerIdentity.SCHEME) ? value.substring(PeerIdentity.SCHEME.length()) : value;
    return of(v, false, PeerIdentity.SCHEME);
  }

  private static StringPattern of(String value, boolean ignoreCase, String head) {
    int skip = head.length();
    if (value.equals("*")) return new StringPattern(Kind.PRESENCE, "", "", skip + 1, ignoreCase, null);
    if (value.startsWith("*")) {
      String t = value.substring(1);
      return new StringPattern(Kind.SUFFIX, t, t, skip + t.length(), ignoreCase, null);
    }
    if (value.endsWith("*")) {
      String t = value.substring(0, value.length() - 1);
      return new StringPattern(Kind.PREFIX, t, head + t, 0, ignoreCase, null);
    }
    return new StringPattern(Kind.EXACT, value, head + value, 0, ignoreCase, null);
  }

  /** A path pattern: a template when it uses {@code {*}} or {@code {**}}, else as {@link #of}. */
  static StringPattern path(String value) {
    if (PathTemplate.isTemplate(value)) return new StringPattern(Kind.TEMPLATE, value, value, 0, false, PathTemplate.parse(value));
    return of(value, false);
  }

  /** Whether {@code s} matches; null never matches. */
  boolean matches(String s) {
    if (s == null) return false;
    switch (kind) {
      case PRESENCE:
        return s.length() >= minLength;
      case EXACT:
        // String.equals is an intrinsic (word-wise compare); it checks the length first
        return ignoreCase ? compare.equalsIgnoreCase(s) : compare.equals(s);
      case PREFIX:
        return ignoreCase ? s.regionMatches(true, 0, compare, 0, compare.length()) : s.startsWith(compare);
      case SUFFIX:
        if (s.length() < minLength) return false;
        return ignoreCase ? s.regionMatches(true, s.length() - text.length(), text, 0, text.length()) : s.endsWith(text);
      default:
        return template.matches(s);
    }
  }

  static boolean any(StringPattern[] patterns, String s) {
    for (StringPattern p : patterns) {
      if (p.matches(s)) return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case PRESENCE -> "*";
      case EXACT, TEMPLATE -> text;
      case PREFIX -> text + "*";
      case SUFFIX -> "*" + text;
    };
  }
}
