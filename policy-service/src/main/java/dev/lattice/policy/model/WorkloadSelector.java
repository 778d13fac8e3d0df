package dev.lattice.policy.model;

import java.util.Map;

/**
 * Selects workloads by labels, as Istio's {@code WorkloadSelector}: every label must match exactly.
 * An absent selector means every workload of the resource's namespace. Immutable value.
 */
public record WorkloadSelector(Map<String, String> matchLabels) {

  public WorkloadSelector {
    matchLabels = ModelCollections.map(matchLabels);
  }

  /** Whether a workload carrying {@code labels} is selected. */
  public boolean matches(Map<String, String> labels) {
    for (Map.Entry<String, String> e : matchLabels.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
