package dev.lattice.kit.topic;

import java.util.Objects;
import org.apache.kafka.common.serialization.Serde;

/**
 * A typed topic descriptor: the topic's spec plus the serdes of its keys and values, so every producer,
 * consumer and Streams topology reads the same types off the same name
 * ({@code Consumed.with(t.keySerde(), t.valueSerde())}).
 *
 * <p>Immutable; thread-safety follows the serdes (Lattice's are thread-safe).
 *
 * @param spec the topic's spec (name, partitions, cleanup)
 * @param keySerde serde of the keys (strings for every Lattice topic)
 * @param valueSerde serde of the values; must map {@code null} to a tombstone and back
 */
public record Topic<K, V>(TopicSpec spec, Serde<K> keySerde, Serde<V> valueSerde) {

  public Topic {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(keySerde, "keySerde");
    Objects.requireNonNull(valueSerde, "valueSerde");
  }

  /** A typed descriptor for {@code spec}. */
  public static <K, V> Topic<K, V> of(TopicSpec spec, Serde<K> keySerde, Serde<V> valueSerde) {
    return new Topic<>(spec, keySerde, valueSerde);
  }

  /** The topic name. */
  public String name() {
    return spec.name();
  }

  /** The name of the dead-letter companion, {@code <name>.dlq}. */
  public String deadLetterTopic() {
    return TopicSpec.deadLetterTopicName(spec.name());
  }
}
