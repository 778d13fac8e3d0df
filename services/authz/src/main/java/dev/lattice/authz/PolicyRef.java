package dev.lattice.authz;

import java.util.Objects;

/** Names an AuthorizationPolicy: {@code namespace/name}. Immutable value. */
public record PolicyRef(String namespace, String name) {

  public PolicyRef {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(name, "name");
  }

  /** Parses {@code namespace/name}. */
  public static PolicyRef parse(String text) {
    int slash = text.indexOf('/');
    if (slash <= 0 || slash == text.length() - 1 || text.indexOf('/', slash + 1) >= 0) {
      throw new IllegalArgumentException("policy \"" + text + "\" (expected: namespace/name)");
    }
    return new PolicyRef(text.substring(0, slash), text.substring(slash + 1));
  }

  @Override
  public String toString() {
    return namespace + "/" + name;
  }
}
