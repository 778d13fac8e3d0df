package dev.lattice.policy.registry;

import dev.lattice.events.WorkloadEndpoint;
import java.util.concurrent.CompletionStage;

/**
 * Where registry sources (Kubernetes, the static registry) send workload instances: normally {@code lattice.registry.v1}
 * ({@link KafkaSinks}). Implementations are thread-safe and must not block.
 */
public interface RegistrySink {

  /** Publishes an instance (keyed {@code namespace/workload/instance}). */
  CompletionStage<Void> upsert(WorkloadEndpoint endpoint);

  /** Publishes the removal of {@code key} ({@code namespace/workload/instance}). */
  CompletionStage<Void> delete(String key);
}
