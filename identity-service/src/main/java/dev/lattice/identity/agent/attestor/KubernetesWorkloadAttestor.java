package dev.lattice.identity.agent.attestor;

import io.vertx.core.Future;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * The {@code k8s} attestor: {@code k8s:ns:<namespace>}, {@code k8s:sa:<service account>},
 * {@code k8s:pod-name:<name>} and {@code k8s:pod-label:<key>=<value>} from the caller's pod, as a
 * {@link PodResolver} finds it.
 *
 * <p>Thread-safe when its resolver is.
 */
public final class KubernetesWorkloadAttestor implements WorkloadAttestor {

  private final PodResolver pods;

  public KubernetesWorkloadAttestor(PodResolver pods) {
    this.pods = pods;
  }

  @Override
  public Future<Set<Selector>> attest(CallerProcess caller) {
    return pods.podOf(caller).map(pod -> {
      if (pod.isEmpty()) {
        return Set.of();
      }
      PodResolver.PodInfo info = pod.get();
      Set<Selector> selectors = new LinkedHashSet<>();
      selectors.add(new Selector("k8s", "ns:" + info.namespace()));
      selectors.add(new Selector("k8s", "sa:" + info.serviceAccount()));
      selectors.add(new Selector("k8s", "pod-name:" + info.podName()));
      info.labels().forEach((k, v) -> selectors.add(new Selector("k8s", "pod-label:" + k + "=" + v)));
      return Set.copyOf(selectors);
    });
  }
}
