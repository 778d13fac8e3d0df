package dev.lattice.dataplane.proxy;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.dataplane.route.UpstreamCluster;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;

/**
 * What a TCP listener ({@code tcpClusters}, no route table: Envoy's {@code tcp_proxy}) does with a connection: the
 * weighted clusters it goes to and, on an inbound listener naming an {@code authorization} config, the engine that
 * decides on the connection's L4 attributes (peer SPIFFE ID, addresses, port). Built once per snapshot; immutable.
 *
 * @param authz null when the listener names no authorization (or is outbound)
 */
record TcpRoute(List<UpstreamCluster> clusters, int[] cumulative, AuthorizationEngine authz) {

  /** A cluster by weight (the first when all weights are 0), or null when there is none. */
  UpstreamCluster pick() {
    if (clusters.isEmpty()) {
      return null;
    }
    int total = cumulative[cumulative.length - 1];
    if (total <= 0) {
      return clusters.get(0);
    }
    int r = ThreadLocalRandom.current().nextInt(total);
    for (int i = 0; i < cumulative.length; i++) {
      if (r < cumulative[i]) {
        return clusters.get(i);
      }
    }
    return clusters.get(clusters.size() - 1);
  }
}
