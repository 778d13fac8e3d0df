package dev.lattice.policy.model;

import java.math.BigDecimal;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Istio writes them: protobuf JSON ({@code 1.5s}) and Go duration strings ({@code 100ms},
 * {@code 1m30s}, {@code 2h}); units {@code h m s ms us ns}. Stateless.
 */
public final class DurationText {
  private static final Pattern WHOLE = Pattern.compile("(?:\\d+(?:\\.\\d+)?(?:h|ms|m|s|us|µs|ns))+");
  private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(h|ms|m|s|us|µs|ns)");

  private DurationText() {}

  /** Whether {@code text} is a valid duration. */
  public static boolean isValid(String text) {
    return text != null && WHOLE.matcher(text).matches();
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException {@code "1.5 seconds" (expected: a duration such as 1.5s, 100ms, 1m30s)}
   */
  public static Duration parse(String text) {
    if (!isValid(text)) {
      throw new IllegalArgumentException("\"" + text + "\" (expected: a duration such as 1.5s, 100ms, 1m30s)");
    }
    BigDecimal nanos = BigDecimal.ZERO;
    Matcher m = PART.matcher(text);
    while (m.find()) {
      BigDecimal n = new BigDecimal(m.group(1));
      long unitNanos = switch (m.group(2)) {
        case "h" -> 3_600_000_000_000L;
        case "m" -> 60_000_000_000L;
        case "s" -> 1_000_000_000L;
        case "ms" -> 1_000_000L;
        case "us", "µs" -> 1_000L;
        default -> 1L;
      };
      nanos = nanos.add(n.multiply(BigDecimal.valueOf(unitNanos)));
    }
    return Duration.ofNanos(nanos.longValueExact());
  }

  /** Milliseconds of {@code text} (rounded down), or {@code null} when {@code text} is null. */
  public static Long toMillis(String text) {
    return text == null ? null : parse(text).toMillis();
  }

  /** Shortest text for whole milliseconds: {@code 2h}, {@code 90s}, {@code 1500ms}; null stays null. */
  public static String ofMillis(Long millis) {
    if (millis == null) return null;
    long ms = millis;
    if (ms != 0 && ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
    if (ms != 0 && ms % 60_000 == 0) return ms / 60_000 + "m";
    if (ms % 1000 == 0) return ms / 1000 + "s";
    return ms + "ms";
  }
}
