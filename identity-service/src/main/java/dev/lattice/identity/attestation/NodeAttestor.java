package dev.lattice.identity.attestation;

import dev.lattice.identity.spiffe.SpiffeIds;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

/**
 * Decides which node a piece of attestation material proves: a one-time join token
 * ({@link JoinTokenStore}, burned here) or a Kubernetes projected service-account token
 * ({@link KubernetesTokenAttestor}, absent when not configured). Thread-safe; blocking (disk, API server).
 */
public final class NodeAttestor {

  /** Who attested and how. */
  public record AttestedNode(SpiffeId spiffeId, String method) {}

  private final TrustDomain trustDomain;
  private final JoinTokenStore joinTokens;
  private final KubernetesTokenAttestor kubernetes;

  /** @param kubernetes may be null when Kubernetes attestation is not configured */
  public NodeAttestor(TrustDomain trustDomain, JoinTokenStore joinTokens, KubernetesTokenAttestor kubernetes) {
    this.trustDomain = trustDomain;
    this.joinTokens = joinTokens;
    this.kubernetes = kubernetes;
  }

  public AttestedNode byJoinToken(String token) {
    return new AttestedNode(SpiffeIds.node(trustDomain, joinTokens.burn(token)), "join_token");
  }

  public AttestedNode byKubernetesToken(String token) {
    if (kubernetes == null) {
      throw new AttestationException("k8s psat: Kubernetes attestation is not configured on this server"
          + " (expected: identity.attestation.k8s.enabled=true)");
    }
    return new AttestedNode(SpiffeIds.node(trustDomain, kubernetes.attest(token)), "k8s_psat");
  }

  public JoinTokenStore joinTokens() {
    return joinTokens;
  }
}
