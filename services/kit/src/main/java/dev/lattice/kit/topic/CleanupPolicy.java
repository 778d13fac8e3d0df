package dev.lattice.kit.topic;

import java.util.Locale;

/** How Kafka discards old records of a topic: by key (compaction) or by age (deletion). */
public enum CleanupPolicy {
  /** Keep the latest record per key; a tombstone (null value) removes the key. */
  COMPACT,
  /** Drop records older than the topic's retention. */
  DELETE;

  /** The broker's {@code cleanup.policy} value: {@code compact} or {@code delete}. */
  public String configValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
