package dev.lattice.dataplane.route;

import dev.lattice.events.policy.RegexRewrite;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Istio's {@code HTTPRewrite.uriRegexRewrite} (Envoy's {@code regex_rewrite}): every match of {@code match} in
 * the path — not the query, which is kept — is replaced by {@code rewrite}, whose {@code \1..\9} insert capture
 * groups and {@code \0} the whole match, as RE2 writes them. Compiled once per route; immutable and thread-safe.
 *
 * <p>RE2 runs in linear time; {@code java.util.regex} backtracks. So the expression is held to RE2's syntax
 * (look-arounds, back-references, atomic groups, possessive quantifiers, {@code \G \Z} and class intersection
 * {@code &&} are refused — RE2 refuses or reads them differently), and each rewrite runs on a step budget
 * proportional to the path's length: a path that would make a backtracking expression explode fails that one
 * request ({@link BudgetExceeded}) instead of stalling an event loop.
 */
public final class PathRegexRewrite {
  private static final Pattern NOT_RE2 = Pattern.compile("\\(\\?[=!>]|\\(\\?<[=!]|\\\\[1-9]|\\\\k<|\\\\[GZ]|[*+?}]\\+|&&");
  /** Character reads allowed per character of the path, plus a floor: far above what a linear pattern needs. */
  private static final int STEPS_PER_CHAR = 64;
  private static final int STEPS_FLOOR = 4096;

  private final Pattern pattern;
  private final String replacement;
  private final String source;

  private PathRegexRewrite(Pattern pattern, String replacement, String source) {
    this.pattern = pattern;
    this.replacement = replacement;
    this.source = source;
  }

  /**
   * Compiles {@code r}; {@code where} names the field in errors.
   *
   * @throws IllegalArgumentException for an empty or non-RE2 expression, or a replacement naming a group the
   *     expression lacks, with a stray backslash, or with whitespace or control characters
   */
  public static PathRegexRewrite of(RegexRewrite r, String where) {
    String match = r.getMatch();
    if (match == null || match.isEmpty()) {
      throw new IllegalArgumentException(where + ".match: empty (expected: an RE2 regular expression)");
    }
    Matcher bad = NOT_RE2.matcher(match);
    if (bad.find()) {
      throw new IllegalArgumentException(where + ".match \"" + match + "\": \"" + bad.group() + "\" at index " + bad.start()
          + " is not RE2 syntax (expected: no look-arounds, back-references, atomic groups, possessive quantifiers, \\G, \\Z or &&)");
    }
    Pattern p;
    try {
      p = Pattern.compile(match);
    } catch (PatternSyntaxException e) {
      throw new IllegalArgumentException(where + ".match \"" + match + "\": " + e.getDescription() + " at index " + e.getIndex()
          + " (expected: an RE2 regular expression)", e);
    }
    return new PathRegexRewrite(p, javaReplacement(r.getRewrite(), p.matcher("").groupCount(), where + ".rewrite"), match);
  }

  /** RE2's {@code \N} and {@code \\} as {@link Matcher#replaceAll} writes them ({@code $N}, {@code \\}); {@code $} literal. */
  private static String javaReplacement(String rewrite, int groups, String where) {
    if (rewrite == null) {
      throw new IllegalArgumentException(where + ": missing (expected: the replacement, e.g. \"/v2/\\1\")");
    }
    StringBuilder b = new StringBuilder(rewrite.length() + 8);
    for (int i = 0; i < rewrite.length(); i++) {
      char c = rewrite.charAt(i);
      if (c <= ' ' || c == 127) {
        throw new IllegalArgumentException(where + " \"" + rewrite + "\": whitespace or a control character at index " + i
            + " (expected: path characters)");
      }
      if (c == '$') {
        b.append("\\$");
      } else if (c != '\\') {
        b.append(c);
      } else {
        char next = i + 1 < rewrite.length() ? rewrite.charAt(i + 1) : 0;
        if (next == '\\') {
          b.append("\\\\");
        } else if (next >= '0' && next <= '9') {
          if (next - '0' > groups) {
            throw new IllegalArgumentException(where + " \"" + rewrite + "\": \\" + next + " names a group the match does not have"
                + " (expected: \\0..\\" + groups + ")");
          }
          b.append('$').append(next);
        } else {
          throw new IllegalArgumentException(where + " \"" + rewrite + "\": a backslash not followed by a digit or a backslash"
              + " at index " + i + " (expected: \\0..\\9 or \\\\)");
        }
        i++;
      }
    }
    return b.toString();
  }

  /**
   * The rewritten path: every match replaced; a result that does not start with {@code /} gets one, so the
   * request line stays an origin-form target.
   *
   * @throws BudgetExceeded when matching took more steps than the path's length allows
   */
  public String rewrite(String path) {
    Budgeted text = new Budgeted(path, STEPS_FLOOR + STEPS_PER_CHAR * path.length());
    String out = pattern.matcher(text).replaceAll(replacement);
    return out.startsWith("/") ? out : "/" + out;
  }

  @Override
  public String toString() {
    return source;
  }

  /** The expression needed more steps than the budget of this path; the request is refused. */
  public static final class BudgetExceeded extends RuntimeException {
    BudgetExceeded() {
      super("uri rewrite: matching the path took too many steps", null, false, false);
    }
  }

  /** The path as the matcher reads it, counting reads: backtracking shows up as reads. */
  private static final class Budgeted implements CharSequence {
    private final String s;
    private int left;

    Budgeted(String s, int budget) {
      this.s = s;
      this.left = budget;
    }

    @Override
    public char charAt(int index) {
      if (--left < 0) {
        throw new BudgetExceeded();
      }
      return s.charAt(index);
    }

    @Override
    public int length() {
      return s.length();
    }

    @Override
    public CharSequence subSequence(int start, int end) {
      return s.subSequence(start, end); // groups copied into the result: not matching work
    }

    @Override
    public String toString() {
      return s;
    }
  }
}
