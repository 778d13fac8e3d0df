package dev.lattice.policy.engine;

/** Names an AuthorizationPolicy: {@code namespace/name}. Immutable value. */
public record PolicyRef(String namespace, String name) {
  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
