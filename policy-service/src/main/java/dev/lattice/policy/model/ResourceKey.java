package dev.lattice.policy.model;

import dev.lattice.events.ResourceEvent;
import java.util.Objects;

/**
 * Identity of a resource: kind, namespace and name. Its text form {@code Kind/namespace/name} is the key
 * of the resource's records on {@code lattice.resources.v1}. Immutable value.
 */
public record ResourceKey(ResourceKind kind, String namespace, String name) {

  public ResourceKey {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** The Kafka record key: {@code TrafficRoute/default/reviews}. */
  public String asString() {
    return format(kind.kindName(), namespace, name);
  }

  /** The record key of an event on {@code lattice.resources.v1} (its kind, namespace and name). */
  public static String of(ResourceEvent event) {
    return format(String.valueOf(event.getKind()), event.getNamespace(), event.getName());
  }

  /**
   * The one place the key's text is built, for callers that hold the parts but no validated key (an
   * informer's custom resource, an event): {@code Kind/namespace/name}.
   */
  public static String format(String kindName, String namespace, String name) {
    return kindName + "/" + namespace + "/" + name;
  }

  /**
   * Parses a key written by {@link #asString()}.
   *
   * @throws IllegalArgumentException naming what was seen and expected
   */
  public static ResourceKey parse(String key) {
    String[] parts = key == null ? new String[0] : key.split("/", -1);
    if (parts.length != 3 || parts[1].isEmpty() || parts[2].isEmpty()) {
      throw new IllegalArgumentException(
          "resource key: \"" + key + "\" (expected: Kind/namespace/name)");
    }
    ResourceKind kind = ResourceKind.fromKindName(parts[0]).orElseThrow(() -> new IllegalArgumentException(
        "resource key: kind \"" + parts[0] + "\" (expected one of: " + ResourceKind.names() + ")"));
    return new ResourceKey(kind, parts[1], parts[2]);
  }

  @Override
  public String toString() {
    return asString();
  }
}
