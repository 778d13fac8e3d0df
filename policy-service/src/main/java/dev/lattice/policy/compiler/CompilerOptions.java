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

  /** Root namespace {@value #DEFAULT_ROOT_NAMESPACE} with the given admission. */
  public static CompilerOptions defaults(ResourceAdmission admission) {
    return new CompilerOptions(DEFAULT_ROOT_NAMESPACE, admission);
  }
}
