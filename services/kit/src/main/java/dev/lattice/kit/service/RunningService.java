package dev.lattice.kit.service;

import java.net.URI;

/**
 * A service the {@link ServiceLauncher} has started: its name and the address its HTTP endpoint
 * actually bound (the real port when {@code <name>.http.port} was 0).
 *
 * @param name the service's {@link LatticeService#name()}
 * @param host the bound host
 * @param port the bound port
 * @param readiness the service's readiness checks (the same object {@code /readyz} evaluates)
 */
public record RunningService(String name, String host, int port, Readiness readiness) {

  /** Base URL of the service's HTTP endpoint, e.g. {@code http://127.0.0.1:7080}. */
  public URI baseUrl() {
    String h = host.contains(":") ? "[" + host + "]" : host;
    return URI.create("http://" + h + ":" + port);
  }

  /** URL of a path on the service's HTTP endpoint, e.g. {@code url("/readyz")}. */
  public URI url(String path) {
    return baseUrl().resolve(path);
  }
}
