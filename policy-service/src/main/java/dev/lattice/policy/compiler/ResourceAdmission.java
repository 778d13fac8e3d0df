package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import java.util.Optional;

/**
 * Decides whether a resource read from {@code lattice.resources.v1} may be compiled. Resources normally
 * arrive validated through the REST API or the Kubernetes source, but anyone with write access can
 * publish to the topic directly, so the compiler checks again with the same validator.
 *
 * <p>Implementations are pure and thread-safe.
 */
@FunctionalInterface
public interface ResourceAdmission {

  /** Admits everything (for tests of the compiler alone). */
  ResourceAdmission ACCEPT_ALL = e -> Optional.empty();

  /** Empty if {@code event} may be compiled, else the reason it may not (field path and message). */
  Optional<String> reject(ResourceEvent event);
}
