package dev.lattice.distributor.snapshot;

import dev.lattice.configclient.ConfigReferences;
import dev.lattice.configclient.ConfigResources;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The per-node state folded from {@code lattice.config.v1}: what the topic says each node should have
 * (desired) and the consistent {@link NodeSnapshot} served from it. Every change recomputes the node's
 * snapshot from the desired state and the previously served one: a change that would leave a reference
 * dangling is held back — a new referrer is not served yet, a changed referrer keeps its served version,
 * a removed target stays while something served still references it — and reported on the snapshot.
 * Once the topic makes it consistent (the missing target arrives) it is served.
 *
 * <p>No Kafka, gRPC or Vert.x here. Thread-safe: writes are serialized, reads see the latest published
 * snapshot; watchers are called on the writing thread, after the snapshot is published, and must not
 * block (the transport hops to its own context).
 */
public final class SnapshotCache {

  /** A watcher registration; {@link #close()} stops the callbacks. */
  public interface Watch extends AutoCloseable {
    @Override
    void close();
  }

  private static final int MAX_REPAIR_ROUNDS = 64;

  private final Clock clock;
  private final Object lock = new Object();
  private final Map<String, Map<ConfigType, TreeMap<String, VersionedResource>>> desired = new HashMap<>();
  private final Map<String, NodeSnapshot> served = new ConcurrentHashMap<>();
  private final Map<String, List<Consumer<NodeSnapshot>>> watchers = new ConcurrentHashMap<>();
  private long revision;

  public SnapshotCache(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Applies a record of {@code lattice.config.v1}. Returns why it was rejected (bad key, a payload that does
   * not match its key or type) — the served state is then unchanged — or empty when applied.
   */
  public Optional<String> upsert(String key, ConfigResource value) {
    ConfigKey k;
    try {
      k = ConfigKey.parse(key);
    } catch (IllegalArgumentException e) {
      return Optional.of(e.getMessage());
    }
    Optional<String> problem = ConfigResources.problem(value);
    if (problem.isPresent()) {
      return Optional.of(key + ": " + problem.get());
    }
    if (!k.node().equals(value.getNode()) || k.type() != value.getType() || !k.name().equals(value.getName())) {
      return Optional.of("key " + key + " does not match its value " + value.getNode() + "/" + value.getType()
          + "/" + value.getName());
    }
    VersionedResource r = VersionedResource.of(value, clock.millis());
    synchronized (lock) {
      desired.computeIfAbsent(k.node(), n -> new EnumMap<>(ConfigType.class))
          .computeIfAbsent(k.type(), t -> new TreeMap<>())
          .put(k.name(), r);
      recompute(k.node());
    }
    return Optional.empty();
  }

  /** Applies a tombstone; an unknown or malformed key is ignored (nothing to remove). */
  public void remove(String key) {
    ConfigKey k;
    try {
      k = ConfigKey.parse(key);
    } catch (IllegalArgumentException e) {
      return;
    }
    synchronized (lock) {
      Map<ConfigType, TreeMap<String, VersionedResource>> node = desired.get(k.node());
      if (node == null || node.getOrDefault(k.type(), new TreeMap<>()).remove(k.name()) == null) {
        return;
      }
      recompute(k.node());
    }
  }

  /** The snapshot served to {@code node} (empty, revision 0, when the topic has nothing for it). */
  public NodeSnapshot snapshot(String node) {
    NodeSnapshot s = served.get(node);
    return s == null ? NodeSnapshot.empty(node) : s;
  }

  /** Every node the topic has (or had) resources for. */
  public Set<String> nodes() {
    return Set.copyOf(served.keySet());
  }

  /** Calls {@code listener} with each new snapshot of {@code node} from now on. */
  public Watch watch(String node, Consumer<NodeSnapshot> listener) {
    List<Consumer<NodeSnapshot>> list = watchers.computeIfAbsent(node, n -> new CopyOnWriteArrayList<>());
    list.add(listener);
    return () -> list.remove(listener);
  }

  private void recompute(String node) {
    NodeSnapshot previous = snapshot(node);
    Map<ConfigType, TreeMap<String, VersionedResource>> want = desired.get(node);
    Map<ConfigType, Map<String, VersionedResource>> result = new EnumMap<>(ConfigType.class);
    want.forEach((type, byName) -> result.put(type, new TreeMap<>(byName)));
    Map<String, HeldBack> held = new LinkedHashMap<>();
    for (int round = 0; round < MAX_REPAIR_ROUNDS; round++) {
      List<ConfigReferences.Dangling> dangling = ConfigReferences.dangling(resourcesOf(result),
          (type, name) -> result.getOrDefault(type, Map.of()).containsKey(name));
      if (dangling.isEmpty()) {
        break;
      }
      for (ConfigReferences.Dangling d : dangling) {
        repair(node, d, previous, result, held);
      }
    }
    NodeSnapshot next = new NodeSnapshot(node, result, revision + 1, List.copyOf(held.values()));
    if (next.sameContent(previous) && served.containsKey(node)) {
      return;
    }
    revision++;
    served.put(node, next);
    for (Consumer<NodeSnapshot> w : watchers.getOrDefault(node, List.of())) {
      w.accept(next);
    }
  }

  private static void repair(String node, ConfigReferences.Dangling d, NodeSnapshot previous,
      Map<ConfigType, Map<String, VersionedResource>> result, Map<String, HeldBack> held) {
    ConfigReferences.Reference ref = d.reference();
    Map<String, VersionedResource> targets = result.computeIfAbsent(ref.toType(), t -> new TreeMap<>());
    Map<String, VersionedResource> referrers = result.computeIfAbsent(ref.fromType(), t -> new TreeMap<>());
    if (targets.containsKey(ref.toName()) || !referrers.containsKey(ref.fromName())) {
      return; // repaired by an earlier step of this round
    }
    VersionedResource servedTarget = previous.get(ref.toType(), ref.toName());
    if (servedTarget != null) {
      // the topic removed something a served resource still references: keep it until nothing does
      targets.put(ref.toName(), servedTarget);
      String key = node + "/" + ref.toType() + "/" + ref.toName();
      held.putIfAbsent(key, new HeldBack(key, HeldBack.Change.REMOVAL, "removal held back: " + d.message()));
      return;
    }
    String key = node + "/" + ref.fromType() + "/" + ref.fromName();
    VersionedResource servedReferrer = previous.get(ref.fromType(), ref.fromName());
    VersionedResource current = referrers.get(ref.fromName());
    if (servedReferrer != null && !servedReferrer.version().equals(current.version())) {
      referrers.put(ref.fromName(), servedReferrer);
    } else {
      referrers.remove(ref.fromName());
    }
    held.putIfAbsent(key, new HeldBack(key, HeldBack.Change.UPSERT, d.message()));
  }

  private static List<ConfigResource> resourcesOf(Map<ConfigType, Map<String, VersionedResource>> result) {
    List<ConfigResource> all = new ArrayList<>();
    result.values().forEach(byName -> byName.values().forEach(r -> all.add(r.resource())));
    return all;
  }
}
