package dev.lattice.dataplane.filter.cors;

import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import java.util.Map;

/** The CORS policies of one listener's routes, by route name. Immutable. */
final class CorsFilterConfig implements HttpFilterConfig {
  private final Map<String, RouteCors> byRoute;

  CorsFilterConfig(Map<String, RouteCors> byRoute) {
    this.byRoute = Map.copyOf(byRoute);
  }

  RouteCors forRoute(String route) {
    return route == null ? null : byRoute.get(route);
  }

  @Override
  public HttpFilter newFilter() {
    return new CorsFilter(this);
  }
}
