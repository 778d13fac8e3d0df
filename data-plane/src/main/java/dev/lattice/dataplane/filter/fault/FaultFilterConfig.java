package dev.lattice.dataplane.filter.fault;

import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import java.util.Map;
import java.util.function.DoubleSupplier;

/**
 * The faults of one listener's routes, by route name, and where the dice come from (uniform in
 * [0, 100)). Immutable and thread-safe as long as the dice are.
 */
final class FaultFilterConfig implements HttpFilterConfig {
  private final Map<String, RouteFault> byRoute;
  private final DoubleSupplier dice;

  FaultFilterConfig(Map<String, RouteFault> byRoute, DoubleSupplier dice) {
    this.byRoute = Map.copyOf(byRoute);
    this.dice = dice;
  }

  RouteFault forRoute(String route) {
    return route == null ? null : byRoute.get(route);
  }

  double roll() {
    return dice.getAsDouble();
  }

  @Override
  public HttpFilter newFilter() {
    return new FaultFilter(this);
  }
}
