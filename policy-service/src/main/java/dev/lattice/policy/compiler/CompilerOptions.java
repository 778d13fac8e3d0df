package dev.lattice.policy.compiler;

import java.util.Objects;

/**
 * Settings of the compiler topology that are part of its function (not of its runtime).
 *
 * @param mesh the mesh-wide settings (root namespace, path normalization, trusted proxies)
 * @param admission the validator every resource passes before it is compiled
 */
public record CompilerOptions(MeshSettings mesh, ResourceAdmission admission) {

  /** The default mesh root namespace. */
  public static final String DEFAULT_ROOT_NAMESPACE = MeshSettings.DEFAULT_ROOT_NAMESPACE;

  public CompilerOptions {
    Objects.requireNonNull(mesh, "mesh");
    Objects.requireNonNull(admission, "admission");
  }

  /** The mesh root namespace. */
  public String rootNamespace() {
    return mesh.rootNamespace();
  }

  /**
   * The mesh root namespace configured for this service (see {@link MeshSettings#from}).
   */
  public static String rootNamespace(dev.lattice.kit.config.LatticeConfig config) {
    return MeshSettings.from(config).rootNamespace();
  }

  /** {@link MeshSettings#DEFAULTS} with the given admission. */
  public static CompilerOptions defaults(ResourceAdmission admission) {
    return new CompilerOptions(MeshSettings.DEFAULTS, admission);
  }
}
