package dev.lattice.telemetry.aggregate;

import java.time.Duration;
import java.util.List;

/**
 * How the aggregation topology windows flows.
 *
 * @param windows tumbling window sizes, each aggregated per scope (default 10 s and 1 min)
 * @param grace how long after a window ends a late flow is still counted (by stream time); later ones are
 *     dropped and counted in Streams' {@code dropped-records-total}
 * @param retention how long closed windows stay queryable in the stores (at least the largest window
 *     plus grace)
 */
public record TelemetryOptions(List<WindowSize> windows, Duration grace, Duration retention) {

  public TelemetryOptions {
    windows = List.copyOf(windows);
    if (windows.isEmpty()) {
      throw new IllegalArgumentException("windows: none (expected: at least one window size)");
    }
    if (windows.stream().distinct().count() != windows.size()) {
      throw new IllegalArgumentException("windows: " + windows + " (expected: distinct sizes)");
    }
    if (grace == null || grace.isNegative()) {
      throw new IllegalArgumentException("grace: " + grace + " (expected: >= 0)");
    }
    long longest = windows.stream().mapToLong(WindowSize::millis).max().orElseThrow();
    if (retention == null || retention.toMillis() < longest + grace.toMillis()) {
      throw new IllegalArgumentException("retention: " + retention + " (expected: >= largest window + grace = "
          + Duration.ofMillis(longest + grace.toMillis()) + ")");
    }
  }

  /** 10 s and 1 min windows, 5 s grace, 2 h retention. */
  public static TelemetryOptions defaults() {
    return new TelemetryOptions(List.of(WindowSize.TEN_SECONDS, WindowSize.ONE_MINUTE), Duration.ofSeconds(5),
        Duration.ofHours(2));
  }

  /** The same windows and retention with another grace period. */
  public TelemetryOptions withGrace(Duration newGrace) {
    return new TelemetryOptions(windows, newGrace, retention);
  }
}
