package dev.lattice.distributor.ingest;

import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.events.ConfigResource;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.fold.FoldListener;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.topic.Topic;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Folds {@code lattice.config.v1} into a {@link SnapshotCache}: replays the compacted topic from the
 * beginning on its own thread (a restarted distributor rebuilds everything from the log), then follows
 * it. Undecodable records and records the distributor cannot serve go to the dead-letter topic; a record
 * whose key disagrees with its value is logged, counted and ignored. Thread-safe; the owner closes it.
 */
public final class ConfigFold implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(ConfigFold.class);

  private final TopicFold<ConfigResource> fold;
  private final AtomicLong rejected = new AtomicLong();

  private ConfigFold(Topic<String, ConfigResource> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters, SnapshotCache cache) {
    Topic<String, ConfigResource> validating = Topic.of(topic.spec(), topic.keySerde(), new ConfigRecordSerde());
    this.fold = TopicFold.builder(validating, consumerConfig, deadLetters)
        .listener(new FoldListener<>() {
          @Override
          public void upserted(String key, ConfigResource value, ConfigResource previous) {
            Optional<String> problem = cache.upsert(key, value);
            if (problem.isPresent()) {
              rejected.incrementAndGet();
              log.atWarn().addKeyValue("key", key).log("config record ignored: {}", problem.get());
            }
          }

          @Override
          public void deleted(String key, ConfigResource previous) {
            cache.remove(key);
          }
        })
        .build();
  }

  /** Starts folding {@code topic} into {@code cache}; returns at once. */
  public static ConfigFold start(Topic<String, ConfigResource> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters, SnapshotCache cache) {
    ConfigFold f = new ConfigFold(topic, consumerConfig, deadLetters, cache);
    f.fold.start();
    return f;
  }

  /** Whether the fold has read the topic up to where it ended at start (the readiness condition). */
  public boolean caughtUp() {
    return fold.caughtUp();
  }

  public CompletionStage<Void> whenCaughtUp() {
    return fold.whenCaughtUp();
  }

  /** Records sent to the dead-letter topic. */
  public long deadLettered() {
    return fold.deadLettered();
  }

  /** Records that decoded but were ignored (key/value mismatch). */
  public long rejected() {
    return rejected.get();
  }

  @Override
  public void close() {
    fold.close();
  }
}
