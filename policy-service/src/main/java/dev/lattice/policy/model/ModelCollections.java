package dev.lattice.policy.model;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Null-tolerant defensive copies for the model's compact constructors (absent = empty). */
final class ModelCollections {
  private ModelCollections() {}

  static <T> List<T> list(List<T> in) {
    if (in == null || in.isEmpty()) return List.of();
    // List.copyOf rejects null elements; YAML "- " yields one, which validation reports.
    return Collections.unmodifiableList(new java.util.ArrayList<>(in));
  }

  /** Keeps insertion order (YAML order) so output and error messages follow the user's file. */
  static <K, V> Map<K, V> map(Map<K, V> in) {
    if (in == null || in.isEmpty()) return Map.of();
    return Collections.unmodifiableMap(new LinkedHashMap<>(in));
  }
}
