package dev.lattice.authz;

import java.util.List;

/**
 * Where {@link RuleIndex} files one rule: the request attribute the rule constrains most selectively, and
 * the values it requires there. A rule matches only requests whose value for that attribute matches one of
 * the patterns (or whose port is one of the ports), so a request needs to try it only when its own value
 * leads to it. Exact values are preferred over prefixes/suffixes, longer literals over shorter ones, and
 * ports (few distinct values) come last; a rule with no usable constraint has no hint and is always tried.
 *
 * @param attribute what the patterns match
 * @param patterns for {@link Attribute#PORT} empty; else each EXACT, PREFIX or SUFFIX with a literal, or a
 *     TEMPLATE (filed under its literal head or tail, see {@link #literal})
 * @param ports for {@link Attribute#PORT}
 */
record IndexHint(Attribute attribute, List<StringPattern> patterns, int[] ports) {

  enum Attribute { PRINCIPAL, NAMESPACE, PATH, PORT }

  private static final int EXACT_SCORE = 10_000;
  private static final int PORT_SCORE = 4;

  /** The best hint among the candidates (each null when the rule does not constrain that attribute), or null. */
  static IndexHint choose(List<StringPattern> principals, List<StringPattern> namespaces, List<StringPattern> paths, int[] ports) {
    IndexHint best = null;
    int bestScore = 0;
    // ties keep the earlier attribute: principal, then namespace, then path
    int score = score(principals);
    if (score > bestScore) {
      best = new IndexHint(Attribute.PRINCIPAL, principals, new int[0]);
      bestScore = score;
    }
    score = score(namespaces);
    if (score > bestScore) {
      best = new IndexHint(Attribute.NAMESPACE, namespaces, new int[0]);
      bestScore = score;
    }
    score = score(paths);
    if (score > bestScore) {
      best = new IndexHint(Attribute.PATH, paths, new int[0]);
      bestScore = score;
    }
    if (ports != null && ports.length > 0 && PORT_SCORE > bestScore) best = new IndexHint(Attribute.PORT, List.of(), ports);
    return best;
  }

  /**
   * The literal a pattern is filed under; for a template the longer of its head (the text before its first
   * operator) and its tail (after its last operator) — a matching path starts with the one and ends with the
   * other, and templates of one API tend to share their head ({@code /api/{*}/...}) but not their tail.
   */
  static String literal(StringPattern p) {
    if (p.kind != StringPattern.Kind.TEMPLATE) return p.text;
    String head = head(p);
    String tail = tail(p);
    return tail.length() > head.length() ? tail : head;
  }

  /** Whether a template is filed under its tail: {@link #literal} is a suffix the path must end with. */
  static boolean filedByTail(StringPattern p) {
    return p.kind == StringPattern.Kind.TEMPLATE && tail(p).length() > head(p).length();
  }

  private static String head(StringPattern p) {
    int brace = p.text.indexOf('{');
    return brace < 0 ? p.text : p.text.substring(0, brace);
  }

  private static String tail(StringPattern p) {
    int brace = p.text.lastIndexOf('}');
    return brace < 0 ? "" : p.text.substring(brace + 1);
  }

  /** How selective the weakest pattern is; 0 when one cannot be indexed (then the attribute is no hint). */
  private static int score(List<StringPattern> ps) {
    if (ps == null || ps.isEmpty()) return 0;
    int min = Integer.MAX_VALUE;
    for (StringPattern p : ps) {
      if (p.ignoreCase || p.kind == StringPattern.Kind.PRESENCE) return 0;
      int s = p.kind == StringPattern.Kind.EXACT ? EXACT_SCORE + p.text.length() : literal(p).length();
      if (s == 0) return 0;
      min = Math.min(min, s);
    }
    return min;
  }
}
