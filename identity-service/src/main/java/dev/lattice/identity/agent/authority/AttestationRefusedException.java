package dev.lattice.identity.agent.authority;

/**
 * The identity server refused the node's attestation material (a join token already used, unknown or
 * expired; a service-account token it does not accept): asking again with the same material cannot
 * succeed. Distinct from a server that is away, which is worth retrying as is.
 */
public final class AttestationRefusedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public AttestationRefusedException(String serverMessage, Throwable cause) {
    super(serverMessage, cause);
  }
}
