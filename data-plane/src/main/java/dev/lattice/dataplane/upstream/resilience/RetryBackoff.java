package dev.lattice.dataplane.upstream.resilience;

import java.time.Duration;
import java.util.function.LongUnaryOperator;

/**
 * Fully-jittered exponential backoff, as Envoy's router: the wait before retry {@code n} (1-based) is
 * uniform in {@code [0, min(max, base * 2^(n-1)))}. Full jitter spreads retries of many clients so they
 * do not hit a recovering upstream in lock-step.
 */
public record RetryBackoff(Duration base, Duration max) {

  /** Envoy's default base interval. */
  public static final Duration DEFAULT_BASE = Duration.ofMillis(25);

  public RetryBackoff {
    if (base == null || base.isNegative() || base.isZero()) {
      throw new IllegalArgumentException("backoffBaseInterval: " + base + " (expected: > 0)");
    }
    if (max == null) {
      max = base.multipliedBy(10); // Envoy: max defaults to 10 x base
    }
    if (max.compareTo(base) < 0) {
      throw new IllegalArgumentException(
          "backoffMaxInterval: " + max + " (expected: >= backoffBaseInterval " + base + ")");
    }
  }

  public static RetryBackoff of(Duration base, Duration max) {
    return new RetryBackoff(base == null ? DEFAULT_BASE : base, max);
  }

  /** Upper bound (exclusive) of the wait before retry {@code retry} (1-based), in milliseconds. */
  public long ceilingMillis(int retry) {
    if (retry < 1) {
      throw new IllegalArgumentException("retry: " + retry + " (expected: >= 1)");
    }
    long b = base.toMillis();
    long m = max.toMillis();
    int shift = Math.min(retry - 1, 62);
    // Stop doubling before overflow: once past max the ceiling is max anyway.
    long c = b > (m >> shift) ? m : b << shift;
    return Math.max(1, Math.min(c, m));
  }

  /**
   * The wait before retry {@code retry}; {@code random} maps a bound {@code n} to a value in {@code [0,
   * n)} (e.g. {@code n -> ThreadLocalRandom.current().nextLong(n)}), injected so tests are exact.
   */
  public Duration delay(int retry, LongUnaryOperator random) {
    long ceiling = ceilingMillis(retry);
    long v = random.applyAsLong(ceiling);
    if (v < 0 || v >= ceiling) {
      throw new IllegalStateException("random returned " + v + " (expected: 0.." + (ceiling - 1) + ")");
    }
    return Duration.ofMillis(v);
  }
}
