package dev.lattice.telemetry.aggregate;

import java.time.Duration;
import java.util.Locale;

/**
 * A tumbling window size with its label ({@code 10s}, {@code 1m}, {@code 1h}) as used in store names,
 * metrics keys and the query API's {@code window=} parameter.
 *
 * @param size the window length (whole seconds, at least 1 s)
 */
public record WindowSize(Duration size) {

  public WindowSize {
    if (size == null || size.toMillis() < 1000 || size.toMillis() % 1000 != 0) {
      throw new IllegalArgumentException("window: " + size + " (expected: whole seconds, at least 1s)");
    }
  }

  /** Ten seconds. */
  public static final WindowSize TEN_SECONDS = new WindowSize(Duration.ofSeconds(10));
  /** One minute. */
  public static final WindowSize ONE_MINUTE = new WindowSize(Duration.ofMinutes(1));

  /** Parses {@code 10s}, {@code 1m}, {@code 2h}. */
  public static WindowSize parse(String text) {
    String t = text == null ? "" : text.trim().toLowerCase(Locale.ROOT);
    if (t.length() >= 2) {
      char unit = t.charAt(t.length() - 1);
      try {
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        switch (unit) {
          case 's': return new WindowSize(Duration.ofSeconds(n));
          case 'm': return new WindowSize(Duration.ofMinutes(n));
          case 'h': return new WindowSize(Duration.ofHours(n));
          default: break;
        }
      } catch (NumberFormatException | ArithmeticException e) {
        // falls through to the error below
      }
    }
    throw new IllegalArgumentException("window: '" + text + "' (expected: <n>s, <n>m or <n>h, e.g. 10s or 1m)");
  }

  /** The label: the largest unit that divides the size. */
  public String label() {
    long s = size.toSeconds();
    if (s % 3600 == 0) {
      return s / 3600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  /** Length in milliseconds. */
  public long millis() {
    return size.toMillis();
  }

  @Override
  public String toString() {
    return label();
  }
}
