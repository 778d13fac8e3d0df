package dev.lattice.dataplane.config;

import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RouteConfig;
import java.util.ArrayList;
import java.util.List;

/**
 * The proxy's view of a snapshot the config client received from the distributor: the typed payloads of
 * its listeners, routes, clusters, authorization and peer-authentication resources as a {@link ProxyConfig}
 * (references checked again by {@link ProxyConfig#of}). Types the proxy does not serve yet (RATE_LIMIT) are
 * left out. Stateless.
 */
public final class StreamedConfig {
  private StreamedConfig() {}

  /**
   * {@code snapshot} as a proxy config, versioned {@code stream-<revision>}; a payload of the wrong record type
   * is a {@link ConfigFileException} naming the resource (the NACK message).
   */
  public static ProxyConfig of(ConfigSnapshot snapshot, ProxySettings settings) {
    return ProxyConfig.of("stream-" + snapshot.revision(), settings,
        payloads(snapshot, ConfigType.LISTENER, ListenerConfig.class),
        payloads(snapshot, ConfigType.ROUTE, RouteConfig.class),
        payloads(snapshot, ConfigType.CLUSTER, ClusterConfig.class),
        payloads(snapshot, ConfigType.AUTHORIZATION, AuthorizationConfig.class),
        payloads(snapshot, ConfigType.PEER_AUTHENTICATION, PeerAuthenticationConfig.class));
  }

  private static <T> List<T> payloads(ConfigSnapshot snapshot, ConfigType type, Class<T> kind) {
    List<T> out = new ArrayList<>();
    for (ConfigResource r : snapshot.resources(type).values()) {
      Object payload = r.getPayload();
      if (!kind.isInstance(payload)) {
        throw new ConfigFileException(type + " " + r.getName() + ": payload is "
            + (payload == null ? "null" : payload.getClass().getSimpleName()) + " (expected: " + kind.getSimpleName() + ")");
      }
      out.add(kind.cast(payload));
    }
    return out;
  }
}
