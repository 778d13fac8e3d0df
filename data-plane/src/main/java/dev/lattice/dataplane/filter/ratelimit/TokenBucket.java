package dev.lattice.dataplane.filter.ratelimit;

/**
 * A token bucket refilled continuously from a millisecond time source: {@code capacity} tokens at most,
 * {@code perMilli} tokens added per millisecond. Thread-safe (buckets of node scope are shared by every
 * event loop; the critical section is a few arithmetic operations).
 */
final class TokenBucket {
  private final double capacity;
  private final double perMilli;
  private double tokens;
  private long last;

  TokenBucket(double capacity, double perMilli, long nowMillis) {
    this.capacity = capacity;
    this.perMilli = perMilli;
    this.tokens = capacity;
    this.last = nowMillis;
  }

  /** Tokens now, after refilling (never below 0, never above capacity). */
  synchronized double available(long now) {
    refill(now);
    return tokens;
  }

  /** Takes one token when one is there; returns whether it did. */
  synchronized boolean tryTake(long now) {
    refill(now);
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }

  /** Takes one token when one is there; returns the tokens left after it, or -1 when there was none. */
  synchronized double take(long now) {
    refill(now);
    if (tokens >= 1) {
      tokens -= 1;
      return tokens;
    }
    return -1;
  }

  /** Milliseconds until a whole token is there (0 when one is). */
  synchronized long millisUntilToken(long now) {
    refill(now);
    return tokens >= 1 ? 0 : (long) Math.ceil((1 - tokens) / perMilli - 1e-6);
  }

  /** Milliseconds until the bucket is full again. */
  synchronized long millisUntilFull(long now) {
    refill(now);
    return (long) Math.max(0, Math.ceil((capacity - tokens) / perMilli - 1e-6));
  }

  /** Full now: indistinguishable from a new bucket, so it may be dropped. */
  synchronized boolean full(long now) {
    refill(now);
    return tokens >= capacity;
  }

  private void refill(long now) {
    if (now > last) {
      tokens = Math.min(capacity, tokens + (now - last) * perMilli);
      last = now;
    }
  }
}
