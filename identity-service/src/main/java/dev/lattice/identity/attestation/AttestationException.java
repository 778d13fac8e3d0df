package dev.lattice.identity.attestation;

/** A node attestation that was refused; the message says why (never the secret itself). */
public final class AttestationException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AttestationException(String message) {
    super(message);
  }

  public AttestationException(String message, Throwable cause) {
    super(message, cause);
  }
}
