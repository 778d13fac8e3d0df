package dev.lattice.dataplane.upstream.resilience;

import java.time.Clock;
import java.time.Duration;

/**
 * Linkerd-style retry budget: over a sliding window, retries may not exceed {@code retryRatio x
 * requests + minRetriesPerSecond x windowSeconds}. Bounds the extra load retries put on an upstream in
 * a full outage (without it every request makes 1 + numRetries tries). Time comes from a {@link Clock}
 * so tests do not depend on elapsed time.
 *
 * <p>The window is ten slots of a tenth of it each (counts, not timestamps), so memory stays constant
 * at any request rate; an event leaves the window up to one slot early. Thread-safe: one budget per
 * cluster is shared by every event loop (a short lock, no allocation).
 */
public final class RetryBudget {
  private static final int SLOTS = 10;
  private final double retryRatio;
  private final int minRetriesPerSecond;
  private final Duration window;
  private final long slotMillis;
  private final Clock clock;
  private final long[] slotIds = new long[SLOTS];
  private final long[] requests = new long[SLOTS];
  private final long[] retries = new long[SLOTS];

  public RetryBudget(double retryRatio, int minRetriesPerSecond, Duration window, Clock clock) {
    if (!(retryRatio >= 0 && retryRatio <= 1000)) {
      throw new IllegalArgumentException("retryRatio: " + retryRatio + " (expected: 0..1000)");
    }
    if (minRetriesPerSecond < 0) {
      throw new IllegalArgumentException(
          "minRetriesPerSecond: " + minRetriesPerSecond + " (expected: >= 0)");
    }
    if (window == null || window.toMillis() < 1) {
      throw new IllegalArgumentException("ttl: " + window + " (expected: >= 1ms)");
    }
    this.retryRatio = retryRatio;
    this.minRetriesPerSecond = minRetriesPerSecond;
    this.window = window;
    this.slotMillis = Math.max(1, window.toMillis() / SLOTS);
    this.clock = clock;
    java.util.Arrays.fill(slotIds, Long.MIN_VALUE);
  }

  public double retryRatio() {
    return retryRatio;
  }

  public int minRetriesPerSecond() {
    return minRetriesPerSecond;
  }

  public Duration window() {
    return window;
  }

  /** Records an original (non-retry) request. */
  public synchronized void recordRequest() {
    requests[slot(clock.millis())]++;
  }

  /** Takes one retry from the budget if there is room; returns false (and records nothing) if not. */
  public synchronized boolean tryAcquireRetry() {
    int i = slot(clock.millis());
    if (sum(retries) >= allowedLocked()) {
      return false;
    }
    retries[i]++;
    return true;
  }

  /** Retries currently allowed in the window (floor). */
  public synchronized long allowed() {
    slot(clock.millis());
    return allowedLocked();
  }

  /** Retries taken in the window. */
  public synchronized long retriesInWindow() {
    slot(clock.millis());
    return sum(retries);
  }

  private long allowedLocked() {
    double reserve = minRetriesPerSecond * (window.toMillis() / 1000.0);
    return (long) Math.floor(retryRatio * sum(requests) + reserve);
  }

  /** The slot of {@code now}, after clearing every slot that has left the window. */
  private int slot(long now) {
    long id = Math.floorDiv(now, slotMillis);
    for (int k = 0; k < SLOTS; k++) {
      if (slotIds[k] != Long.MIN_VALUE && (slotIds[k] <= id - SLOTS || slotIds[k] > id)) {
        slotIds[k] = Long.MIN_VALUE; // expired (or the clock went back): forget it
        requests[k] = 0;
        retries[k] = 0;
      }
    }
    int i = (int) Math.floorMod(id, (long) SLOTS);
    if (slotIds[i] != id) {
      slotIds[i] = id;
      requests[i] = 0;
      retries[i] = 0;
    }
    return i;
  }

  private static long sum(long[] a) {
    long s = 0;
    for (long v : a) {
      s += v;
    }
    return s;
  }
}
