package dev.lattice.authz;

/**
 * One Istio string match from a policy: exact ({@code abc}), prefix ({@code abc*}), suffix ({@code *abc})
 * or presence ({@code *}: any non-empty value), optionally case-insensitive; for paths also an Envoy URI
 * template ({@link PathTemplate}). Matching never allocates; {@code offset} lets a caller skip a prefix
 * in place (the {@code spiffe://} of a principal). Immutable and thread-safe.
 */
final class StringPattern {
  enum Kind { EXACT, PREFIX, SUFFIX, PRESENCE, TEMPLATE }

  /** Matches no value (stands for an invalid pattern, so a positive list never widens to "any"). */
  static final StringPattern NEVER = new StringPattern(Kind.EXACT, "\u0000never", false, null);

  final Kind kind;
  final String text;
  final boolean ignoreCase;
  private final PathTemplate template;

  private StringPattern(Kind kind, String text, boolean ignoreCase, PathTemplate template) {
    this.kind = kind;
    this.text = text;
    this.ignoreCase = ignoreCase;
    this.template = template;
  }

  static StringPattern of(String value, boolean ignoreCase) {
    if (value.equals("*")) return new StringPattern(Kind.PRESENCE, "", ignoreCase, null);
    if (value.startsWith("*")) return new StringPattern(Kind.SUFFIX, value.substring(1), ignoreCase, null);
    if (value.endsWith("*")) return new StringPattern(Kind.PREFIX, value.substring(0, value.length() - 1), ignoreCase, null);
    return new StringPattern(Kind.EXACT, value, ignoreCase, null);
  }

  /** A path pattern: a template when it uses {@code {*}} or {@code {**}}, else as {@link #of}. */
  static StringPattern path(String value) {
    if (PathTemplate.isTemplate(value)) return new StringPattern(Kind.TEMPLATE, value, false, PathTemplate.parse(value));
    return of(value, false);
  }

  boolean matches(String s) {
    return matches(s, 0);
  }

  /** Matches {@code s} from {@code offset} on; null never matches. */
  boolean matches(String s, int offset) {
    if (s == null) return false;
    int len = s.length() - offset;
    switch (kind) {
      case PRESENCE:
        return len > 0;
      case EXACT:
        if (len != text.length()) return false;
        // IDs and paths that share a long head usually differ in their last characters: fail there first
        if (!ignoreCase) return len == 0 || s.charAt(s.length() - 1) == text.charAt(len - 1) && s.startsWith(text, offset);
        return s.regionMatches(true, offset, text, 0, len);
      case PREFIX:
        if (len < text.length()) return false;
        return ignoreCase ? s.regionMatches(true, offset, text, 0, text.length()) : s.startsWith(text, offset);
      case SUFFIX:
        if (len < text.length()) return false;
        return ignoreCase ? s.regionMatches(true, s.length() - text.length(), text, 0, text.length()) : s.endsWith(text);
      default:
        return offset == 0 && template.matches(s);
    }
  }

  static boolean any(StringPattern[] patterns, String s, int offset) {
    for (StringPattern p : patterns) {
      if (p.matches(s, offset)) return true;
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
