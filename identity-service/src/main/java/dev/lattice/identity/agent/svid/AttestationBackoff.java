package dev.lattice.identity.agent.svid;

import java.time.Duration;

/**
 * How long the agent waits between failed node attestations: {@code initial} after the first failure,
 * doubling after each further one, never more than {@code max}; a success starts over. Immutable.
 *
 * @param initial the wait after the first failure (&gt; 0)
 * @param max the cap (&ge; initial)
 */
public record AttestationBackoff(Duration initial, Duration max) {

  /** 1 s doubling up to 5 min (config {@code agent.attest.backoff.initial} / {@code agent.attest.backoff.max}). */
  public static final AttestationBackoff DEFAULT = new AttestationBackoff(Duration.ofSeconds(1), Duration.ofMinutes(5));

  public AttestationBackoff {
    if (initial.isZero() || initial.isNegative() || max.compareTo(initial) < 0) {
      throw new IllegalArgumentException("attestation backoff: initial " + initial + ", max " + max
          + " (expected: initial > 0 and max >= initial)");
    }
  }

  /** The wait after {@code failures} consecutive failures (1 = the first). */
  public Duration after(long failures) {
    Duration wait = initial;
    for (long i = 1; i < failures && wait.compareTo(max) < 0; i++) {
      wait = wait.multipliedBy(2);
    }
    return wait.compareTo(max) > 0 ? max : wait;
  }

  /** {@code d} as people write it in config: {@code 500ms}, {@code 8s}, {@code 5m}, {@code 1h}. */
  static String human(Duration d) {
    long ms = d.toMillis();
    if (ms % 3_600_000 == 0) return ms / 3_600_000 + "h";
    if (ms % 60_000 == 0) return ms / 60_000 + "m";
    if (ms % 1_000 == 0) return ms / 1_000 + "s";
    return ms + "ms";
  }
}
