package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.policy.registry.RegisteredWorkload;
import dev.lattice.policy.registry.ServiceVisibility;
import dev.lattice.policy.registry.WorkloadEndpoints;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The incremental compiler: folds resource and registry changes into a {@link MeshState}, recompiles
 * only the units a change affects (an outbound unit per service host, fanned out to every node that may see it
 * — exportTo and egress scope, {@link #visibleOn}; an inbound unit per workload instance on its node), diffs the result against what was last emitted per
 * {@code node/TYPE/name} and returns only the differences: upserts with a new version, tombstones for
 * keys no longer produced. Unchanged resources are never re-emitted.
 *
 * <p>Conflicts (two TrafficRoutes or DestinationPolicies for one host) and refused resources are kept as
 * warnings per resource key, returned as changes too so a caller can publish them.
 *
 * <p>Not thread-safe: one instance per Streams task (the topology runs it in one task).
 */
public final class MeshCompiler {

  private static final Logger LOG = LoggerFactory.getLogger(MeshCompiler.class);

  /** A compiled-config change: {@code value == null} is a tombstone. */
  public record Change(String key, ConfigResource value) {}

  /**
   * A warning change: {@code warning == null} clears it. A resource can carry one warning per topic
   * ({@code invalid}, {@code conflict:<host>}).
   */
  public record WarningChange(String resourceKey, String topic, String warning) {
    /** The store key: {@code resourceKey#topic}. */
    public String storeKey() {
      return resourceKey + "#" + topic;
    }
  }

  /** Everything one input produced. */
  /**
   * Everything one input produced.
   *
   * @param admitted false when the input was refused (not compiled, not to be stored)
   */
  public record Result(List<Change> changes, List<WarningChange> warnings, boolean admitted) {
    public Result(List<Change> changes, List<WarningChange> warnings) {
      this(changes, warnings, true);
    }

    public static final Result NONE = new Result(List.of(), List.of());
  }

  private final MeshState state;
  private final ResourceAdmission admission;
  /** node → unit (host or instance key) → TYPE/name → version last emitted. */
  private final Map<String, Map<String, Map<String, String>>> emitted = new HashMap<>();
  /** host → compiled outbound unit (node-independent), for fan-out to nodes that appear later. */
  private final Map<String, OutboundCompiler.Unit> outbound = new HashMap<>();
  /** destination host → hosts whose units route to it. */
  private final Map<String, Set<String>> dependents = new HashMap<>();
  /** instance key → its scope as exact hosts, for {@link #visibleOn}. */
  private final Map<String, ScopeCache> scopes = new HashMap<>();
  /** resource key → topic ("conflict:<host>", "invalid") → text. */
  private final Map<String, Map<String, String>> warningsByResource = new TreeMap<>();

  public MeshCompiler(MeshSettings mesh, ResourceAdmission admission) {
    this.state = new MeshState(mesh);
    this.admission = admission;
  }

  public MeshState state() {
    return state;
  }

  // ---- restore (after a restart: state from the stores, nothing emitted) ----

  /** Restores an accepted resource without compiling. */
  public void restoreResource(ResourceEvent event) {
    state.putResource(event);
  }

  /** Restores a workload without compiling. */
  public void restoreWorkload(WorkloadEndpoint event) {
    state.putWorkload(WorkloadEndpoints.toRegistered(event));
  }

  /** Restores what was last emitted under {@code configKey}. */
  public void restoreEmitted(String configKey, String version) {
    ConfigKey k = ConfigKey.parse(configKey);
    String typeAndName = k.type().name() + "/" + k.name();
    emitted.computeIfAbsent(k.node(), n -> new HashMap<>())
        .computeIfAbsent(unitOf(k.name()), u -> new HashMap<>()).put(typeAndName, version);
  }

  /** Restores a warning from its store key ({@code resourceKey#topic}). */
  public void restoreWarning(String storeKey, String text) {
    int hash = storeKey.lastIndexOf('#');
    warningsByResource.computeIfAbsent(storeKey.substring(0, hash), k -> new TreeMap<>())
        .put(storeKey.substring(hash + 1), text);
  }

  /** Recompiles every outbound unit into the cache after a restore (emits nothing). */
  public void finishRestore() {
    for (String host : state.hosts()) {
      OutboundCompiler.Unit unit = OutboundCompiler.compile(state, host);
      cache(unit);
    }
  }

  /**
   * Everything that would differ between the restored emitted set and a full compile of the restored
   * state (empty when the last run finished cleanly and the compiler code is unchanged).
   */
  public Result reconcileAll() {
    List<Change> changes = new ArrayList<>();
    List<WarningChange> warnings = new ArrayList<>();
    Set<String> hosts = new TreeSet<>(state.hosts());
    for (Map<String, Map<String, String>> units : emitted.values()) {
      for (String unit : units.keySet()) if (!unit.contains("/")) hosts.add(unit);
    }
    recompileHosts(hosts, changes, warnings);
    Set<String> instances = new TreeSet<>(state.workloadKeys());
    for (Map<String, Map<String, String>> units : emitted.values()) {
      for (String unit : units.keySet()) if (unit.contains("/")) instances.add(unit);
    }
    for (String node : new TreeSet<>(emitted.keySet())) {
      if (!state.nodes().contains(node)) dropNode(node, changes);
    }
    for (String instance : instances) recompileInstance(instance, changes);
    return new Result(changes, warnings);
  }

  // ---- inputs ----

  /** Applies a resource upsert ({@code event != null}) or delete ({@code event == null}). */
  public Result applyResource(String key, ResourceEvent event) {
    List<WarningChange> warnings = new ArrayList<>();
    if (event != null) {
      Optional<String> refused = structuralProblem(key, event).or(() -> admission.reject(event));
      if (refused.isPresent()) {
        LOG.warn("refusing to compile {}: {}", key, refused.get());
        setWarning(key, "invalid", "not compiled (the previous accepted version, if any, stays): "
            + refused.get(), warnings);
        return new Result(List.of(), warnings, false);
      }
      setWarning(key, "invalid", null, warnings);
    }
    ResourceEvent old = event == null ? state.removeResource(key) : state.putResource(event);
    if (event == null) {
      clearWarnings(key, warnings);
      if (old == null) return new Result(List.of(), warnings);
    }
    Set<String> hosts = new TreeSet<>();
    Set<String> instances = new TreeSet<>();
    for (ResourceEvent e : new ResourceEvent[] {old, event}) {
      if (e == null) continue;
      if (MeshState.routeKind(e.getKind())) {
        hosts.addAll(MeshState.hostsOf(e));
      } else {
        SortedSet<String> selected = state.workloadsSelectedBy(e);
        instances.addAll(selected);
        if (e.getKind().equals(MeshState.PEER_AUTHENTICATION)) {
          // the mTLS flag of clusters depends on their endpoints' modes
          for (String w : selected) hosts.addAll(state.workload(w).services());
        }
      }
    }
    List<Change> changes = new ArrayList<>();
    recompileHosts(hosts, changes, warnings);
    for (String instance : instances) recompileInstance(instance, changes);
    return new Result(changes, warnings);
  }

  /** Applies a registry upsert ({@code event != null}) or removal ({@code event == null}). */
  public Result applyWorkload(String key, WorkloadEndpoint event) {
    RegisteredWorkload now = event == null ? null : WorkloadEndpoints.toRegistered(event);
    if (now != null && !now.key().equals(key)) {
      LOG.warn("registry record key {} differs from its content {}; using the content", key, now.key());
    }
    Set<String> nodesBefore = state.nodes();
    RegisteredWorkload old = now == null ? state.removeWorkload(key) : state.putWorkload(now);
    if (now == null) scopes.remove(key);
    if (old == null && now == null) return Result.NONE;
    if (old != null && old.equals(now)) return Result.NONE;

    List<Change> changes = new ArrayList<>();
    List<WarningChange> warnings = new ArrayList<>();
    Set<String> hosts = new TreeSet<>();
    if (old != null) hosts.addAll(old.services());
    if (now != null) hosts.addAll(now.services());
    recompileHosts(hosts, changes, warnings);

    // the instance's inbound unit: removed from the old node, compiled on the new one
    if (old != null && (now == null || !old.node().equals(now.node()) || !old.key().equals(now.key()))) {
      diff(old.node(), old.key(), Map.of(), changes);
    }
    if (now != null) recompileInstance(now.key(), changes);

    Set<String> nodesAfter = state.nodes();
    // a node's scope is the union of its instances' views: it changes when one comes, goes or changes its view
    Set<String> rescoped = new TreeSet<>();
    for (String node : nodesAfter) {
      if (!nodesBefore.contains(node)) rescoped.add(node);
    }
    if (old == null || now == null || !sameView(old, now)) {
      if (old != null) rescoped.add(old.node());
      if (now != null) rescoped.add(now.node());
    }
    for (String node : rescoped) rediffNode(node, changes);
    for (String node : nodesBefore) {
      if (!nodesAfter.contains(node)) dropNode(node, changes);
    }
    return new Result(changes, warnings);
  }

  /** An instance's scope as exact hosts ({@link ServiceVisibility#exactHosts}), kept while the instance is unchanged. */
  private Optional<Set<String>> exactScope(String key, RegisteredWorkload w) {
    ScopeCache c = scopes.get(key);
    if (c == null || c.workload() != w) {
      c = new ScopeCache(w, ServiceVisibility.exactHosts(w));
      scopes.put(key, c);
    }
    return c.exact();
  }

  private record ScopeCache(RegisteredWorkload workload, Optional<Set<String>> exact) {}

  private static boolean sameView(RegisteredWorkload a, RegisteredWorkload b) {
    return a.node().equals(b.node()) && a.namespace().equals(b.namespace())
        && java.util.Objects.equals(a.egressHosts(), b.egressHosts());
  }

  /** Current warnings: resource key → text. */
  public Map<String, String> warnings() {
    Map<String, String> out = new TreeMap<>();
    warningsByResource.forEach((k, v) -> out.put(k, String.join("; ", v.values())));
    return out;
  }

  // ---- compilation ----

  private void recompileHosts(Set<String> hosts, List<Change> changes, List<WarningChange> warnings) {
    Set<String> todo = new TreeSet<>(hosts);
    for (String h : hosts) todo.addAll(dependents.getOrDefault(h, Set.of()));
    // compile every unit first: visibility follows the references of the new units
    Set<String> rediff = new TreeSet<>(todo);
    Map<String, OutboundCompiler.Unit> units = new TreeMap<>();
    for (String host : todo) {
      OutboundCompiler.Unit previous = outbound.get(host);
      OutboundCompiler.Unit unit = OutboundCompiler.compile(state, host);
      if (previous != null) rediff.addAll(previous.dependsOn());
      rediff.addAll(unit.dependsOn());
      cache(unit);
      updateConflicts(previous, unit, warnings);
      units.put(host, unit);
    }
    // a unit whose referrers changed may have become visible or hidden on a node: with what they reference
    Set<String> closure = new TreeSet<>();
    java.util.ArrayDeque<String> queue = new java.util.ArrayDeque<>(rediff);
    while (!queue.isEmpty()) {
      String h = queue.poll();
      if (!closure.add(h)) continue;
      OutboundCompiler.Unit u = outbound.get(h);
      if (u != null) queue.addAll(u.dependsOn());
    }
    SortedSet<String> nodes = state.nodes();
    for (String host : closure) {
      OutboundCompiler.Unit unit = units.containsKey(host) ? units.get(host) : outbound.get(host);
      Map<String, CompiledResource> resources = unit == null ? Map.of() : unit.resources();
      for (String node : nodes) diff(node, host, visibleOn(node, host) ? resources : Map.of(), changes);
    }
  }

  /** Re-diffs the outbound units on {@code node}: its instances (and so its scope) changed. */
  private void rediffNode(String node, List<Change> changes) {
    if (!state.nodes().contains(node)) return;
    Set<String> visible = visibleHosts(node);
    Set<String> hosts = new TreeSet<>(visible);
    Map<String, Map<String, String>> units = emitted.get(node);
    if (units != null) for (String u : units.keySet()) if (!u.contains("/")) hosts.add(u);
    for (String host : hosts) {
      OutboundCompiler.Unit unit = outbound.get(host);
      diff(node, host, unit != null && visible.contains(host) ? unit.resources() : Map.of(), changes);
    }
  }

  /**
   * Every host {@link #visibleOn} {@code node}, found from its instances' scopes: an exact scope entry is one
   * lookup, a wildcard or no scope a scan of the hosts; then what they reference.
   */
  private Set<String> visibleHosts(String node) {
    Set<String> direct = new TreeSet<>();
    for (String key : state.workloadsOn(node)) {
      RegisteredWorkload w = state.workload(key);
      Optional<Set<String>> exact = exactScope(key, w);
      java.util.Collection<String> candidates = exact.isPresent() ? exact.get() : outbound.keySet();
      for (String host : candidates) {
        if (direct.contains(host) || !outbound.containsKey(host)) continue;
        List<RegisteredWorkload> backing = state.endpointsOf(host);
        Set<String> hostNamespaces = new TreeSet<>();
        for (RegisteredWorkload b : backing) hostNamespaces.add(b.namespace());
        if (ServiceVisibility.exportedTo(backing, w.namespace())
            && ServiceVisibility.inScope(w, host, hostNamespaces)) {
          direct.add(host);
        }
      }
    }
    Set<String> closure = new TreeSet<>();
    java.util.ArrayDeque<String> queue = new java.util.ArrayDeque<>(direct);
    while (!queue.isEmpty()) {
      String h = queue.poll();
      if (!closure.add(h)) continue;
      OutboundCompiler.Unit u = outbound.get(h);
      if (u != null) queue.addAll(u.dependsOn());
    }
    return closure;
  }

  /**
   * Whether {@code host}'s outbound unit belongs on {@code node} (docs/config-distribution.md "Scoping"): one
   * of the node's instances sees it (exported to its namespace and inside its egress scope), or a unit
   * visible there references it.
   */
  boolean visibleOn(String node, String host) {
    return visibleOn(node, host, new java.util.HashSet<>());
  }

  private boolean visibleOn(String node, String host, Set<String> seen) {
    if (!seen.add(host)) return false;
    List<RegisteredWorkload> backing = null;
    Set<String> hostNamespaces = null;
    for (String key : state.workloadsOn(node)) {
      RegisteredWorkload w = state.workload(key);
      Optional<Set<String>> exact = exactScope(key, w);
      if (exact.isPresent() && !exact.get().contains(host)) continue; // one lookup instead of matching each entry
      if (backing == null) {
        backing = state.endpointsOf(host);
        hostNamespaces = new TreeSet<>();
        for (RegisteredWorkload b : backing) hostNamespaces.add(b.namespace());
      }
      if (ServiceVisibility.exportedTo(backing, w.namespace())
          && ServiceVisibility.inScope(w, host, hostNamespaces)) {
        return true;
      }
    }
    for (String referrer : dependents.getOrDefault(host, Set.of())) {
      if (visibleOn(node, referrer, seen)) return true;
    }
    return false;
  }

  private void cache(OutboundCompiler.Unit unit) {
    OutboundCompiler.Unit previous = outbound.get(unit.host());
    if (previous != null) {
      for (String d : previous.dependsOn()) {
        Set<String> s = dependents.get(d);
        if (s != null) {
          s.remove(unit.host());
          if (s.isEmpty()) dependents.remove(d);
        }
      }
    }
    if (unit.resources().isEmpty()) {
      outbound.remove(unit.host());
      return;
    }
    outbound.put(unit.host(), unit);
    for (String d : unit.dependsOn()) dependents.computeIfAbsent(d, x -> new TreeSet<>()).add(unit.host());
  }

  private void updateConflicts(OutboundCompiler.Unit previous, OutboundCompiler.Unit unit,
      List<WarningChange> warnings) {
    String topic = "conflict:" + unit.host();
    if (previous != null) {
      for (String loser : previous.conflicts().keySet()) {
        if (!unit.conflicts().containsKey(loser)) setWarning(loser, topic, null, warnings);
      }
    }
    unit.conflicts().forEach((loser, text) -> {
      if (previous == null || !text.equals(previous.conflicts().get(loser))) {
        LOG.warn("conflict on {}: {} — {}", unit.host(), loser, text);
      }
      setWarning(loser, topic, text, warnings);
    });
  }

  private void recompileInstance(String instanceKey, List<Change> changes) {
    RegisteredWorkload w = state.workload(instanceKey);
    Map<String, CompiledResource> desired = w == null || w.node().isEmpty()
        ? Map.of() : InboundCompiler.compile(state, w);
    if (w != null && !w.node().isEmpty()) diff(w.node(), instanceKey, desired, changes);
    // an instance that vanished or lost its node: tombstone it wherever it was emitted
    for (String node : new TreeSet<>(emitted.keySet())) {
      if (w != null && node.equals(w.node())) continue;
      if (emitted.get(node).containsKey(instanceKey)) diff(node, instanceKey, Map.of(), changes);
    }
  }

  private void dropNode(String node, List<Change> changes) {
    Map<String, Map<String, String>> units = emitted.get(node);
    if (units == null) return;
    for (String unit : new TreeSet<>(units.keySet())) diff(node, unit, Map.of(), changes);
  }

  /** Emits the difference between {@code desired} and what {@code node} last got for {@code unit}. */
  private void diff(String node, String unit, Map<String, CompiledResource> desired, List<Change> changes) {
    if (node.isEmpty()) return;
    Map<String, Map<String, String>> units = emitted.computeIfAbsent(node, n -> new HashMap<>());
    Map<String, String> previous = units.getOrDefault(unit, Map.of());
    Map<String, String> next = new HashMap<>();
    for (CompiledResource r : desired.values()) {
      next.put(r.typeAndName(), r.version());
      if (!r.version().equals(previous.get(r.typeAndName()))) {
        changes.add(new Change(node + "/" + r.typeAndName(), r.toEvent(node)));
      }
    }
    for (String gone : new TreeSet<>(previous.keySet())) {
      if (!next.containsKey(gone)) changes.add(new Change(node + "/" + gone, null));
    }
    if (next.isEmpty()) {
      units.remove(unit);
      if (units.isEmpty()) emitted.remove(node);
    } else {
      units.put(unit, next);
    }
  }

  /** The unit a config name belongs to: the text after its last {@code |}. */
  static String unitOf(String name) {
    return name.substring(name.lastIndexOf('|') + 1);
  }

  /** Problems no admission may waive: the compiler could not even index such an event. */
  static Optional<String> structuralProblem(String key, ResourceEvent e) {
    if (!key.equals(MeshState.key(e))) {
      return Optional.of("record key \"" + key + "\" (expected: kind/namespace/name of its value, \""
          + MeshState.key(e) + "\")");
    }
    Class<?> expected = switch (e.getKind()) {
      case MeshState.TRAFFIC_ROUTE -> dev.lattice.events.policy.TrafficRouteSpec.class;
      case MeshState.DESTINATION_POLICY -> dev.lattice.events.policy.DestinationPolicySpec.class;
      case MeshState.PEER_AUTHENTICATION -> dev.lattice.events.policy.PeerAuthenticationSpec.class;
      case MeshState.AUTHORIZATION_POLICY -> dev.lattice.events.policy.AuthorizationPolicySpec.class;
      case MeshState.RATE_LIMIT_POLICY -> dev.lattice.events.policy.RateLimitPolicySpec.class;
      default -> null;
    };
    if (expected == null) {
      return Optional.of("kind: \"" + e.getKind() + "\" (expected one of: TrafficRoute, DestinationPolicy, "
          + "PeerAuthentication, AuthorizationPolicy, RateLimitPolicy)");
    }
    if (!expected.isInstance(e.getSpec())) {
      return Optional.of("spec: " + e.getSpec().getClass().getSimpleName() + " (expected: "
          + expected.getSimpleName() + " for kind " + e.getKind() + ")");
    }
    return Optional.empty();
  }

  // ---- warnings ----

  private void setWarning(String resourceKey, String topic, String text, List<WarningChange> out) {
    Map<String, String> topics = warningsByResource.get(resourceKey);
    String before = topics == null ? null : topics.get(topic);
    if (java.util.Objects.equals(before, text)) return;
    if (text == null) {
      topics.remove(topic);
      if (topics.isEmpty()) warningsByResource.remove(resourceKey);
    } else {
      warningsByResource.computeIfAbsent(resourceKey, k -> new TreeMap<>()).put(topic, text);
    }
    out.add(new WarningChange(resourceKey, topic, text));
  }

  private void clearWarnings(String resourceKey, List<WarningChange> out) {
    // conflicts are cleared by the host recompile; an invalid marker goes with the resource
    setWarning(resourceKey, "invalid", null, out);
  }
}
