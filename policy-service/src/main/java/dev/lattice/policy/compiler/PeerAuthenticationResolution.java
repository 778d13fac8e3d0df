package dev.lattice.policy.compiler;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.PeerAuthenticationMtls;
import dev.lattice.events.policy.PeerAuthenticationSpec;
import dev.lattice.policy.registry.RegisteredWorkload;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The effective inbound mTLS mode of one workload, resolved as Istio does: a workload-level policy
 * (selector, same namespace) beats a namespace-level one (no selector, same namespace), which beats the
 * mesh-level one (no selector, root namespace); at one level the oldest policy wins; {@code UNSET}
 * inherits from the level above; nothing at all means PERMISSIVE. Port-level modes come only from the
 * workload-level policy.
 *
 * @param mode effective mode, never UNSET
 * @param portModes per-port overrides keyed by port number (decimal string), sorted
 * @param sources keys of the policies that decided, sorted
 */
public record PeerAuthenticationResolution(
    MtlsMode mode, Map<String, MtlsMode> portModes, List<String> sources) {

  /** Resolves the mode of {@code w}. Pure function of the state. */
  public static PeerAuthenticationResolution resolve(MeshState state, RegisteredWorkload w) {
    ResourceEvent mesh = null;
    ResourceEvent namespace = null;
    ResourceEvent workload = null;
    for (ResourceEvent e : state.selecting(MeshState.PEER_AUTHENTICATION, w)) {
      PeerAuthenticationSpec spec = (PeerAuthenticationSpec) e.getSpec();
      boolean hasSelector = spec.getSelector() != null && !spec.getSelector().getMatchLabels().isEmpty();
      if (hasSelector) {
        if (!e.getNamespace().equals(w.namespace())) continue; // selectors apply in their own namespace
        workload = older(workload, e);
      } else if (e.getNamespace().equals(w.namespace()) && !w.namespace().equals(state.rootNamespace())) {
        namespace = older(namespace, e);
      } else if (e.getNamespace().equals(state.rootNamespace())) {
        mesh = older(mesh, e);
      }
    }
    MtlsMode mode = MtlsMode.PERMISSIVE;
    List<String> sources = new ArrayList<>();
    for (ResourceEvent level : new ResourceEvent[] {mesh, namespace, workload}) {
      if (level == null) continue;
      PeerAuthenticationMtls mtls = ((PeerAuthenticationSpec) level.getSpec()).getMtls();
      if (mtls != null && mtls.getMode() != MtlsMode.UNSET) {
        mode = mtls.getMode();
        sources.add(MeshState.key(level));
      }
    }
    Map<String, MtlsMode> ports = new TreeMap<>();
    if (workload != null) {
      for (Map.Entry<String, PeerAuthenticationMtls> p
          : ((PeerAuthenticationSpec) workload.getSpec()).getPortLevelMtls().entrySet()) {
        MtlsMode m = p.getValue().getMode();
        ports.put(p.getKey(), m == MtlsMode.UNSET ? mode : m);
      }
      if (!ports.isEmpty() && !sources.contains(MeshState.key(workload))) {
        sources.add(MeshState.key(workload));
      }
    }
    return new PeerAuthenticationResolution(mode, ports, sources.stream().sorted().toList());
  }

  /** The mode on {@code port} (a port-level override, else the workload mode). */
  public MtlsMode modeOn(int port) {
    return portModes.getOrDefault(Integer.toString(port), mode);
  }

  private static ResourceEvent older(ResourceEvent current, ResourceEvent candidate) {
    return current == null || MeshState.OLDEST_FIRST.compare(candidate, current) < 0 ? candidate : current;
  }
}
