package dev.lattice.kit.service;

import dev.lattice.kit.config.ConfigKeys;
import io.vertx.core.Future;

/**
 * One Lattice service (identity, policy, …) as the launcher runs it, standalone or inside the local
 * stack.
 *
 * <p>The launcher owns the HTTP server on {@link #defaultHttpPort()} (overridable with
 * {@code <name>.http.port}) and mounts {@code /healthz}, {@code /readyz} and {@code /metrics} on it; the
 * service adds its own routes to {@link ServiceContext#router()} in {@link #start}. A service reports
 * readiness through {@link ServiceContext#readiness()}: it is ready only when every check it registered
 * passes (Kafka clients connected, state caught up).
 *
 * <p>Implementations are created once per run; {@code start} and {@code stop} are called on a Vert.x
 * context and must not block it.
 */
public interface LatticeService {

  /** Short lower-case name, also the config prefix: {@code identity}, {@code policy}. */
  String name();

  /** The fixed local port of this service's HTTP endpoint (listed in README). */
  int defaultHttpPort();

  /** Starts the service; the future completes once it is serving (it may not be ready yet). */
  Future<Void> start(ServiceContext context);

  /** Stops the service and releases its clients; the future completes when everything is closed. */
  Future<Void> stop();

  /**
   * The configuration keys this service reads, besides the kit's own ({@link ConfigKeys#kit}): a key
   * given to the local stack ({@code --set}, the YAML file) that no service knows is refused with the
   * nearest known key. The default accepts everything under {@code <name>.} — a service should list its
   * keys instead.
   */
  default ConfigKeys configKeys() {
    return ConfigKeys.none().withPrefix(name() + ".");
  }
}
