package dev.lattice.configclient;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The config a node holds: every compiled resource by type and name, each reference resolving. Immutable;
 * a change is a new snapshot with a higher {@link #revision()} (local, monotonic within one client).
 * {@link #source()} says where it came from (the stream or the persisted last good snapshot).
 */
public final class ConfigSnapshot {

  /** Where a snapshot came from. */
  public enum Source {
    /** Nothing received or loaded yet. */
    EMPTY,
    /** Loaded from the persisted last good snapshot (no distributor answered yet). */
    PERSISTED,
    /** Received from a distributor and acknowledged. */
    STREAM
  }

  private final String node;
  private final Map<ConfigType, SortedMap<String, ConfigResource>> resources;
  private final long revision;
  private final Source source;

  private ConfigSnapshot(String node, Map<ConfigType, SortedMap<String, ConfigResource>> resources, long revision,
      Source source) {
    this.node = node;
    this.resources = resources;
    this.revision = revision;
    this.source = source;
  }

  /** The snapshot of a node that holds nothing. */
  public static ConfigSnapshot empty(String node) {
    return new ConfigSnapshot(Objects.requireNonNull(node, "node"), Map.of(), 0, Source.EMPTY);
  }

  /** A snapshot of exactly {@code resources} (all of {@code node}). */
  public static ConfigSnapshot of(String node, Collection<ConfigResource> resources, long revision, Source source) {
    Map<ConfigType, SortedMap<String, ConfigResource>> byType = new EnumMap<>(ConfigType.class);
    for (ConfigResource r : resources) {
      byType.computeIfAbsent(r.getType(), t -> new TreeMap<>()).put(r.getName(), r);
    }
    return new ConfigSnapshot(node, freeze(byType), revision, source);
  }

  public String node() {
    return node;
  }

  /** Local revision: 0 for the empty snapshot, +1 per applied change. */
  public long revision() {
    return revision;
  }

  public Source source() {
    return source;
  }

  /** The resources of {@code type}, sorted by name (an empty map when none). */
  public SortedMap<String, ConfigResource> resources(ConfigType type) {
    SortedMap<String, ConfigResource> r = resources.get(type);
    return r == null ? Collections.emptySortedMap() : r;
  }

  /** The resource, or null. */
  public ConfigResource get(ConfigType type, String name) {
    return resources(type).get(name);
  }

  /** {@code name → version} of {@code type} (what the node tells a distributor it holds). */
  public Map<String, String> versions(ConfigType type) {
    Map<String, String> v = new TreeMap<>();
    resources(type).forEach((name, r) -> v.put(name, r.getVersion()));
    return Collections.unmodifiableMap(v);
  }

  /** Every resource, in make-before-break type order, then by name. */
  public List<ConfigResource> all() {
    List<ConfigResource> out = new ArrayList<>();
    for (ConfigType t : ConfigTypeUrls.TYPES) {
      out.addAll(resources(t).values());
    }
    return Collections.unmodifiableList(out);
  }

  /** Number of resources over all types. */
  public int size() {
    return resources.values().stream().mapToInt(Map::size).sum();
  }

  /** This snapshot with {@code upserts} and without {@code removals} of {@code type}, at the next revision. */
  public ConfigSnapshot with(ConfigType type, Collection<ConfigResource> upserts, Collection<String> removals,
      Source source) {
    Map<ConfigType, SortedMap<String, ConfigResource>> next = new EnumMap<>(ConfigType.class);
    resources.forEach((t, byName) -> next.put(t, new TreeMap<>(byName)));
    SortedMap<String, ConfigResource> ofType = next.computeIfAbsent(type, t -> new TreeMap<>());
    removals.forEach(ofType::remove);
    upserts.forEach(r -> ofType.put(r.getName(), r));
    return new ConfigSnapshot(node, freeze(next), revision + 1, source);
  }

  private static Map<ConfigType, SortedMap<String, ConfigResource>> freeze(
      Map<ConfigType, SortedMap<String, ConfigResource>> byType) {
    Map<ConfigType, SortedMap<String, ConfigResource>> out = new EnumMap<>(ConfigType.class);
    byType.forEach((t, byName) -> {
      if (!byName.isEmpty()) {
        out.put(t, Collections.unmodifiableSortedMap(new TreeMap<>(byName)));
      }
    });
    return Collections.unmodifiableMap(out);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("ConfigSnapshot[").append(node).append(" r").append(revision).append(' ')
        .append(source);
    resources.forEach((t, byName) -> b.append(' ').append(t).append('=').append(byName.size()));
    return b.append(']').toString();
  }
}
