package dev.lattice.dataplane.filter;

import dev.lattice.authz.Decision;

/**
 * Well-known per-request state shared between the core, filters and telemetry. A filter's private
 * state uses its own {@link StateKey}; these are the ones several parties read.
 */
public final class ExchangeKeys {
  private ExchangeKeys() {}

  /**
   * The authorization decision of the request: set by the authorization filter, or by the core as
   * {@link Decision#rejectedBeforeAuthz} when the request was malformed (400) before any filter ran.
   */
  public static final StateKey<Decision> AUTHZ_DECISION = StateKey.of("authz.decision", Decision.class);
}
