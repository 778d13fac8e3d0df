package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/**
 * One compiled payload before it is addressed to a node: type, name, canonical payload, its version
 * (hex SHA-256 of the canonical bytes) and the resources it came from. Node-independent, so an outbound
 * unit compiled once is fanned out to every node unchanged.
 *
 * <p>Immutable by contract: the payload is a canonical copy nobody mutates after {@link #of}.
 */
public record CompiledResource(
    ConfigType type, String name, SpecificRecord payload, String version, List<String> sources) {

  public CompiledResource {
    sources = List.copyOf(sources);
  }

  /** Canonicalises {@code payload} and computes its version. */
  public static CompiledResource of(ConfigType type, String name, SpecificRecord payload,
      List<String> sources) {
    SpecificRecord canonical = ConfigVersion.canonical(payload);
    List<String> sortedSources = sources.stream().distinct().sorted().toList();
    return new CompiledResource(type, name, canonical, ConfigVersion.of(canonical), sortedSources);
  }

  /** {@code TYPE/name}: the key without the node. */
  public String typeAndName() {
    return type.name() + "/" + name;
  }

  /** The event for {@code node}. */
  public ConfigResource toEvent(String node) {
    return ConfigResource.newBuilder()
        .setNode(node)
        .setType(type)
        .setName(name)
        .setVersion(version)
        .setPayload(payload)
        .setSourceResources(sources)
        .build();
  }
}
