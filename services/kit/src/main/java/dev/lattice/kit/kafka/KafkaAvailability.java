package dev.lattice.kit.kafka;

import java.time.Duration;
import java.util.Optional;

/**
 * What an {@link EventPublisher} asks before a send: is Kafka reachable right now? Implemented by the
 * kit's background Kafka readiness check ({@code dev.lattice.kit.service.KafkaReadinessCheck}), so a
 * write during an outage fails at once instead of waiting for the producer's timeouts.
 *
 * <p>Implementations answer from state they already hold (no I/O; callers are event loops) and are
 * thread-safe.
 */
public interface KafkaAvailability {

  /** Never refuses: every send goes to the producer (its own timeouts decide). */
  KafkaAvailability ALWAYS = Optional::empty;

  /** Empty while writes may go to Kafka; otherwise the failure to hand the caller instead of sending. */
  Optional<KafkaUnavailableException> unavailable();

  /**
   * A send failed in a way that suggests the broker is away (a timeout, a network error): the
   * implementation may re-check at once rather than at its next interval. Must not block.
   */
  default void sendFailed(Throwable cause) {}

  /** What {@code Retry-After} a caller refused for a producer timeout is told. Default one second. */
  default Duration retryAfter() {
    return Duration.ofSeconds(1);
  }
}
