package dev.lattice.policy.model;

import java.util.regex.Pattern;

/**
 * Builds field paths in the form used by every validation message: {@code spec.http[0].route[1].weight},
 * map keys as {@code .key} or {@code ["key with/odd chars"]}. Stateless.
 */
public final class FieldPath {
  private static final Pattern SIMPLE_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private FieldPath() {}

  public static String field(String parent, String name) {
    return parent.isEmpty() ? name : parent + "." + name;
  }

  public static String index(String parent, int i) {
    return parent + "[" + i + "]";
  }

  /** A map entry: {@code labels.app} or {@code annotations["lattice.dev/dry-run"]}. */
  public static String key(String parent, String key) {
    if (SIMPLE_KEY.matcher(key).matches()) return field(parent, key);
    return parent + "[\"" + key.replace("\"", "\\\"") + "\"]";
  }

  /** Converts a JSON pointer ({@code /http/0/route}) to a field path under {@code prefix}. */
  static String fromPointer(String prefix, String pointer) {
    String path = prefix;
    if (pointer == null || pointer.isEmpty()) return path;
    for (String raw : pointer.substring(1).split("/", -1)) {
      String seg = raw.replace("~1", "/").replace("~0", "~");
      if (seg.isEmpty()) continue; // an object context before its first field name
      if (!seg.isEmpty() && seg.chars().allMatch(Character::isDigit) && seg.length() < 9) {
        path = index(path, Integer.parseInt(seg));
      } else {
        path = key(path, seg);
      }
    }
    return path;
  }
}
