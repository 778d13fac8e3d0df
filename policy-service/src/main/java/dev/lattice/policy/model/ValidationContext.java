package dev.lattice.policy.model;

import java.util.Objects;

/**
 * What a validation run may consult beyond the resource itself. Immutable value.
 *
 * @param registry for semantic warnings (unknown host, empty namespace, unmatched subset)
 * @param resources for cross-resource errors (unknown subset of a host whose DestinationPolicy is known)
 */
public record ValidationContext(RegistryView registry, ResourceView resources) {

  public ValidationContext {
    Objects.requireNonNull(registry, "registry");
    Objects.requireNonNull(resources, "resources");
  }

  /** No registry, no other resources: only the resource's own rules are checked. */
  public static ValidationContext standalone() {
    return new ValidationContext(RegistryView.UNAVAILABLE, ResourceView.EMPTY);
  }
}
