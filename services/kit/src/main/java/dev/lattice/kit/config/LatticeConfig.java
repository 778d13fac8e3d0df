package dev.lattice.kit.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Layered service configuration: command-line flags &gt; {@code LATTICE_*} environment &gt; YAML file &gt;
 * defaults.
 *
 * <p>Keys are dotted lower-case paths ({@code kafka.bootstrap.servers}). The environment variable for a
 * key is {@code LATTICE_} plus the key upper-cased with dots and dashes turned into underscores
 * ({@code LATTICE_KAFKA_BOOTSTRAP_SERVERS}); a flag is {@code --key=value}; a YAML file is nested maps
 * flattened to the same dotted keys. The file comes from {@code --config=path} or {@code LATTICE_CONFIG}.
 *
 * <p>Immutable and thread-safe; {@link #with(String, String)} returns a new instance.
 */
public final class LatticeConfig {

  private static final String ENV_PREFIX = "LATTICE_";
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

  private final Map<String, String> values;
  private final Map<String, String> sources;

  private LatticeConfig(Map<String, String> values, Map<String, String> sources) {
    this.values = Map.copyOf(values);
    this.sources = Map.copyOf(sources);
  }

  /** An empty configuration: every lookup falls to its default. */
  public static LatticeConfig empty() {
    return new LatticeConfig(Map.of(), Map.of());
  }

  /** Builds a configuration from explicit values, for tests and embedding. */
  public static LatticeConfig of(Map<String, String> values) {
    Map<String, String> src = new TreeMap<>();
    values.keySet().forEach(k -> src.put(k, "explicit"));
    return new LatticeConfig(values, src);
  }

  /**
   * Loads the layers. Flags that are not {@code --key=value} are rejected with a clear message.
   *
   * @throws ConfigException on a malformed flag or an unreadable/malformed YAML file
   */
  public static LatticeConfig load(List<String> args, Map<String, String> env) {
    Map<String, String> flags = parseFlags(args);
    Map<String, String> fromEnv = new LinkedHashMap<>();
    env.forEach((name, value) -> {
      if (name.startsWith(ENV_PREFIX) && name.length() > ENV_PREFIX.length()) {
        fromEnv.put(envToKey(name), value);
      }
    });
    String file = flags.getOrDefault("config", fromEnv.get("config"));
    Map<String, String> fromFile = file == null ? Map.of() : readYaml(Path.of(file));

    Map<String, String> merged = new TreeMap<>();
    Map<String, String> src = new TreeMap<>();
    fromFile.forEach((k, v) -> { merged.put(k, v); src.put(k, "file " + file); });
    fromEnv.forEach((k, v) -> { merged.put(k, v); src.put(k, "env " + keyToEnv(k)); });
    flags.forEach((k, v) -> { merged.put(k, v); src.put(k, "flag --" + k); });
    return new LatticeConfig(merged, src);
  }

  /** Returns a copy with one key overridden (highest precedence). */
  public LatticeConfig with(String key, String value) {
    Map<String, String> v = new TreeMap<>(values);
    Map<String, String> s = new TreeMap<>(sources);
    v.put(key, value);
    s.put(key, "override");
    return new LatticeConfig(v, s);
  }

  /** Returns a copy with every key of {@code defaults} that this config does not set. */
  public LatticeConfig withDefaults(Map<String, String> defaults) {
    Map<String, String> v = new TreeMap<>(defaults);
    v.putAll(values);
    Map<String, String> s = new TreeMap<>();
    defaults.keySet().forEach(k -> s.put(k, "default"));
    s.putAll(sources);
    return new LatticeConfig(v, s);
  }

  public Optional<String> find(String key) {
    return Optional.ofNullable(values.get(key));
  }

  public String get(String key, String defaultValue) {
    return values.getOrDefault(key, defaultValue);
  }

  /** The value, or a {@link ConfigException} naming the key and its environment variable. */
  public String require(String key) {
    String v = values.get(key);
    if (v == null || v.isBlank()) {
      throw new ConfigException(key + ": missing (set --" + key + "=… or " + keyToEnv(key) + ")");
    }
    return v;
  }

  public int getInt(String key, int defaultValue) {
    String v = values.get(key);
    if (v == null) return defaultValue;
    try {
      return Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(key + ": '" + v + "' (expected: an integer; from " + sources.get(key) + ")");
    }
  }

  public boolean getBoolean(String key, boolean defaultValue) {
    String v = values.get(key);
    if (v == null) return defaultValue;
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true", "yes", "on", "1" -> true;
      case "false", "no", "off", "0" -> false;
      default -> throw new ConfigException(key + ": '" + v + "' (expected: true or false; from " + sources.get(key) + ")");
    };
  }

  /** A duration such as {@code 500ms}, {@code 10s}, {@code 5m}, {@code 1h}, {@code 2d}, or ISO-8601 {@code PT1H}. */
  public Duration getDuration(String key, Duration defaultValue) {
    String v = values.get(key);
    if (v == null) return defaultValue;
    try {
      return parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(key + ": '" + v + "' (expected: a duration like 500ms, 10s, 5m, 1h; from "
          + sources.get(key) + ")");
    }
  }

  /** Every key under {@code prefix.} with the prefix removed, e.g. extra Kafka client properties. */
  public Map<String, String> subtree(String prefix) {
    String p = prefix.endsWith(".") ? prefix : prefix + ".";
    Map<String, String> out = new TreeMap<>();
    values.forEach((k, v) -> { if (k.startsWith(p)) out.put(k.substring(p.length()), v); });
    return out;
  }

  /** Where a key's value came from (flag, env, file, default), for start-up logs; never the value. */
  public String sourceOf(String key) {
    return sources.getOrDefault(key, "unset");
  }

  public Map<String, String> asMap() {
    return values;
  }

  public static Duration parseDuration(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    if (s.startsWith("pt") || s.startsWith("p")) return Duration.parse(text.trim().toUpperCase(Locale.ROOT));
    int i = 0;
    while (i < s.length() && Character.isDigit(s.charAt(i))) i++;
    if (i == 0) throw new IllegalArgumentException("no number in " + text);
    long n = Long.parseLong(s.substring(0, i));
    return switch (s.substring(i).trim()) {
      case "ms" -> Duration.ofMillis(n);
      case "s", "" -> Duration.ofSeconds(n);
      case "m" -> Duration.ofMinutes(n);
      case "h" -> Duration.ofHours(n);
      case "d" -> Duration.ofDays(n);
      default -> throw new IllegalArgumentException("unknown unit in " + text);
    };
  }

  static String envToKey(String envName) {
    return envName.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT).replace('_', '.');
  }

  static String keyToEnv(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
  }

  private static Map<String, String> parseFlags(List<String> args) {
    Map<String, String> flags = new LinkedHashMap<>();
    for (String arg : args) {
      if (!arg.startsWith("--") || !arg.contains("=")) {
        throw new ConfigException("flag '" + arg + "' (expected: --key=value)");
      }
      int eq = arg.indexOf('=');
      String key = arg.substring(2, eq).trim();
      if (key.isEmpty()) throw new ConfigException("flag '" + arg + "' has no key (expected: --key=value)");
      flags.put(key, arg.substring(eq + 1));
    }
    return flags;
  }

  private static Map<String, String> readYaml(Path file) {
    if (!Files.isReadable(file)) throw new ConfigException("config file " + file + ": not readable");
    try {
      JsonNode root = YAML.readTree(file.toFile());
      Map<String, String> out = new TreeMap<>();
      if (root == null || root.isNull() || root.isMissingNode()) return out;
      if (!root.isObject()) {
        throw new ConfigException("config file " + file + ": top level is " + root.getNodeType()
            + " (expected: a mapping of keys)");
      }
      flatten("", root, out);
      return out;
    } catch (IOException e) {
      throw new ConfigException("config file " + file + ": malformed YAML: " + e.getMessage().lines().findFirst().orElse(""), e);
    }
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        flatten(prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey(), e.getValue(), out);
      }
    } else if (node.isArray()) {
      StringBuilder sb = new StringBuilder();
      node.forEach(n -> { if (sb.length() > 0) sb.append(','); sb.append(n.asText()); });
      out.put(prefix, sb.toString());
    } else if (!node.isNull()) {
      out.put(prefix, node.asText());
    }
  }
}
