package dev.lattice.dataplane.filter;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.events.config.ListenerConfig;
import java.util.Optional;

/**
 * Where a filter plugs in: found through {@link java.util.ServiceLoader} (a line in
 * {@code META-INF/services/dev.lattice.dataplane.filter.HttpFilterFactory}), so adding a filter never
 * edits the proxy core. For each listener of each snapshot the proxy asks every factory, orders the
 * configs by {@link #order()} (lower first) and runs them as the listener's chain.
 */
public interface HttpFilterFactory {

  /** Short name for logs and config dumps, e.g. {@code authorization}. */
  String name();

  /** Position in the chain, lower first: authentication ~100, authorization 200, rate limit 300, routing-level 500+. */
  int order();

  /** This filter's config for {@code listener}, or empty when the filter does not apply there. */
  Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener);
}
