package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.policy.DestinationPolicySpec;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.events.policy.WorkloadSelector;
import dev.lattice.policy.model.ResourceKey;
import dev.lattice.policy.model.ServiceHost;
import dev.lattice.policy.registry.RegisteredWorkload;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The compiler's input state: every accepted resource and every registered workload, with the indexes
 * compilation needs (routes and destination policies by host, workloads by host, node and namespace,
 * selecting resources by namespace). A fold of {@code lattice.resources.v1} × {@code lattice.registry.v1}.
 *
 * <p>Not thread-safe: owned by one Streams task (or one benchmark/test thread).
 */
public final class MeshState {

  /** Resource kinds as they appear in keys and {@code ResourceEvent.kind}. */
  public static final String TRAFFIC_ROUTE = "TrafficRoute";
  public static final String DESTINATION_POLICY = "DestinationPolicy";
  public static final String PEER_AUTHENTICATION = "PeerAuthentication";
  public static final String AUTHORIZATION_POLICY = "AuthorizationPolicy";
  public static final String RATE_LIMIT_POLICY = "RateLimitPolicy";

  /** Resources ordered for conflict resolution: older creationTimestamp first, then by key. */
  public static final Comparator<ResourceEvent> OLDEST_FIRST = Comparator
      .comparing((ResourceEvent e) -> e.getCreationTimestamp())
      .thenComparing(MeshState::key);

  private final MeshSettings mesh;
  private final String rootNamespace;
  private final Map<String, ResourceEvent> resources = new HashMap<>();
  private final Map<String, RegisteredWorkload> workloads = new HashMap<>();
  private final Map<String, SortedSet<String>> routesByHost = new HashMap<>();
  private final Map<String, SortedSet<String>> destinationPoliciesByHost = new HashMap<>();
  private final Map<String, SortedSet<String>> selectingByNamespace = new HashMap<>();
  private final Map<String, SortedSet<String>> workloadsByHost = new HashMap<>();
  private final Map<String, SortedSet<String>> workloadsByNode = new TreeMap<>();
  private final Map<String, SortedSet<String>> workloadsByNamespace = new HashMap<>();

  /** @param rootNamespace the mesh root namespace: selecting resources there apply to every namespace */
  public MeshState(String rootNamespace) {
    this(MeshSettings.DEFAULTS.withRootNamespace(rootNamespace));
  }

  /** @param mesh the mesh-wide settings; selecting resources in its root namespace apply to every namespace */
  public MeshState(MeshSettings mesh) {
    this.mesh = mesh;
    this.rootNamespace = mesh.rootNamespace();
  }

  /** The mesh-wide settings every compiled config carries. */
  public MeshSettings mesh() {
    return mesh;
  }

  public String rootNamespace() {
    return rootNamespace;
  }

  /** {@code kind/namespace/name} of an event. */
  public static String key(ResourceEvent e) {
    return ResourceKey.of(e);
  }

  // ---- resources ----

  /** Adds or replaces a resource; returns the previous version or null. */
  public ResourceEvent putResource(ResourceEvent event) {
    String key = key(event);
    ResourceEvent old = resources.put(key, event);
    if (old != null) unindex(key, old);
    index(key, event);
    return old;
  }

  /** Removes a resource; returns what was removed or null. */
  public ResourceEvent removeResource(String key) {
    ResourceEvent old = resources.remove(key);
    if (old != null) unindex(key, old);
    return old;
  }

  public ResourceEvent resource(String key) {
    return resources.get(key);
  }

  public int resourceCount() {
    return resources.size();
  }

  /** Canonical hosts a TrafficRoute or DestinationPolicy is about (empty for other kinds). */
  public static Set<String> hostsOf(ResourceEvent e) {
    if (e == null) return Set.of();
    Object spec = e.getSpec();
    if (spec instanceof TrafficRouteSpec tr) {
      Set<String> hosts = new TreeSet<>();
      for (String h : tr.getHosts()) hosts.add(ServiceHost.canonical(h, e.getNamespace()));
      return hosts;
    }
    if (spec instanceof DestinationPolicySpec dp) {
      return Set.of(ServiceHost.canonical(dp.getHost(), e.getNamespace()));
    }
    return Set.of();
  }

  private void index(String key, ResourceEvent e) {
    switch (e.getKind()) {
      case TRAFFIC_ROUTE -> hostsOf(e).forEach(h -> add(routesByHost, h, key));
      case DESTINATION_POLICY -> hostsOf(e).forEach(h -> add(destinationPoliciesByHost, h, key));
      default -> add(selectingByNamespace, e.getNamespace(), key);
    }
  }

  private void unindex(String key, ResourceEvent e) {
    switch (e.getKind()) {
      case TRAFFIC_ROUTE -> hostsOf(e).forEach(h -> remove(routesByHost, h, key));
      case DESTINATION_POLICY -> hostsOf(e).forEach(h -> remove(destinationPoliciesByHost, h, key));
      default -> remove(selectingByNamespace, e.getNamespace(), key);
    }
  }

  /** TrafficRoutes naming {@code host}, oldest first (the first one wins). */
  public List<ResourceEvent> routesFor(String host) {
    return sortedResources(routesByHost.get(host));
  }

