package dev.lattice.identity.attestation;

import dev.lattice.identity.spiffe.SpiffeIds;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.util.Optional;

/**
 * Decides which node a piece of attestation material proves: a one-time join token
 * ({@link JoinTokenStore}; claimed here, burned by {@link #complete} once the node's entry is written,
 * freed by {@link #abandon} when that failed) or a Kubernetes projected service-account token
 * ({@link KubernetesTokenAttestor}, absent when not configured). Thread-safe; blocking (disk, API server)
 * except {@link #abandon}.
 */
public final class NodeAttestor {

  /**
   * Who attested and how; {@code joinToken} is the claim on the token used, if any (burned by
   * {@link #complete}).
   */
  public record AttestedNode(SpiffeId spiffeId, String method, Optional<JoinTokenStore.Claim> joinToken) {
    public AttestedNode(SpiffeId spiffeId, String method) {
      this(spiffeId, method, Optional.empty());
    }
  }

  private final TrustDomain trustDomain;
  private final JoinTokenStore joinTokens;
  private final KubernetesTokenAttestor kubernetes;

  /** @param kubernetes may be null when Kubernetes attestation is not configured */
  public NodeAttestor(TrustDomain trustDomain, JoinTokenStore joinTokens, KubernetesTokenAttestor kubernetes) {
    this.trustDomain = trustDomain;
    this.joinTokens = joinTokens;
    this.kubernetes = kubernetes;
  }

  /** Claims (does not burn) {@code token}: call {@link #complete} or {@link #abandon} with the result. */
  public AttestedNode byJoinToken(String token) {
    JoinTokenStore.Claim claim = joinTokens.claim(token);
    return new AttestedNode(SpiffeIds.node(trustDomain, claim.nodeId()), "join_token", Optional.of(claim));
  }

  /** The attestation succeeded (the node is registered): burns its join token, if any. Disk I/O. */
  public void complete(AttestedNode node) {
    node.joinToken().ifPresent(joinTokens::burn);
  }

  /** The attestation failed after {@link #byJoinToken}: the token stays usable. Never blocks. */
  public void abandon(AttestedNode node) {
    node.joinToken().ifPresent(joinTokens::release);
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
