package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * One change entering the compiler, after both input topics are merged onto the compiler's single
 * repartition topic: a resource or a registry record, with its original key; a null value is a
 * tombstone. Immutable value.
 *
 * @param resourceKey the original {@code lattice.resources.v1} key, or null
 * @param resource the resource, or null (tombstone, or this is a registry change)
 * @param workloadKey the original {@code lattice.registry.v1} key, or null
 * @param workload the workload, or null (tombstone, or this is a resource change)
 */
public record CompilerInput(String resourceKey, ResourceEvent resource, String workloadKey,
    WorkloadEndpoint workload) {

  public static CompilerInput resource(String key, ResourceEvent event) {
    return new CompilerInput(key, event, null, null);
  }

  public static CompilerInput workload(String key, WorkloadEndpoint event) {
    return new CompilerInput(null, null, key, event);
  }

  public boolean isResource() {
    return resourceKey != null;
  }

  /**
   * Serde of the repartition topic: {@code tag(1) | keyLength(4) | key(UTF-8) | value bytes} where the
   * value bytes are the topic serde's own encoding (empty for a tombstone). Thread-safe.
   */
  public static Serde<CompilerInput> serde(CompilerTopics topics) {
    Serializer<ResourceEvent> rs = topics.resources().valueSerde().serializer();
    Serializer<WorkloadEndpoint> ws = topics.registry().valueSerde().serializer();
    Deserializer<ResourceEvent> rd = topics.resources().valueSerde().deserializer();
    Deserializer<WorkloadEndpoint> wd = topics.registry().valueSerde().deserializer();
    Serializer<CompilerInput> ser = (topic, in) -> {
      if (in == null) return null;
      boolean res = in.isResource();
      byte[] key = (res ? in.resourceKey : in.workloadKey).getBytes(StandardCharsets.UTF_8);
      byte[] value = res
          ? (in.resource == null ? new byte[0] : rs.serialize(topic, in.resource))
          : (in.workload == null ? new byte[0] : ws.serialize(topic, in.workload));
      return ByteBuffer.allocate(1 + 4 + key.length + value.length)
          .put((byte) (res ? 'R' : 'W')).putInt(key.length).put(key).put(value).array();
    };
    Deserializer<CompilerInput> de = (topic, bytes) -> {
      if (bytes == null) return null;
      try {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte tag = b.get();
        byte[] key = new byte[b.getInt()];
        b.get(key);
        byte[] value = new byte[b.remaining()];
        b.get(value);
        String k = new String(key, StandardCharsets.UTF_8);
        return switch (tag) {
          case 'R' -> resource(k, value.length == 0 ? null : rd.deserialize(topic, value));
          case 'W' -> workload(k, value.length == 0 ? null : wd.deserialize(topic, value));
          default -> throw new SerializationException("compiler input: tag " + tag + " (expected: R or W)");
        };
      } catch (java.nio.BufferUnderflowException | NegativeArraySizeException e) {
        throw new SerializationException("compiler input: truncated record of " + bytes.length + " bytes");
      }
    };
    return org.apache.kafka.common.serialization.Serdes.serdeFrom(ser, de);
  }
}