  /** DestinationPolicies for {@code host}, oldest first (the first one wins). */
  public List<ResourceEvent> destinationPoliciesFor(String host) {
    return sortedResources(destinationPoliciesByHost.get(host));
  }

  /**
   * Resources of {@code kind} that apply to {@code workload}: those in its namespace or the root
   * namespace whose selector (absent = all) matches its labels; sorted by key.
   */
  public List<ResourceEvent> selecting(String kind, RegisteredWorkload workload) {
    List<ResourceEvent> out = new java.util.ArrayList<>();
    for (String ns : workload.namespace().equals(rootNamespace)
        ? List.of(rootNamespace) : List.of(rootNamespace, workload.namespace())) {
      for (String key : selectingByNamespace.getOrDefault(ns, EMPTY)) {
        ResourceEvent e = resources.get(key);
        if (e.getKind().equals(kind) && selects(e, workload)) out.add(e);
      }
    }
    out.sort(Comparator.comparing(MeshState::key));
    return out;
  }

  /** Whether a selecting resource (AuthorizationPolicy, PeerAuthentication, RateLimitPolicy) applies. */
  public boolean selects(ResourceEvent e, RegisteredWorkload w) {
    if (!e.getNamespace().equals(rootNamespace) && !e.getNamespace().equals(w.namespace())) return false;
    WorkloadSelector selector = selectorOf(e);
    return selector == null || w.matches(selector.getMatchLabels());
  }

  /** The selector of a selecting resource, or null (absent selector = whole namespace). */
  public static WorkloadSelector selectorOf(ResourceEvent e) {
    Object spec = e.getSpec();
    if (spec instanceof dev.lattice.events.policy.AuthorizationPolicySpec s) return s.getSelector();
    if (spec instanceof dev.lattice.events.policy.PeerAuthenticationSpec s) return s.getSelector();
    if (spec instanceof dev.lattice.events.policy.RateLimitPolicySpec s) return s.getSelector();
    return null;
  }

  /** Workload keys a selecting resource applies to (none for route kinds). */
  public SortedSet<String> workloadsSelectedBy(ResourceEvent e) {
    SortedSet<String> out = new TreeSet<>();
    if (e == null || routeKind(e.getKind())) return out;
    Collection<String> candidates = e.getNamespace().equals(rootNamespace)
        ? workloads.keySet() : workloadsByNamespace.getOrDefault(e.getNamespace(), EMPTY);
    for (String k : candidates) {
      if (selects(e, workloads.get(k))) out.add(k);
    }
    return out;
  }

  static boolean routeKind(String kind) {
    return kind.equals(TRAFFIC_ROUTE) || kind.equals(DESTINATION_POLICY);
  }

  // ---- workloads ----

  /** Adds or replaces a workload; returns the previous one or null. */
  public RegisteredWorkload putWorkload(RegisteredWorkload w) {
    RegisteredWorkload old = workloads.put(w.key(), w);
    if (old != null) unindex(old);
    add(workloadsByNamespace, w.namespace(), w.key());
    w.services().forEach(h -> add(workloadsByHost, h, w.key()));
    if (!w.node().isEmpty()) add(workloadsByNode, w.node(), w.key());
    return old;
  }

  /** Removes a workload; returns it or null. */
  public RegisteredWorkload removeWorkload(String key) {
    RegisteredWorkload old = workloads.remove(key);
    if (old != null) unindex(old);
    return old;
  }

  private void unindex(RegisteredWorkload w) {
    remove(workloadsByNamespace, w.namespace(), w.key());
    w.services().forEach(h -> remove(workloadsByHost, h, w.key()));
    if (!w.node().isEmpty()) remove(workloadsByNode, w.node(), w.key());
  }

  public RegisteredWorkload workload(String key) {
    return workloads.get(key);
  }

  public int workloadCount() {
    return workloads.size();
  }

  /** Instances backing {@code host}, sorted by key. */
  public List<RegisteredWorkload> endpointsOf(String host) {
    return workloadsByHost.getOrDefault(host, EMPTY).stream().map(workloads::get).toList();
  }

  /** Every host that has at least one instance, sorted. */
  public SortedSet<String> hosts() {
    return new TreeSet<>(workloadsByHost.keySet());
  }

  /** Every node serving at least one instance, sorted. */
  public SortedSet<String> nodes() {
    return new TreeSet<>(workloadsByNode.keySet());
  }

  /** Keys of the instances a node serves, sorted. */
  public SortedSet<String> workloadsOn(String node) {
    return workloadsByNode.getOrDefault(node, EMPTY);
  }

  /** Every workload key, sorted. */
  public SortedSet<String> workloadKeys() {
    return new TreeSet<>(workloads.keySet());
  }

  // ---- helpers ----

  private static final SortedSet<String> EMPTY = java.util.Collections.emptySortedSet();

  private List<ResourceEvent> sortedResources(Set<String> keys) {
    if (keys == null) return List.of();
    return keys.stream().map(resources::get).sorted(OLDEST_FIRST).toList();
  }

  private static void add(Map<String, SortedSet<String>> index, String k, String v) {
    index.computeIfAbsent(k, x -> new TreeSet<>()).add(v);
  }

  private static void remove(Map<String, SortedSet<String>> index, String k, String v) {
    SortedSet<String> set = index.get(k);
    if (set != null) {
      set.remove(v);
      if (set.isEmpty()) index.remove(k);
    }
  }
}
