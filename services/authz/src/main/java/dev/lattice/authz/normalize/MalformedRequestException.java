package dev.lattice.authz.normalize;

/**
 * A request that is malformed or cannot be normalized safely; the proxy answers 400 and records
 * {@code rejected_before_authz}. The message says what was seen and what was expected (never the full
 * path of a hostile request beyond a short, escaped excerpt).
 */
public final class MalformedRequestException extends Exception {
  public MalformedRequestException(String message) {
    super(message, null, false, false);
  }
}
