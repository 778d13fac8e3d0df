package dev.lattice.policy.kubernetes;

import dev.lattice.policy.registry.RegistrySink;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.policy.model.ResourceKey;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.topic.Topic;
import dev.lattice.policy.registry.WorkloadEndpoints;
import java.util.concurrent.CompletionStage;

/**
 * {@link ResourceSink} and {@link RegistrySink} on Kafka through the kit's non-blocking
 * {@link EventPublisher} (idempotent producer, acks=all). Thread-safe; the publisher is the caller's.
 */
public final class KafkaSinks {

  private KafkaSinks() {}

  /** Resources to {@code topic} ({@code lattice.resources.v1}). */
  public static ResourceSink resources(EventPublisher publisher, Topic<String, ResourceEvent> topic) {
    return new ResourceSink() {
      @Override
      public CompletionStage<Void> upsert(ResourceEvent event) {
        String key = ResourceKey.of(event);
        return publisher.publish(topic, key, event).<Void>mapEmpty().toCompletionStage();
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        return publisher.publish(topic, key, (ResourceEvent) null).<Void>mapEmpty().toCompletionStage();
      }
    };
  }

  /** Workloads to {@code topic} ({@code lattice.registry.v1}). */
  public static RegistrySink registry(EventPublisher publisher, Topic<String, WorkloadEndpoint> topic) {
    return new RegistrySink() {
      @Override
      public CompletionStage<Void> upsert(WorkloadEndpoint endpoint) {
        return publisher.publish(topic, WorkloadEndpoints.key(endpoint), endpoint).<Void>mapEmpty()
            .toCompletionStage();
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        return publisher.publish(topic, key, (WorkloadEndpoint) null).<Void>mapEmpty().toCompletionStage();
      }
    };
  }
}
