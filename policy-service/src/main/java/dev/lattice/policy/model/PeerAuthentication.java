package dev.lattice.policy.model;

import java.util.Map;

/**
 * Which inbound connections a workload accepts (mTLS mode), as Istio's {@code PeerAuthentication}:
 * mesh-wide in the root namespace, namespace-wide without a selector, per workload with one, per port
 * with {@code portLevelMtls} (keys are port numbers). Immutable value.
 */
public record PeerAuthentication(ObjectMeta metadata, Spec spec) implements Resource {

  @Override
  public ResourceKind kind() {
    return ResourceKind.PEER_AUTHENTICATION;
  }

  @Override
  public PeerAuthentication withMetadata(ObjectMeta m) {
    return new PeerAuthentication(m, spec);
  }

  /** The spec. */
  public record Spec(WorkloadSelector selector, MutualTls mtls, Map<String, MutualTls> portLevelMtls) {
    public Spec {
      portLevelMtls = ModelCollections.map(portLevelMtls);
    }
  }

  /** As Istio's {@code PeerAuthentication.MutualTLS}. */
  public record MutualTls(Mode mode) {}

  /** UNSET inherits from the parent scope. */
  public enum Mode { UNSET, DISABLE, PERMISSIVE, STRICT }
}
