package dev.lattice.kit.config;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * The configuration keys a component reads, so a key nobody reads is an error instead of a silent
 * no-op: exact keys ({@code identity.trust.domain}), prefixes whose every key is passed on
 * ({@code kafka.} — Kafka client properties) and aliases (a documented spelling that means another
 * key). Each service contributes its own ({@code LatticeService.configKeys()}); the kit adds the keys it
 * reads itself ({@link #kit}); {@link #and} joins them and {@link #check} refuses unknown keys, naming the
 * nearest known one.
 *
 * <p>Immutable and thread-safe.
 */
public final class ConfigKeys {

  private final Set<String> keys;
  private final Set<String> prefixes;
  private final Map<String, String> aliases;

  private ConfigKeys(Set<String> keys, Set<String> prefixes, Map<String, String> aliases) {
    this.keys = Set.copyOf(keys);
    this.prefixes = Set.copyOf(prefixes);
    this.aliases = Map.copyOf(aliases);
  }

  /** No keys. */
  public static ConfigKeys none() {
    return new ConfigKeys(Set.of(), Set.of(), Map.of());
  }

  /** Exactly these keys. */
  public static ConfigKeys of(String... keys) {
    return new ConfigKeys(Set.of(keys), Set.of(), Map.of());
  }

  /** Exactly these keys. */
  public static ConfigKeys of(Collection<String> keys) {
    return new ConfigKeys(Set.copyOf(keys), Set.of(), Map.of());
  }

  /**
   * What the kit itself reads for services {@code serviceNames}: Kafka ({@code kafka.bootstrap.servers}
   * and every {@code kafka.*} client property), the data dir, the admin token file, timeouts, and per
   * service {@code <name>.http.host}, {@code <name>.http.port}, {@code <name>.data.dir}.
   */
  public static ConfigKeys kit(Collection<String> serviceNames) {
    List<String> k = new ArrayList<>(List.of("config", "data.dir", "admin.token.file", "shutdown.timeout",
        "readiness.check.timeout", "ports.ephemeral", "kafka.bootstrap.servers", "kafka.readiness.interval",
        "kafka.readiness.timeout"));
    for (String name : serviceNames) {
      k.add(name + ".http.host");
      k.add(name + ".http.port");
      k.add(name + ".data.dir");
    }
    return of(k).withPrefix("kafka.");
  }

  /** These keys plus every key that starts with {@code prefix} (which ends with a dot). */
  public ConfigKeys withPrefix(String prefix) {
    if (!prefix.endsWith(".")) {
      throw new IllegalArgumentException("prefix '" + prefix + "' (expected: ending with '.')");
    }
    Set<String> p = new TreeSet<>(prefixes);
    p.add(prefix);
    return new ConfigKeys(keys, p, aliases);
  }

  /** These keys plus {@code alias}, another spelling of the known key {@code key}. */
  public ConfigKeys withAlias(String alias, String key) {
    Map<String, String> a = new LinkedHashMap<>(aliases);
    a.put(alias, key);
    return new ConfigKeys(keys, prefixes, a);
  }

  /** The union of both. */
  public ConfigKeys and(ConfigKeys other) {
    Set<String> k = new TreeSet<>(keys);
    k.addAll(other.keys);
    Set<String> p = new TreeSet<>(prefixes);
    p.addAll(other.prefixes);
    Map<String, String> a = new LinkedHashMap<>(aliases);
    a.putAll(other.aliases);
    return new ConfigKeys(k, p, a);
  }

  /** The exact keys, sorted. */
  public Set<String> keys() {
    return new TreeSet<>(keys);
  }

  /** True when {@code key} is known: an exact key, under a prefix, or an alias. */
  public boolean knows(String key) {
    return keys.contains(key) || aliases.containsKey(key) || prefixes.stream().anyMatch(key::startsWith);
  }

  /** The key {@code key} stands for: itself, or the key it is an alias of. */
  public String canonical(String key) {
    return aliases.getOrDefault(key, key);
  }

  /** The nearest known key to an unknown one, if one is near enough to be a likely misspelling. */
  public Optional<String> nearest(String unknown) {
    String u = unknown.toLowerCase(Locale.ROOT).replace('-', '.').replace('_', '.');
    String best = null;
    int bestDistance = Integer.MAX_VALUE;
    Set<String> candidates = new TreeSet<>(keys);
    candidates.addAll(aliases.values());
    for (String k : candidates) {
      int d = distance(u, k.replace('-', '.'));
      if (d < bestDistance) {
        bestDistance = d;
        best = k;
      }
    }
    return best != null && bestDistance <= Math.max(2, unknown.length() / 3) ? Optional.of(best) : Optional.empty();
  }

  /**
   * Refuses unknown keys: the exception names each, where it came from ({@code where}, e.g.
   * {@code "--set"}) and the nearest known key.
   *
   * @return {@code given} with aliases replaced by their keys (same order)
   * @throws ConfigException when a key is unknown
   */
  public Map<String, String> check(Map<String, String> given, String where) {
    List<String> problems = new ArrayList<>();
    Map<String, String> out = new LinkedHashMap<>();
    for (Map.Entry<String, String> e : given.entrySet()) {
      String key = e.getKey();
      if (!knows(key)) {
        problems.add(unknownMessage(key, where));
        continue;
      }
      out.put(canonical(key), e.getValue());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(String.join("; ", problems));
    }
    return out;
  }

  /** {@code "--set identity.trust.domian: unknown key (did you mean identity.trust.domain?)"}. */
  public String unknownMessage(String key, String where) {
    return where + " " + key + ": unknown key"
        + nearest(key).map(k -> " (did you mean " + k + "?)").orElse(" (no known key is close)");
  }

  /** Levenshtein distance. */
  static int distance(String a, String b) {
    int[] prev = new int[b.length() + 1];
    int[] cur = new int[b.length() + 1];
    for (int j = 0; j <= b.length(); j++) {
      prev[j] = j;
    }
    for (int i = 1; i <= a.length(); i++) {
      cur[0] = i;
      for (int j = 1; j <= b.length(); j++) {
        int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
        cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
      }
      int[] t = prev;
      prev = cur;
      cur = t;
    }
    return prev[b.length()];
  }
}
