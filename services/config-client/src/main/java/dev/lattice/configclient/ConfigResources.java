package dev.lattice.configclient;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import java.util.Optional;

/**
 * Checks one compiled resource on its own, before any reference check: a known type, a name, a version,
 * and a payload whose branch matches the type. Stateless.
 */
public final class ConfigResources {

  private ConfigResources() {}

  /** The payload class each type carries. */
  public static Class<?> payloadClassOf(ConfigType type) {
    return switch (type) {
      case LISTENER -> ListenerConfig.class;
      case ROUTE -> RouteConfig.class;
      case CLUSTER -> ClusterConfig.class;
      case AUTHORIZATION -> AuthorizationConfig.class;
      case PEER_AUTHENTICATION -> PeerAuthenticationConfig.class;
      case RATE_LIMIT -> RateLimitConfig.class;
      case UNKNOWN -> Void.class;
    };
  }

  /** Why {@code resource} is unusable, or empty when it is well formed. */
  public static Optional<String> problem(ConfigResource resource) {
    ConfigType type = resource.getType();
    String what = type + " " + resource.getName();
    if (type == null || type == ConfigType.UNKNOWN) {
      return Optional.of("resource " + resource.getName() + ": type UNKNOWN (expected: one of "
          + ConfigTypeUrls.TYPES + "; written by a newer compiler?)");
    }
    if (resource.getName() == null || resource.getName().isEmpty()) {
      return Optional.of(type + " resource without a name");
    }
    if (resource.getVersion() == null || resource.getVersion().isEmpty()) {
      return Optional.of(what + ": empty version (expected: hex SHA-256 of the payload)");
    }
    Object payload = resource.getPayload();
    Class<?> expected = payloadClassOf(type);
    if (payload == null || !expected.isInstance(payload)) {
      return Optional.of(what + ": payload " + (payload == null ? "null" : payload.getClass().getSimpleName())
          + " (expected: " + expected.getSimpleName() + ")");
    }
    return Optional.empty();
  }
}
