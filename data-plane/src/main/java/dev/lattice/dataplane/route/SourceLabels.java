package dev.lattice.dataplane.route;

import dev.lattice.authz.PeerIdentity;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Labels and namespaces of the mesh workloads by IP, taken from every cluster endpoint of a snapshot: a
 * node proxy serves many workloads, so Istio's {@code sourceLabels} and {@code sourceNamespace} are judged
 * per request from the caller's IP rather than once per sidecar. An IP that several endpoints share carries
 * each of their label sets; a route accepts the caller when one of them holds every required label. An IP
 * whose endpoints' SPIFFE IDs name different namespaces has no namespace (it matches no
 * {@code sourceNamespace}). Immutable.
 */
public final class SourceLabels {
  private static final SourceLabels NONE = new SourceLabels(Map.of(), Map.of(), Map.of());
  /** Marks an IP shared by workloads of several namespaces while building. */
  private static final String AMBIGUOUS = "";
  private final Map<String, List<Map<String, String>>> byIp;
  private final Map<String, String> namespaceByIp;
  private final Map<String, String> spiffeIdByIp;

  private SourceLabels(Map<String, List<Map<String, String>>> byIp, Map<String, String> namespaceByIp,
      Map<String, String> spiffeIdByIp) {
    this.byIp = byIp;
    this.namespaceByIp = namespaceByIp;
    this.spiffeIdByIp = spiffeIdByIp;
  }

  public static SourceLabels none() {
    return NONE;
  }

  public static SourceLabels of(Collection<ClusterConfig> clusters) {
    Map<String, List<Map<String, String>>> byIp = new HashMap<>();
    Map<String, String> namespaces = new HashMap<>();
    Map<String, String> ids = new HashMap<>();
    for (ClusterConfig c : clusters) {
      for (ClusterEndpoint e : c.getEndpoints()) {
        String ns = namespaceOfId(e.getSpiffeId());
        if (ns != null) {
          namespaces.merge(e.getAddress(), ns, (a, b) -> a.equals(b) ? a : AMBIGUOUS);
          ids.merge(e.getAddress(), e.getSpiffeId(), (a, b) -> a.equals(b) ? a : AMBIGUOUS);
        }
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
    namespaces.values().removeIf(AMBIGUOUS::equals);
    ids.values().removeIf(AMBIGUOUS::equals);
    return new SourceLabels(Map.copyOf(frozen), Map.copyOf(namespaces), Map.copyOf(ids));
  }

  /** The {@code /ns/<namespace>/} of an endpoint's SPIFFE ID; null when unset or not of that form. */
  private static String namespaceOfId(String spiffeId) {
    if (spiffeId == null || spiffeId.isEmpty()) {
      return null;
    }
    try {
      return PeerIdentity.of(spiffeId).namespace();
    } catch (IllegalArgumentException e) {
      return null; // a malformed ID names no namespace; the snapshot's own checks report it
    }
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

  /** The namespace of the workloads at {@code ip} (from their SPIFFE IDs), or null when unknown or ambiguous. */
  public String namespaceOf(String ip) {
    return ip == null ? null : namespaceByIp.get(ip);
  }

  /** The SPIFFE ID of the workload at {@code ip}, or null when unknown or several workloads share it. */
  public String spiffeIdOf(String ip) {
    return ip == null ? null : spiffeIdByIp.get(ip);
  }

  /** True when no endpoint names a SPIFFE ID (no caller can be identified by its address). */
  public boolean noSpiffeIds() {
    return spiffeIdByIp.isEmpty();
  }
}
