package dev.lattice.configclient;

import dev.lattice.events.config.ConfigType;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The {@code type_url} of each config type on the delta stream: {@code "lattice.dev/config/v1/" + the
 * ConfigType symbol} (config_stream.proto). Stateless.
 */
public final class ConfigTypeUrls {

  /** Prefix of every config type URL. */
  public static final String PREFIX = "lattice.dev/config/v1/";

  /** Every real type (not UNKNOWN), in make-before-break order: what others reference comes first. */
  public static final List<ConfigType> TYPES = List.of(ConfigType.CLUSTER, ConfigType.AUTHORIZATION,
      ConfigType.PEER_AUTHENTICATION, ConfigType.RATE_LIMIT, ConfigType.ROUTE, ConfigType.LISTENER);

  private ConfigTypeUrls() {}

  /** {@code lattice.dev/config/v1/CLUSTER} for {@code CLUSTER}. */
  public static String of(ConfigType type) {
    if (type == ConfigType.UNKNOWN) {
      throw new IllegalArgumentException("type: UNKNOWN (expected: one of " + TYPES + ")");
    }
    return PREFIX + type.name();
  }

  /** The type named by {@code typeUrl}, empty when it names none (or UNKNOWN). */
  public static Optional<ConfigType> parse(String typeUrl) {
    if (typeUrl == null || !typeUrl.startsWith(PREFIX)) {
      return Optional.empty();
    }
    String symbol = typeUrl.substring(PREFIX.length());
    return Stream.of(ConfigType.values()).filter(t -> t != ConfigType.UNKNOWN && t.name().equals(symbol)).findFirst();
  }
}
