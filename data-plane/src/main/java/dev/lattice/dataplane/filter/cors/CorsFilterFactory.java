package dev.lattice.dataplane.filter.cors;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Puts the CORS filter on every HTTP listener whose route table has a route with {@code corsPolicy}.
 * Order 400: after rate limiting (a preflight spends a token, as in Envoy's usual chain), before faults.
 */
public final class CorsFilterFactory implements HttpFilterFactory {
  @Override
  public String name() {
    return "cors";
  }

  @Override
  public int order() {
    return 400;
  }

  @Override
  public Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener) {
    RouteConfig rc = listener.getRouteConfig() == null ? null : snapshot.routes().get(listener.getRouteConfig());
    if (rc == null) {
      return Optional.empty();
    }
    Map<String, RouteCors> policies = new HashMap<>();
    for (VirtualHost vh : rc.getVirtualHosts()) {
      for (RouteRule rule : vh.getRoutes()) {
        if (rule.getCorsPolicy() != null) {
          policies.putIfAbsent(rule.getName(), RouteCors.of(rule.getName(), rule.getCorsPolicy()));
        }
      }
    }
    return policies.isEmpty() ? Optional.empty() : Optional.of(new CorsFilterConfig(policies));
  }
}
