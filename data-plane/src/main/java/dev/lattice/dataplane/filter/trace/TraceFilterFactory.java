package dev.lattice.dataplane.filter.trace;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.events.config.ListenerConfig;
import java.util.Optional;

/** Puts {@link TraceFilter} first on every HTTP listener, inbound and outbound. */
public final class TraceFilterFactory implements HttpFilterFactory {
  private static final Optional<HttpFilterConfig> CONFIG = Optional.of(TraceFilterConfig.INSTANCE);

  @Override
  public String name() {
    return "trace";
  }

  @Override
  public int order() {
    return 10;
  }

  @Override
  public Optional<HttpFilterConfig> configure(ProxyConfig snapshot, ListenerConfig listener) {
    return CONFIG;
  }
}
