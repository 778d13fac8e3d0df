package dev.lattice.identity.agent.attestor;

import io.vertx.core.Future;
import java.util.Map;
import java.util.Optional;

/**
 * Finds the Kubernetes pod a process belongs to (on a node: cgroup of the pid → container id → the
 * kubelet's pod list). The seam for the {@code k8s} workload attestor; Lattice's node agent runs
 * without one outside Kubernetes.
 *
 * <p>Implementations are thread-safe and never block the calling event loop.
 */
public interface PodResolver {

  /** What the agent knows about a pod. */
  record PodInfo(String namespace, String serviceAccount, String podName, Map<String, String> labels) {
    public PodInfo {
      labels = Map.copyOf(labels);
    }
  }

  /** The pod of {@code caller}, or empty when the process is not in a pod. */
  Future<Optional<PodInfo>> podOf(CallerProcess caller);
}
