package dev.lattice.policy.model;

/**
 * A Lattice policy resource ({@code apiVersion: lattice.dev/v1alpha1}): metadata plus a typed spec.
 * Implementations are immutable records; thread-safe.
 */
public sealed interface Resource
    permits TrafficRoute, DestinationPolicy, PeerAuthentication, AuthorizationPolicy, RateLimitPolicy {

  /** The only API version this model accepts. */
  String API_VERSION = "lattice.dev/v1alpha1";

  ResourceKind kind();

  ObjectMeta metadata();

  /** The typed spec record of this kind. */
  Record spec();

  /** Same resource with other metadata. */
  Resource withMetadata(ObjectMeta metadata);

  /** {@code kind/namespace/name}; the namespace defaults to {@code default}. */
  default ResourceKey key() {
    return new ResourceKey(kind(), metadata().namespaceOrDefault(), metadata().name() == null ? "" : metadata().name());
  }
}
