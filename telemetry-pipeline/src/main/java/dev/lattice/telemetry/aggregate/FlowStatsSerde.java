package dev.lattice.telemetry.aggregate;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Kafka serde of {@link FlowStats} for the window stores and their changelogs. Stateless, thread-safe. */
public final class FlowStatsSerde implements Serde<FlowStats> {

  @Override
  public Serializer<FlowStats> serializer() {
    return (topic, stats) -> stats == null ? null : stats.toBytes();
  }

  @Override
  public Deserializer<FlowStats> deserializer() {
    return (topic, bytes) -> {
      if (bytes == null) {
        return null;
      }
      try {
        return FlowStats.fromBytes(bytes);
      } catch (IllegalArgumentException e) {
        throw new SerializationException("flow stats on " + topic + ": " + e.getMessage(), e);
      }
    };
  }
}
