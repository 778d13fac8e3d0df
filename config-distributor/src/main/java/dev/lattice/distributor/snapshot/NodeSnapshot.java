package dev.lattice.distributor.snapshot;

import dev.lattice.events.config.ConfigType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the distributor serves one node: every resource by type and name, consistent (each reference
 * resolves), plus the changes held back because they were not. Immutable; a change is a new snapshot with
 * a higher {@link #revision()} (local, monotonic) and, per type, a {@link #version(ConfigType)} that is a
 * hash of the canonical {@code name → version} list (equal contents, equal versions, on every instance).
 */
public final class NodeSnapshot {

  private final String node;
  private final Map<ConfigType, SortedMap<String, VersionedResource>> resources;
  private final Map<ConfigType, String> versions;
  private final long revision;
  private final List<HeldBack> heldBack;

  NodeSnapshot(String node, Map<ConfigType, ? extends Map<String, VersionedResource>> resources, long revision,
      List<HeldBack> heldBack) {
    this.node = node;
    EnumMap<ConfigType, SortedMap<String, VersionedResource>> copy = new EnumMap<>(ConfigType.class);
    EnumMap<ConfigType, String> v = new EnumMap<>(ConfigType.class);
    resources.forEach((type, byName) -> {
      if (!byName.isEmpty()) {
        SortedMap<String, VersionedResource> sorted = Collections.unmodifiableSortedMap(new TreeMap<>(byName));
        copy.put(type, sorted);
        v.put(type, hashOf(sorted));
      }
    });
    this.resources = Collections.unmodifiableMap(copy);
    this.versions = Collections.unmodifiableMap(v);
    this.revision = revision;
    this.heldBack = List.copyOf(heldBack);
  }

  /** A node's snapshot before anything was folded for it. */
  public static NodeSnapshot empty(String node) {
    return new NodeSnapshot(node, Map.of(), 0, List.of());
  }

  public String node() {
    return node;
  }

  /** The resources of {@code type}, sorted by name (empty map when none). */
  public SortedMap<String, VersionedResource> resources(ConfigType type) {
    SortedMap<String, VersionedResource> r = resources.get(type);
    return r == null ? Collections.emptySortedMap() : r;
  }

  /** Every type that has at least one resource. */
  public Map<ConfigType, SortedMap<String, VersionedResource>> all() {
    return resources;
  }

  /** The resource, or null. */
  public VersionedResource get(ConfigType type, String name) {
    return resources(type).get(name);
  }

  /** Hash of this type's {@code name → version} list; {@code ""} for a type without resources. */
  public String version(ConfigType type) {
    return versions.getOrDefault(type, "");
  }

  /** Local monotonic revision (0 = nothing folded yet). */
  public long revision() {
    return revision;
  }

  /** Topic changes not served because they would break a reference (reasons name both ends). */
  public List<HeldBack> heldBack() {
    return heldBack;
  }

  /** Number of resources over all types. */
  public int size() {
    return resources.values().stream().mapToInt(Map::size).sum();
  }

  /** Same resources at the same versions, and the same held-back changes. */
  boolean sameContent(NodeSnapshot other) {
    return versions.equals(other.versions) && heldBack.equals(other.heldBack);
  }

  private static String hashOf(SortedMap<String, VersionedResource> byName) {
    Map<String, String> versions = new TreeMap<>();
    byName.forEach((name, r) -> versions.put(name, r.version()));
    return versionOf(versions);
  }

  /**
   * The type version of a {@code name → version} list: what {@link #version(ConfigType)} is for a snapshot
   * holding exactly those (so a node's acknowledged versions compare with the served snapshot's).
   */
  public static String versionOf(Map<String, String> versions) {
    if (versions.isEmpty()) {
      return "";
    }
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      new TreeMap<>(versions).forEach((name, version) -> {
        sha.update(name.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) 0);
        sha.update(version.getBytes(StandardCharsets.UTF_8));
        sha.update((byte) '\n');
      });
      return HexFormat.of().formatHex(sha.digest(), 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  @Override
  public String toString() {
    return "NodeSnapshot[" + node + " r" + revision + " " + versions + (heldBack.isEmpty() ? "" : " held " + heldBack) + "]";
  }
}
