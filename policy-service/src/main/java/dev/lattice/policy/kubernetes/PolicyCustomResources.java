package dev.lattice.policy.kubernetes;

import dev.lattice.policy.model.ResourceKind;
import io.fabric8.kubernetes.client.dsl.base.ResourceDefinitionContext;

/**
 * The Kubernetes custom resource definitions of the five policy kinds: group {@value #GROUP}, version
 * {@value #VERSION}, namespaced, with a status subresource (CRD YAMLs in {@code k8s/crds/}). Stateless.
 */
public final class PolicyCustomResources {

  public static final String GROUP = "lattice.dev";
  public static final String VERSION = "v1alpha1";

  private PolicyCustomResources() {}

  /** The fabric8 context addressing {@code kind}'s custom resources. */
  public static ResourceDefinitionContext context(ResourceKind kind) {
    return new ResourceDefinitionContext.Builder()
        .withGroup(GROUP)
        .withVersion(VERSION)
        .withKind(kind.kindName())
        .withPlural(kind.plural())
        .withNamespaced(true)
        .build();
  }
}
