package dev.lattice.dataplane.route;

import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Labels of the mesh workloads by IP, taken from every cluster endpoint of a snapshot: a node proxy
 * serves many workloads, so Istio's {@code sourceLabels} is judged per request from the caller's IP
 * rather than once per sidecar. An IP that several endpoints share carries each of their label sets;
 * a route accepts the caller when one of them holds every required label. Immutable.
 */
public final class SourceLabels {
  private static final SourceLabels NONE = new SourceLabels(Map.of());
  private final Map<String, List<Map<String, String>>> byIp;

  private SourceLabels(Map<String, List<Map<String, String>>> byIp) {
    this.byIp = byIp;
  }

  public static SourceLabels none() {
    return NONE;
  }

  public static SourceLabels of(Collection<ClusterConfig> clusters) {
    Map<String, List<Map<String, String>>> byIp = new HashMap<>();
    for (ClusterConfig c : clusters) {
      for (ClusterEndpoint e : c.getEndpoints()) {
        if (e.getLabels().isEmpty()) {
          continue;
        }
        Map<String, String> labels = Map.copyOf(e.getLabels());
        List<Map<String, String>> sets = byIp.computeIfAbsent(e.getAddress(), k -> new ArrayList<>());
        if (!sets.contains(labels)) {
          sets.add(labels);
        }
      }
    }
    Map<String, List<Map<String, String>>> frozen = new HashMap<>();
    byIp.forEach((ip, sets) -> frozen.put(ip, List.copyOf(sets)));
    return new SourceLabels(Map.copyOf(frozen));
  }

  /** True when a workload at {@code ip} carries every label of {@code required}. */
  public boolean matches(String ip, Map<String, String> required) {
    if (required.isEmpty()) {
      return true;
    }
    List<Map<String, String>> sets = ip == null ? null : byIp.get(ip);
    if (sets == null) {
      return false;
    }
    for (Map<String, String> labels : sets) {
      if (labels.entrySet().containsAll(required.entrySet())) {
        return true;
      }
    }
    return false;
  }
}
