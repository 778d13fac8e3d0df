package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.filter.HttpFilterFactory;
import java.time.Clock;
import java.util.List;
import java.util.ServiceLoader;

/**
 * How a {@link ProxyServer} runs, apart from its config: the clock for wall-clock timestamps, the filter
 * factories (by default every {@link HttpFilterFactory} on the class path, through {@link ServiceLoader}),
 * and the per-request completion hook. Immutable.
 */
public record ProxyServerOptions(Clock clock, List<HttpFilterFactory> filterFactories, ExchangeListener exchangeListener) {

  public ProxyServerOptions {
    filterFactories = List.copyOf(filterFactories);
  }

  /** System UTC clock, the class path's filters, no completion hook. */
  public static ProxyServerOptions defaults() {
    List<HttpFilterFactory> found = ServiceLoader.load(HttpFilterFactory.class).stream().map(ServiceLoader.Provider::get).toList();
    return new ProxyServerOptions(Clock.systemUTC(), found, ExchangeListener.NONE);
  }

  public ProxyServerOptions withClock(Clock c) {
    return new ProxyServerOptions(c, filterFactories, exchangeListener);
  }

  public ProxyServerOptions withFilterFactories(List<HttpFilterFactory> f) {
    return new ProxyServerOptions(clock, f, exchangeListener);
  }

  public ProxyServerOptions withExchangeListener(ExchangeListener l) {
    return new ProxyServerOptions(clock, filterFactories, l);
  }
}
