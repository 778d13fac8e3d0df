package dev.lattice.dataplane.upstream.resilience;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;

/**
 * Linkerd-style retry budget: over a sliding window, retries may not exceed {@code retryRatio x
 * requests + minRetriesPerSecond x windowSeconds}. Bounds the extra load retries put on an upstream in
 * a full outage (without it every request makes 1 + numRetries tries). Time comes from a {@link Clock}
 * so tests do not depend on elapsed time. Not thread-safe: one instance per event loop / cluster.
 */
public final class RetryBudget {
  private final double retryRatio;
  private final int minRetriesPerSecond;
  private final Duration window;
  private final Clock clock;
  private final ArrayDeque<Long> requests = new ArrayDeque<>();
  private final ArrayDeque<Long> retries = new ArrayDeque<>();

  public RetryBudget(double retryRatio, int minRetriesPerSecond, Duration window, Clock clock) {
    if (!(retryRatio >= 0 && retryRatio <= 1000)) {
      throw new IllegalArgumentException("retryRatio: " + retryRatio + " (expected: 0..1000)");
    }
    if (minRetriesPerSecond < 0) {
      throw new IllegalArgumentException(
          "minRetriesPerSecond: " + minRetriesPerSecond + " (expected: >= 0)");
    }
    if (window == null || window.toMillis() < 1) {
      throw new IllegalArgumentException("window: " + window + " (expected: >= 1ms)");
    }
    this.retryRatio = retryRatio;
    this.minRetriesPerSecond = minRetriesPerSecond;
    this.window = window;
    this.clock = clock;
  }

  /** Records an original (non-retry) request. */
  public void recordRequest() {
    long now = clock.millis();
    expire(now);
    requests.addLast(now);
  }

  /** Takes one retry from the budget if there is room; returns false (and records nothing) if not. */
  public boolean tryAcquireRetry() {
    long now = clock.millis();
    expire(now);
    if (retries.size() >= allowed()) {
      return false;
    }
    retries.addLast(now);
    return true;
  }

  /** Retries currently allowed in the window (floor). */
  public long allowed() {
    double reserve = minRetriesPerSecond * (window.toMillis() / 1000.0);
    return (long) Math.floor(retryRatio * requests.size() + reserve);
  }

  private void expire(long now) {
    long cutoff = now - window.toMillis();
    while (!requests.isEmpty() && requests.peekFirst() <= cutoff) {
      requests.pollFirst();
    }
    while (!retries.isEmpty() && retries.peekFirst() <= cutoff) {
      retries.pollFirst();
    }
  }
}
