package dev.lattice.kit.topic;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.kafka.common.config.TopicConfig;

/**
 * What a topic must look like: name, partition count, cleanup policy, retention (deletion topics) and
 * extra topic configs. The replication factor and {@code min.insync.replicas} are not part of the spec:
 * they follow from the cluster size ({@link TopicCatalog#replicationFactor(int)}).
 *
 * <p>Immutable value; build with {@link #compacted} or {@link #deleted}.
 *
 * @param name legal Kafka topic name ({@code lattice.<entity>.v<N>})
 * @param partitions at least 1
 * @param cleanup compaction or deletion
 * @param retention how long records live; present exactly for {@link CleanupPolicy#DELETE}
 * @param extraConfigs further topic configs ({@code max.message.bytes}, …); never cleanup/retention
 */
public record TopicSpec(String name, int partitions, CleanupPolicy cleanup, Optional<Duration> retention,
    Map<String, String> extraConfigs) {

  /** Suffix of a topic's dead-letter companion. */
  public static final String DEAD_LETTER_SUFFIX = ".dlq";
  /** Retention of every dead-letter companion. */
  public static final Duration DEAD_LETTER_RETENTION = Duration.ofDays(14);

  private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

  public TopicSpec {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(cleanup, "cleanup");
    Objects.requireNonNull(retention, "retention");
    if (!LEGAL_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw new IllegalArgumentException("topic name: '" + name
          + "' (expected: 1..249 of [a-zA-Z0-9._-], not '.' or '..')");
    }
    if (partitions < 1) {
      throw new IllegalArgumentException(name + ": partitions " + partitions + " (expected: >= 1)");
    }
    if (cleanup == CleanupPolicy.DELETE && retention.isEmpty()) {
      throw new IllegalArgumentException(name + ": a delete topic needs a retention");
    }
    if (cleanup == CleanupPolicy.COMPACT && retention.isPresent()) {
      throw new IllegalArgumentException(name + ": retention " + retention.get()
          + " on a compacted topic (expected: none; compaction keeps the latest value per key)");
    }
    retention.ifPresent(r -> {
      if (r.isNegative() || r.isZero()) {
        throw new IllegalArgumentException(name + ": retention " + r + " (expected: > 0)");
      }
    });
    extraConfigs = Map.copyOf(extraConfigs);
    for (String reserved : new String[] {TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.RETENTION_MS_CONFIG,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG}) {
      if (extraConfigs.containsKey(reserved)) {
        throw new IllegalArgumentException(name + ": extra config " + reserved
            + " (expected: set through the spec's cleanup/retention or derived from the cluster size)");
      }
    }
  }

  /** A compacted topic (latest value per key; tombstones delete). */
  public static TopicSpec compacted(String name, int partitions) {
    return new TopicSpec(name, partitions, CleanupPolicy.COMPACT, Optional.empty(), Map.of());
  }

  /** A topic whose records are deleted after {@code retention}. */
  public static TopicSpec deleted(String name, int partitions, Duration retention) {
    return new TopicSpec(name, partitions, CleanupPolicy.DELETE, Optional.of(retention), Map.of());
  }

  /** The name of {@code topic}'s dead-letter companion: {@code <topic>.dlq}. */
  public static String deadLetterTopicName(String topic) {
    return topic + DEAD_LETTER_SUFFIX;
  }

  /** Whether this spec is itself a dead-letter companion. */
  public boolean isDeadLetter() {
    return name.endsWith(DEAD_LETTER_SUFFIX);
  }

  /** The dead-letter companion of this topic: {@code <name>.dlq}, 1 partition, delete after 14 days. */
  public TopicSpec deadLetter() {
    if (isDeadLetter()) {
      throw new IllegalStateException(name + " is already a dead-letter topic");
    }
    return deleted(deadLetterTopicName(name), 1, DEAD_LETTER_RETENTION);
  }

  /** A copy with one more topic config. */
  public TopicSpec withConfig(String key, String value) {
    Map<String, String> extra = new LinkedHashMap<>(extraConfigs);
    extra.put(key, value);
    return new TopicSpec(name, partitions, cleanup, retention, extra);
  }

  /** The topic configs to create this topic with on a cluster where {@code minInsyncReplicas} applies. */
  public Map<String, String> topicConfigs(int minInsyncReplicas) {
    Map<String, String> configs = new LinkedHashMap<>(extraConfigs);
    configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, cleanup.configValue());
    retention.ifPresent(r -> configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(r.toMillis())));
    configs.put(TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, Integer.toString(minInsyncReplicas));
    return Map.copyOf(configs);
  }
}
