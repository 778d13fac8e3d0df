package dev.lattice.policy.engine;

/**
 * One compiled Istio value pattern: exact, {@code prefix*}, {@code *suffix} or {@code *} (any non-empty
 * value). Matching never allocates; {@code offset} lets principals skip a {@code spiffe://} scheme in
 * place. Immutable and thread-safe.
 */
final class ValuePattern {
  enum Kind { EXACT, PREFIX, SUFFIX, ANY }

  final Kind kind;
  final String text;
  final boolean ignoreCase;

  private ValuePattern(Kind kind, String text, boolean ignoreCase) {
    this.kind = kind;
    this.text = text;
    this.ignoreCase = ignoreCase;
  }

  static ValuePattern of(String value, boolean ignoreCase) {
    if (value.equals("*")) return new ValuePattern(Kind.ANY, "", ignoreCase);
    if (value.startsWith("*")) return new ValuePattern(Kind.SUFFIX, value.substring(1), ignoreCase);
    if (value.endsWith("*")) return new ValuePattern(Kind.PREFIX, value.substring(0, value.length() - 1), ignoreCase);
    return new ValuePattern(Kind.EXACT, value, ignoreCase);
  }

  boolean matches(String s) {
    return s != null && matches(s, 0);
  }

  /** Matches {@code s} from {@code offset} on. */
  boolean matches(String s, int offset) {
    if (s == null) return false;
    int len = s.length() - offset;
    switch (kind) {
      case ANY:
        return len > 0;
      case EXACT:
        return len == text.length() && s.regionMatches(ignoreCase, offset, text, 0, text.length());
      case PREFIX:
        return len >= text.length() && s.regionMatches(ignoreCase, offset, text, 0, text.length());
      default:
        return len >= text.length() && s.regionMatches(ignoreCase, s.length() - text.length(), text, 0, text.length());
    }
  }

  static boolean any(ValuePattern[] patterns, String s, int offset) {
    for (ValuePattern p : patterns) {
      if (p.matches(s, offset)) return true;
    }
    return false;
  }

  @Override
  public String toString() {
    return switch (kind) {
      case ANY -> "*";
      case EXACT -> text;
      case PREFIX -> text + "*";
      case SUFFIX -> "*" + text;
    };
  }
}
