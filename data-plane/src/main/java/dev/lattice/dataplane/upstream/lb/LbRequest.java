package dev.lattice.dataplane.upstream.lb;

import java.net.InetSocketAddress;

/**
 * What a load balancer may look at in a request (the consistent-hash keys) and the one thing it may
 * add to the response (a generated affinity cookie). Header names are lower case. Event-loop confined.
 */
public interface LbRequest {
  /** The first value of a request header, or null. */
  String header(String lowerCaseName);

  /** The raw query string after {@code ?}, or null. */
  String query();

  /** The downstream caller's address, or null. */
  InetSocketAddress sourceAddress();

  /** Adds a header to the response sent downstream (a {@code set-cookie} for a generated hash cookie). */
  default void addResponseHeader(String name, String value) {}
}
