package dev.lattice.identity.agent.authority;

/**
 * What a node presents to attest: a one-time join token or a Kubernetes projected service-account
 * token. {@link #toString()} never shows the secret.
 */
public record NodeAttestationMaterial(Kind kind, String secret) {

  /** The attestation method. */
  public enum Kind { JOIN_TOKEN, K8S_PSAT }

  public NodeAttestationMaterial {
    if (secret == null || secret.isBlank()) {
      throw new IllegalArgumentException(kind + " is empty");
    }
    secret = secret.strip();
  }

  @Override
  public String toString() {
    return "NodeAttestationMaterial[" + kind + ", " + secret.length() + " chars]";
  }
}
