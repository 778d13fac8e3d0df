package dev.lattice.policy.compiler;

import java.util.Objects;

/**
 * Settings of the compiler topology that are part of its function (not of its runtime).
 *
 * @param rootNamespace the mesh root namespace: AuthorizationPolicies, RateLimitPolicies and
 *     PeerAuthentications there apply mesh-wide ({@code lattice-system} by default, as Istio's
 *     {@code istio-system})
 * @param admission the validator every resource passes before it is compiled
 */
public record CompilerOptions(String rootNamespace, ResourceAdmission admission) {

  /** The default mesh root namespace. */
  public static final String DEFAULT_ROOT_NAMESPACE = "lattice-system";

  public CompilerOptions {
    Objects.requireNonNull(rootNamespace, "rootNamespace");
    Objects.requireNonNull(admission, "admission");
  }

  /**
   * The mesh root namespace configured for this service: {@code policy.root.namespace}, else
   * {@code policy.compiler.root.namespace}, else {@value #DEFAULT_ROOT_NAMESPACE}. The compiler, explain and
   * the dry-run preview all read it here, so they cannot disagree.
   */
  public static String rootNamespace(dev.lattice.kit.config.LatticeConfig config) {
    return config.get("policy.root.namespace", config.get("policy.compiler.root.namespace", DEFAULT_ROOT_NAMESPACE));
  }

  /** Root namespace {@value #DEFAULT_ROOT_NAMESPACE} with the given admission. */
  public static CompilerOptions defaults(ResourceAdmission admission) {
    return new CompilerOptions(DEFAULT_ROOT_NAMESPACE, admission);
  }
}
