package dev.lattice.policy.model;

import java.util.Collection;
import java.util.Optional;

/**
 * What validation may ask about other resources (currently: the DestinationPolicy of a host, to check
 * subset references). Implemented by the policy service's resource state. Thread-safe, in-memory.
 */
public interface ResourceView {

  /** Knows no resources: subset references are not checked. */
  ResourceView EMPTY = host -> Optional.empty();

  /** The DestinationPolicy for canonical host {@code reviews.default}, if one exists. */
  Optional<DestinationPolicy> destinationPolicyFor(String canonicalHost);

  /** A view over a fixed set of resources (e.g. a multi-document file validated as a whole). */
  static ResourceView of(Collection<? extends Resource> resources) {
    return host -> resources.stream()
        .filter(r -> r instanceof DestinationPolicy)
        .map(r -> (DestinationPolicy) r)
        .filter(dp -> dp.spec().host() != null
            && ServiceHost.canonical(dp.spec().host(), dp.metadata().namespaceOrDefault()).equals(host))
        .findFirst();
  }

  /** This view, falling back to {@code other} for hosts this one does not know. */
  default ResourceView orElse(ResourceView other) {
    return host -> {
      Optional<DestinationPolicy> mine = destinationPolicyFor(host);
      return mine.isPresent() ? mine : other.destinationPolicyFor(host);
    };
  }
}
