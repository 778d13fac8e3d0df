package dev.lattice.policy.kubernetes;

import dev.lattice.events.ResourceEvent;
import java.util.concurrent.CompletionStage;

/**
 * Where the Kubernetes source sends accepted resources: normally {@code lattice.resources.v1}
 * ({@link KafkaSinks}). Implementations are thread-safe and must not block.
 */
public interface ResourceSink {

  /** Publishes the current state of a resource (keyed {@code kind/namespace/name}). */
  CompletionStage<Void> upsert(ResourceEvent event);

  /** Publishes the deletion of {@code key} ({@code kind/namespace/name}). */
  CompletionStage<Void> delete(String key);
}
