package dev.lattice.telemetry.query;

/**
 * A query cannot be answered right now: stores are migrating (rebalance, restore) or an instance holding
 * part of the answer did not reply. Clients retry (the API answers 503 with {@code Retry-After}).
 */
public final class QueryUnavailableException extends RuntimeException {

  public QueryUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
