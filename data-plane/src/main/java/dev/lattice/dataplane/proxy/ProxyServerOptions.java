package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.filter.HttpFilterFactory;
import dev.lattice.dataplane.identity.WorkloadIdentitySource;
import java.time.Clock;
import java.util.List;
import java.util.ServiceLoader;

/**
 * How a {@link ProxyServer} runs, apart from its config: the clock for wall-clock timestamps, the filter
 * factories (by default every {@link HttpFilterFactory} on the class path, through {@link ServiceLoader}),
 * the per-request completion hook, and where the node's SVIDs and trust bundles come from (needed by
 * inbound listeners whose PeerAuthentication is STRICT or PERMISSIVE; null: none). Immutable.
 */
public record ProxyServerOptions(Clock clock, List<HttpFilterFactory> filterFactories, ExchangeListener exchangeListener,
                                 WorkloadIdentitySource identitySource) {

  public ProxyServerOptions {
    filterFactories = List.copyOf(filterFactories);
  }

  /** System UTC clock, the class path's filters, no completion hook. */
  public static ProxyServerOptions defaults() {
    List<HttpFilterFactory> found = ServiceLoader.load(HttpFilterFactory.class).stream().map(ServiceLoader.Provider::get).toList();
    return new ProxyServerOptions(Clock.systemUTC(), found, ExchangeListener.NONE, null);
  }

  public ProxyServerOptions withClock(Clock c) {
    return new ProxyServerOptions(c, filterFactories, exchangeListener, identitySource);
  }

  public ProxyServerOptions withFilterFactories(List<HttpFilterFactory> f) {
    return new ProxyServerOptions(clock, f, exchangeListener, identitySource);
  }

  public ProxyServerOptions withExchangeListener(ExchangeListener l) {
    return new ProxyServerOptions(clock, filterFactories, l, identitySource);
  }

  /** The node's SVIDs and bundles (the caller closes the source after the server). */
  public ProxyServerOptions withIdentitySource(WorkloadIdentitySource s) {
    return new ProxyServerOptions(clock, filterFactories, exchangeListener, s);
  }
}
