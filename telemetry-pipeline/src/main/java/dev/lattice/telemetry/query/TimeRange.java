package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.WindowSize;

/**
 * The windows a query covers: those starting in [{@code fromMillis}, {@code toMillis}), {@code fromMillis}
 * aligned down to a window start.
 *
 * @param window the window size (which stores are read)
 * @param fromMillis first window start (aligned)
 * @param toMillis end of the range (exclusive; usually now)
 */
public record TimeRange(WindowSize window, long fromMillis, long toMillis) {

  public TimeRange {
    if (toMillis <= fromMillis) {
      throw new IllegalArgumentException("range: from " + fromMillis + " to " + toMillis + " (expected: from < to)");
    }
  }

  /** The range {@code [to - range, to)} with its start aligned to {@code window}. */
  public static TimeRange ending(WindowSize window, long toMillis, long rangeMillis) {
    long from = toMillis - rangeMillis;
    return new TimeRange(window, from - Math.floorMod(from, window.millis()), toMillis);
  }

  /** Seconds the range covers (for rates). */
  public double seconds() {
    return (toMillis - fromMillis) / 1000.0;
  }
}
