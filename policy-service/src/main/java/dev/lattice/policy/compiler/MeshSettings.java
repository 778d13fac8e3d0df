package dev.lattice.policy.compiler;

import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.kit.config.LatticeConfig;
import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;

/**
 * The mesh-wide settings the compiler writes into every workload's config (Istio keeps them in
 * {@code meshConfig}). The compiler, explain and the dry-run preview read them from here, so they cannot
 * disagree.
 *
 * @param rootNamespace AuthorizationPolicies, RateLimitPolicies and PeerAuthentications there apply
 *     mesh-wide ({@code lattice-system} by default, as Istio's {@code istio-system})
 * @param pathNormalization how request paths are normalized before policies match them ({@code BASE} by
 *     default, as Istio's {@code meshConfig.pathNormalization})
 * @param trustedProxies proxies in front of the mesh's edge whose {@code X-Forwarded-For} entries are
 *     trusted: {@code remote.ip} is the address that many hops from the right (0: the peer address), as
 *     Istio's {@code gatewayTopology.numTrustedProxies}
 */
public record MeshSettings(String rootNamespace, PathNormalization pathNormalization, int trustedProxies) {

  /** The default mesh root namespace. */
  public static final String DEFAULT_ROOT_NAMESPACE = "lattice-system";
  /** Istio's defaults: root {@value #DEFAULT_ROOT_NAMESPACE}, BASE normalization, no trusted proxies. */
  public static final MeshSettings DEFAULTS = new MeshSettings(DEFAULT_ROOT_NAMESPACE, PathNormalization.DEFAULT, 0);
  /** More hops than any real deployment chains; a larger number is a typo. */
  static final int MAX_TRUSTED_PROXIES = 16;

  public MeshSettings {
    Objects.requireNonNull(rootNamespace, "rootNamespace");
    Objects.requireNonNull(pathNormalization, "pathNormalization");
    if (trustedProxies < 0 || trustedProxies > MAX_TRUSTED_PROXIES) {
      throw new IllegalArgumentException("policy.mesh.trusted-proxies: " + trustedProxies + " (expected: 0.." + MAX_TRUSTED_PROXIES + ")");
    }
  }

  /**
   * The settings configured for this service: {@code policy.root.namespace} (else
   * {@code policy.compiler.root.namespace}), {@code policy.mesh.path-normalization} and
   * {@code policy.mesh.trusted-proxies}.
   *
   * @throws IllegalArgumentException naming the key for a value that is not valid
   */
  public static MeshSettings from(LatticeConfig config) {
    String root = config.get("policy.root.namespace", config.get("policy.compiler.root.namespace", DEFAULT_ROOT_NAMESPACE));
    String normalization = config.get("policy.mesh.path-normalization", PathNormalization.DEFAULT.name());
    PathNormalization n;
    try {
      n = PathNormalization.valueOf(normalization.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("policy.mesh.path-normalization: \"" + normalization + "\" (expected one of: "
          + String.join(", ", Arrays.stream(PathNormalization.values()).map(Enum::name).toList()) + ")");
    }
    return new MeshSettings(root, n, config.getInt("policy.mesh.trusted-proxies", 0));
  }

  /** These settings with another root namespace. */
  public MeshSettings withRootNamespace(String root) {
    return new MeshSettings(root, pathNormalization, trustedProxies);
  }
}
