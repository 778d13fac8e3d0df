package dev.lattice.dataplane.filter.fault;

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
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * Puts the fault filter on every HTTP listener whose route table has a route with {@code fault}
 * (Istio applies VirtualService faults at the calling side, so usually outbound). Order 450: after
 * authorization, rate limiting and CORS, right before routing, as in Envoy's chain.
 */
public final class FaultFilterFactory implements HttpFilterFactory {
  private final DoubleSupplier dice;

  /** Dice from {@link ThreadLocalRandom}. */
  public FaultFilterFactory() {
    this(() -> ThreadLocalRandom.current().nextDouble(100));
  }

  /** {@code dice} returns uniform values in [0, 100) and must be thread-safe (tests pass a seeded one). */
  public FaultFilterFactory(DoubleSupplier dice) {
    this.dice = dice;
  }

  @Override
  public String name() {
    return "fault";
  }

  @Override
  public int order() {
    return 450;
  }

  @Override
  public Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener) {
    RouteConfig rc = listener.getRouteConfig() == null ? null : snapshot.routes().get(listener.getRouteConfig());
    if (rc == null) {
      return Optional.empty();
    }
    Map<String, RouteFault> faults = new HashMap<>();
    for (VirtualHost vh : rc.getVirtualHosts()) {
      for (RouteRule rule : vh.getRoutes()) {
        if (rule.getFault() != null && (rule.getFault().getDelay() != null || rule.getFault().getAbort() != null)) {
          faults.putIfAbsent(rule.getName(), RouteFault.of(rule.getName(), rule.getFault()));
        }
      }
    }
    return faults.isEmpty() ? Optional.empty() : Optional.of(new FaultFilterConfig(faults, dice));
  }
}
