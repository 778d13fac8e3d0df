package dev.lattice.distributor.ingest;

import dev.lattice.configclient.ConfigResources;
import dev.lattice.events.ConfigResource;
import dev.lattice.schemas.serde.AvroSerde;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * The value serde the distributor folds {@code lattice.config.v1} with: Avro single-object decoding plus
 * the per-resource check of {@link ConfigResources#problem}, so a record that decodes but cannot be served
 * (type UNKNOWN from a newer compiler, a payload of the wrong branch) fails decoding and goes to the
 * dead-letter topic with the reason, like garbage and unknown schemas. Thread-safe.
 */
final class ConfigRecordSerde implements Serde<ConfigResource>, Deserializer<ConfigResource> {

  private final AvroSerde<ConfigResource> avro = AvroSerde.of(ConfigResource.class);

  @Override
  public ConfigResource deserialize(String topic, byte[] data) {
    ConfigResource r = avro.deserialize(topic, data);
    if (r != null) {
      Optional<String> problem = ConfigResources.problem(r);
      if (problem.isPresent()) {
        throw new SerializationException("unservable config resource: " + problem.get());
      }
    }
    return r;
  }

  @Override
  public ConfigResource deserialize(String topic, Headers headers, byte[] data) {
    return deserialize(topic, data);
  }

  @Override
  public Serializer<ConfigResource> serializer() {
    return avro.serializer();
  }

  @Override
  public Deserializer<ConfigResource> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {}

  @Override
  public void close() {}
}
