package dev.lattice.policy.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A Kubernetes-style equality label selector: comma-separated requirements, all of which must hold —
 * {@code app=web}, {@code app==web}, {@code tier!=db}, {@code canary} (key present), {@code !canary}
 * (key absent). Immutable and thread-safe.
 */
public final class LabelSelector {
  private record Requirement(String key, String value, boolean negate) {
    boolean matches(Map<String, String> labels) {
      if (value == null) return labels.containsKey(key) != negate;
      return value.equals(labels.get(key)) != negate;
    }
  }

  private final List<Requirement> requirements;

  private LabelSelector(List<Requirement> requirements) {
    this.requirements = List.copyOf(requirements);
  }

  /** Selects everything. */
  public static LabelSelector all() {
    return new LabelSelector(List.of());
  }

  /**
   * Parses {@code text}; blank selects everything.
   *
   * @throws IllegalArgumentException naming the bad requirement and the accepted forms
   */
  public static LabelSelector parse(String text) {
    if (text == null || text.isBlank()) return all();
    List<Requirement> out = new ArrayList<>();
    for (String raw : text.split(",", -1)) {
      String r = raw.trim();
      int ne = r.indexOf("!=");
      int eq = r.indexOf('=');
      Requirement req;
      if (ne > 0) {
        req = new Requirement(r.substring(0, ne).trim(), r.substring(ne + 2).trim(), true);
      } else if (eq > 0) {
        String value = r.substring(r.startsWith("==", eq) ? eq + 2 : eq + 1).trim();
        req = new Requirement(r.substring(0, eq).trim(), value, false);
      } else if (r.startsWith("!") && r.length() > 1) {
        req = new Requirement(r.substring(1).trim(), null, true);
      } else if (!r.isEmpty() && eq < 0) {
        req = new Requirement(r, null, false);
      } else {
        throw new IllegalArgumentException("labelSelector: \"" + r + "\" (expected: key=value, key!=value, key or !key, comma-separated)");
      }
      if (req.key().isEmpty() || req.key().contains("=") || req.key().contains("!")) {
        throw new IllegalArgumentException("labelSelector: \"" + r + "\" (expected: key=value, key!=value, key or !key, comma-separated)");
      }
      out.add(req);
    }
    return new LabelSelector(out);
  }

  public boolean matches(Map<String, String> labels) {
    for (Requirement r : requirements) {
      if (!r.matches(labels)) return false;
    }
    return true;
  }
}
