package dev.lattice.identity.spiffe;

/**
 * A SPIFFE ID or trust domain name that breaks a rule of the SPIFFE-ID standard; the message names
 * the input, the rule broken and the section of the standard. Immutable.
 */
public final class InvalidSpiffeIdException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public InvalidSpiffeIdException(String message) {
    super(message);
  }
}
