package dev.lattice.policy.model;

import java.util.Map;
import java.util.Optional;

/**
 * Kubernetes-style metadata of a resource. {@code resourceVersion}, {@code creationTimestamp} (RFC 3339)
 * and {@code uid} are assigned by Lattice; a client sends {@code resourceVersion} back to get optimistic
 * concurrency. Immutable value; maps are copied.
 */
public record ObjectMeta(
    String name,
    String namespace,
    Map<String, String> labels,
    Map<String, String> annotations,
    String resourceVersion,
    String creationTimestamp,
    String uid) {

  /** Namespace used when a resource names none (as kubectl). */
  public static final String DEFAULT_NAMESPACE = "default";

  /** The annotation that makes an AuthorizationPolicy evaluate without enforcing. */
  public static final String DRY_RUN_ANNOTATION = "lattice.dev/dry-run";

  public ObjectMeta {
    labels = ModelCollections.map(labels);
    annotations = ModelCollections.map(annotations);
  }

  /** Metadata with just a name and namespace. */
  public static ObjectMeta of(String namespace, String name) {
    return new ObjectMeta(name, namespace, Map.of(), Map.of(), null, null, null);
  }

  /** The namespace, or {@value #DEFAULT_NAMESPACE} when unset. */
  public String namespaceOrDefault() {
    return namespace == null || namespace.isEmpty() ? DEFAULT_NAMESPACE : namespace;
  }

  /** Whether {@code lattice.dev/dry-run: "true"} is set. */
  public boolean dryRun() {
    return "true".equalsIgnoreCase(annotations.getOrDefault(DRY_RUN_ANNOTATION, ""));
  }

  /** {@code resourceVersion} as a number, when set and numeric. */
  public Optional<Long> resourceVersionNumber() {
    if (resourceVersion == null || resourceVersion.isBlank()) return Optional.empty();
    try {
      return Optional.of(Long.parseLong(resourceVersion.trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  public ObjectMeta withNamespace(String ns) {
    return new ObjectMeta(name, ns, labels, annotations, resourceVersion, creationTimestamp, uid);
  }

  /** A copy carrying the server-assigned fields. */
  public ObjectMeta withServerFields(String newResourceVersion, String newCreationTimestamp, String newUid) {
    return new ObjectMeta(name, namespace, labels, annotations, newResourceVersion, newCreationTimestamp, newUid);
  }
}
