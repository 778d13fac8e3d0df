package dev.lattice.kit.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * A write was not taken because Kafka is unreachable (the readiness check saw the broker away, or the
 * producer gave up within its bounded timeouts). Retrying later helps; an HTTP API answers it with
 * {@code 503} and {@code Retry-After: }{@link #retryAfterSeconds()}.
 *
 * <p>A failure raised before the send ({@link #sent()} false) wrote nothing. One raised after the
 * producer gave up may have reached the broker without its acknowledgement coming back: the outcome is
 * unknown, as with any timed-out write, and a retry of an upsert or delete is safe. Immutable.
 */
public final class KafkaUnavailableException extends RuntimeException {

  private final Duration retryAfter;
  private final boolean sent;

  /**
   * @param message what was not done and why, e.g. {@code "Kafka 127.0.0.1:9092 unreachable: …"}
   * @param retryAfter when a retry makes sense (at least a second is advertised)
   * @param sent whether the record had been handed to the producer (outcome unknown) or not (nothing written)
   */
  public KafkaUnavailableException(String message, Duration retryAfter, boolean sent, Throwable cause) {
    super(message, cause);
    this.retryAfter = Objects.requireNonNull(retryAfter, "retryAfter");
    this.sent = sent;
  }

  /** When a retry makes sense. */
  public Duration retryAfter() {
    return retryAfter;
  }

  /** The {@code Retry-After} header value: whole seconds, at least 1. */
  public String retryAfterSeconds() {
    long millis = retryAfter.toMillis();
    return Long.toString(Math.max(1, (millis + 999) / 1000));
  }

  /** Whether the record had reached the producer (outcome unknown) rather than being refused up front. */
  public boolean sent() {
    return sent;
  }

  /** {@code err} itself, or the first {@link KafkaUnavailableException} among its causes; else null. */
  public static KafkaUnavailableException find(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof KafkaUnavailableException k) return k;
    }
    return null;
  }
}
