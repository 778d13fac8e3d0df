package dev.lattice.kit.fold;

/**
 * Receives a {@link TopicFold}'s changes, in topic order per partition, on the executor given to the
 * fold. Both methods default to doing nothing.
 */
public interface FoldListener<V> {

  /** {@code key} now maps to {@code value}; {@code previous} is its former value or null. */
  default void upserted(String key, V value, V previous) {}

  /** A tombstone removed {@code key}, which mapped to {@code previous}. */
  default void deleted(String key, V previous) {}

  /** The fold reached the end offsets that existed when it started (called once). */
  default void caughtUp() {}
}
