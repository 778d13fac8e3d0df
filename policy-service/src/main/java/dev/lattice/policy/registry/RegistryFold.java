package dev.lattice.policy.registry;

import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.fold.FoldListener;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.topic.Topic;
import java.util.Map;

/**
 * Keeps a {@link RegistryIndex} in step with {@code lattice.registry.v1}: a {@link TopicFold} replays the
 * compacted topic and follows it; the index turns {@link RegistryIndex#available() available} once the
 * replay has caught up. Undecodable records go to the topic's dead-letter companion (the fold does it).
 *
 * <p>Thread-safe. The creator closes it (bounded: the fold's close timeout).
 */
public final class RegistryFold implements AutoCloseable {

  private final RegistryIndex index = new RegistryIndex();
  private final TopicFold<WorkloadEndpoint> fold;

  private RegistryFold(Topic<String, WorkloadEndpoint> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters) {
    this.fold = TopicFold.builder(topic, consumerConfig, deadLetters)
        .listener(new FoldListener<>() {
          @Override
          public void upserted(String key, WorkloadEndpoint value, WorkloadEndpoint previous) {
            RegisteredWorkload w = WorkloadEndpoints.toRegistered(value);
            if (!w.key().equals(key)) index.remove(key);
            index.put(w);
          }

          @Override
          public void deleted(String key, WorkloadEndpoint previous) {
            index.remove(key);
          }

          @Override
          public void caughtUp() {
            index.markAvailable();
          }
        })
        .build();
  }

  /**
   * Starts folding {@code topic}.
   *
   * @param consumerConfig consumer properties with at least {@code bootstrap.servers}
   * @param deadLetters where undecodable records go; owned by the caller
   */
  public static RegistryFold start(Topic<String, WorkloadEndpoint> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters) {
    RegistryFold f = new RegistryFold(topic, consumerConfig, deadLetters);
    f.fold.start();
    return f;
  }

  /** The live index (a {@link dev.lattice.policy.model.RegistryView}). */
  public RegistryIndex index() {
    return index;
  }

  /** Whether the replay has reached the end offsets that existed at start. */
  public boolean caughtUp() {
    return fold.caughtUp();
  }

  @Override
  public void close() {
    fold.close();
  }
}
