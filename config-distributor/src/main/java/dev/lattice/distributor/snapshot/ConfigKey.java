package dev.lattice.distributor.snapshot;

import dev.lattice.events.config.ConfigType;
import java.util.Objects;

/**
 * The key of a compiled resource on {@code lattice.config.v1}: {@code node/TYPE/name}. The node has no
 * {@code /}; the name may, so parsing splits on the first two slashes only. Immutable value.
 */
public record ConfigKey(String node, ConfigType type, String name) {

  public ConfigKey {
    Objects.requireNonNull(node, "node");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(name, "name");
  }

  /** Parses {@code node/TYPE/name}; the message quotes the key and the expected shape. */
  public static ConfigKey parse(String key) {
    String[] parts = key.split("/", 3);
    if (parts.length != 3 || parts[0].isEmpty() || parts[2].isEmpty()) {
      throw new IllegalArgumentException("config key: \"" + key + "\" (expected: node/TYPE/name)");
    }
    ConfigType type;
    try {
      type = ConfigType.valueOf(parts[1]);
    } catch (IllegalArgumentException e) {
      type = ConfigType.UNKNOWN;
    }
    if (type == ConfigType.UNKNOWN) {
      throw new IllegalArgumentException("config key: \"" + key + "\": type \"" + parts[1]
          + "\" (expected: LISTENER, ROUTE, CLUSTER, AUTHORIZATION, PEER_AUTHENTICATION or RATE_LIMIT)");
    }
    return new ConfigKey(parts[0], type, parts[2]);
  }

  /** {@code node/TYPE/name}. */
  public String asString() {
    return node + "/" + type.name() + "/" + name;
  }

  @Override
  public String toString() {
    return asString();
  }
}
