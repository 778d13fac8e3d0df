package dev.lattice.policy.model;

/**
 * A service, optional subset and port traffic is sent to, as Istio's {@code Destination}.
 * {@code host} is a registry service name ({@code reviews}, {@code reviews.default} or
 * {@code reviews.default.svc.cluster.local}); see {@link ServiceHost}. Immutable value.
 */
public record Destination(String host, String subset, PortSelector port) {

  /** A port number, as Istio's {@code PortSelector} ({@code port: {number: 9080}}). */
  public record PortSelector(Integer number) {}

  public static Destination of(String host) {
    return new Destination(host, null, null);
  }

  public static Destination of(String host, String subset) {
    return new Destination(host, subset, null);
  }

  /** The port number, or {@code null}. */
  public Integer portNumber() {
    return port == null ? null : port.number();
  }
}
