package dev.lattice.dataplane.route;

import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cluster of one config snapshot with its endpoints resolved to socket addresses. Endpoint pick is
 * weighted round robin over the endpoints not marked UNHEALTHY or DRAINING. Thread-safe (one atomic
 * counter); immutable otherwise.
 */
public final class UpstreamCluster {
  private final String name;
  private final List<InetSocketAddress> endpoints;
  private final List<InetSocketAddress> all;
  private final AtomicInteger next = new AtomicInteger();

  public UpstreamCluster(ClusterConfig config) {
    this.name = config.getName();
    List<ClusterEndpoint> eps = config.getEndpoints();
    this.all = eps.stream().map(e -> new InetSocketAddress(e.getAddress(), e.getPort())).toList();
    // weight expands into repeated entries: the weights here are small integers (1..100)
    this.endpoints = eps.stream()
        .filter(e -> e.getHealth() != WorkloadHealth.UNHEALTHY && e.getHealth() != WorkloadHealth.DRAINING)
        .flatMap(e -> java.util.Collections.nCopies(Math.max(1, Math.min(e.getWeight(), 100)),
            new InetSocketAddress(e.getAddress(), e.getPort())).stream())
        .toList();
  }

  public String name() { return name; }

  /** Every endpoint, healthy or not (for /clusters). */
  public List<InetSocketAddress> endpoints() { return all; }

  /** The next endpoint to use, or null when none is healthy (the request fails with 503 UH). */
  public InetSocketAddress pick() {
    int n = endpoints.size();
    if (n == 0) {
      return null;
    }
    if (n == 1) {
      return endpoints.get(0);
    }
    return endpoints.get(Math.floorMod(next.getAndIncrement(), n));
  }
}
