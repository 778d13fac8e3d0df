package dev.lattice.dataplane.filter.authz;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.TrafficDirection;
import java.util.Optional;

/** Puts the authorization filter on every inbound listener that names an {@code authorization} config. */
public final class AuthorizationFilterFactory implements HttpFilterFactory {
  @Override
  public String name() {
    return "authorization";
  }

  @Override
  public int order() {
    return 200;
  }

  @Override
  public Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener) {
    if (listener.getDirection() != TrafficDirection.INBOUND || listener.getAuthorization() == null) {
      return Optional.empty();
    }
    return Optional.of(new AuthorizationFilterConfig(AuthorizationEngine.of(snapshot.authorizations().get(listener.getAuthorization())),
        snapshot.settings().debugHeaders()));
  }
}
