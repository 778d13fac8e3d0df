package dev.lattice.policy.model;

/**
 * Matches a string, as Istio's {@code StringMatch}: exactly one of {@code exact}, {@code prefix},
 * {@code regex} (RE2 syntax, full match). All unset means "present" for a header or query parameter.
 * Immutable value.
 */
public record StringMatch(String exact, String prefix, String regex) {

  public static StringMatch exact(String value) {
    return new StringMatch(value, null, null);
  }

  public static StringMatch prefix(String value) {
    return new StringMatch(null, value, null);
  }

  public static StringMatch regex(String value) {
    return new StringMatch(null, null, value);
  }

  /** Whether no condition is set (presence match). */
  public boolean presenceOnly() {
    return exact == null && prefix == null && regex == null;
  }

  /** How many of the three conditions are set (valid: 0 or 1). */
  int setCount() {
    return (exact != null ? 1 : 0) + (prefix != null ? 1 : 0) + (regex != null ? 1 : 0);
  }
}
