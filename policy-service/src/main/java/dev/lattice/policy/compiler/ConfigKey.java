package dev.lattice.policy.compiler;

import dev.lattice.events.config.ConfigType;
import java.util.Objects;

/**
 * The key of a compiled resource on {@code lattice.config.v1}: {@code node/TYPE/name}. Node names
 * contain no {@code /}; the name may (inbound names end with the workload instance key), so parsing
 * splits on the first two slashes only. Immutable value.
 */
public record ConfigKey(String node, ConfigType type, String name) {

  public ConfigKey {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
    if (node.contains("/")) {
      throw new IllegalArgumentException("node: \"" + node + "\" (expected: no '/')");
    }
  }

  /** {@code node/TYPE/name}. */
  public String asString() {
    return node + "/" + type.name() + "/" + name;
  }

  /** Parses {@code node/TYPE/name}. */
  public static ConfigKey parse(String key) {
    String[] parts = key.split("/", 3);
    if (parts.length != 3) {
      throw new IllegalArgumentException("config key: \"" + key + "\" (expected: node/TYPE/name)");
    }
    return new ConfigKey(parts[0], ConfigType.valueOf(parts[1]), parts[2]);
  }

  @Override
  public String toString() {
    return asString();
  }
}
