package dev.lattice.dataplane.filter.trace;

import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;

/** Trace propagation needs no per-listener settings: one shared, stateless filter. Immutable. */
final class TraceFilterConfig implements HttpFilterConfig {
  static final TraceFilterConfig INSTANCE = new TraceFilterConfig();

  private TraceFilterConfig() {}

  @Override
  public HttpFilter newFilter() {
    return TraceFilter.INSTANCE;
  }
}
