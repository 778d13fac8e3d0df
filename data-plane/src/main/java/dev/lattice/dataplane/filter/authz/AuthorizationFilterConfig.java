package dev.lattice.dataplane.filter.authz;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.HttpFilterConfig;

/**
 * The compiled authorization of one listener of one snapshot (a lattice-authz engine, built once).
 * Immutable and thread-safe; its filter is stateless, so every request shares one instance.
 */
public final class AuthorizationFilterConfig implements HttpFilterConfig {
  private final AuthorizationFilter filter;

  public AuthorizationFilterConfig(AuthorizationEngine engine, boolean debugHeaders) {
    this.filter = new AuthorizationFilter(engine, debugHeaders);
  }

  @Override
  public HttpFilter newFilter() {
    return filter;
  }
}
