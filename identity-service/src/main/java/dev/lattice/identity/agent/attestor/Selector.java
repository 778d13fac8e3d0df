package dev.lattice.identity.agent.attestor;

import java.util.Locale;
import java.util.Objects;

/**
 * One property of a workload, as registration entries name it: {@code unix:uid:1000} is type
 * {@code unix}, value {@code uid:1000}; {@code k8s:ns:default} is type {@code k8s}, value
 * {@code ns:default}.
 *
 * <p>Immutable; safe to share.
 */
public record Selector(String type, String value) {

  public Selector {
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(value, "value");
    if (type.isBlank() || type.contains(":")) {
      throw new IllegalArgumentException(
          "selector type: '" + type + "' (expected: a non-empty word without ':', e.g. unix, k8s)");
    }
    if (value.isBlank()) {
      throw new IllegalArgumentException("selector value for type '" + type + "' is empty");
    }
    type = type.toLowerCase(Locale.ROOT);
  }

  /** Parses {@code type:value} (the value may itself contain ':'). */
  public static Selector parse(String text) {
    int colon = text == null ? -1 : text.indexOf(':');
    if (colon <= 0 || colon == text.length() - 1) {
      throw new IllegalArgumentException(
          "selector: '" + text + "' (expected: type:value, e.g. unix:uid:1000)");
    }
    return new Selector(text.substring(0, colon), text.substring(colon + 1));
  }

  /** {@code unix:uid:<uid>}. */
  public static Selector unixUid(int uid) {
    return new Selector("unix", "uid:" + uid);
  }

  /** {@code unix:gid:<gid>}. */
  public static Selector unixGid(int gid) {
    return new Selector("unix", "gid:" + gid);
  }

  @Override
  public String toString() {
    return type + ":" + value;
  }
}
