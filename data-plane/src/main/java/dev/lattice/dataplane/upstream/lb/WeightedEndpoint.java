package dev.lattice.dataplane.upstream.lb;

import java.net.InetSocketAddress;

/** An endpoint a balancer may pick and its weight (1..100). */
public record WeightedEndpoint(InetSocketAddress address, int weight) {
  public WeightedEndpoint {
    weight = Math.max(1, Math.min(weight, 100));
  }
}
