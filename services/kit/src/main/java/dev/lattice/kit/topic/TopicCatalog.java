package dev.lattice.kit.topic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Every Lattice topic (the design's topic catalog) and its dead-letter companion, plus the rules that
 * derive replication from the cluster size: replication factor {@code min(3, brokers)},
 * {@code min.insync.replicas} 2 when the replication factor is at least 3, else 1.
 *
 * <p>Stateless; the specs are immutable constants.
 */
public final class TopicCatalog {

  public static final TopicSpec RESOURCES = TopicSpec.compacted("lattice.resources.v1", 6);
  public static final TopicSpec RESOURCES_REJECTED =
      TopicSpec.deleted("lattice.resources.rejected.v1", 3, Duration.ofDays(7));
  public static final TopicSpec REGISTRY = TopicSpec.compacted("lattice.registry.v1", 6);
  public static final TopicSpec ENTRIES = TopicSpec.compacted("lattice.entries.v1", 3);
  public static final TopicSpec BUNDLES = TopicSpec.compacted("lattice.bundles.v1", 1);
  public static final TopicSpec IDENTITY_AUDIT =
      TopicSpec.deleted("lattice.identity.audit.v1", 3, Duration.ofDays(30));
  public static final TopicSpec CONFIG = TopicSpec.compacted("lattice.config.v1", 12);
  public static final TopicSpec CONFIG_STATUS = TopicSpec.compacted("lattice.config.status.v1", 6);
  public static final TopicSpec FLOWS = TopicSpec.deleted("lattice.flows.v1", 12, Duration.ofHours(24));
  public static final TopicSpec METRICS = TopicSpec.deleted("lattice.metrics.v1", 6, Duration.ofDays(7));

  private static final List<TopicSpec> PRIMARY = List.of(RESOURCES, RESOURCES_REJECTED, REGISTRY, ENTRIES,
      BUNDLES, IDENTITY_AUDIT, CONFIG, CONFIG_STATUS, FLOWS, METRICS);

  private TopicCatalog() {}

  /** The ten event topics, in the design's order. */
  public static List<TopicSpec> primaryTopics() {
    return PRIMARY;
  }

  /** The event topics followed by their dead-letter companions: what a service start provisions. */
  public static List<TopicSpec> allTopics() {
    List<TopicSpec> all = new ArrayList<>(PRIMARY);
    PRIMARY.forEach(spec -> all.add(spec.deadLetter()));
    return List.copyOf(all);
  }

  /** The spec of a catalog topic or dead-letter companion by name. */
  public static Optional<TopicSpec> find(String name) {
    return allTopics().stream().filter(s -> s.name().equals(name)).findFirst();
  }

  /** {@code min(3, brokers)}. */
  public static short replicationFactor(int brokers) {
    if (brokers < 1) {
      throw new IllegalArgumentException("brokers: " + brokers + " (expected: >= 1)");
    }
    return (short) Math.min(3, brokers);
  }

  /** 2 when {@code replicationFactor >= 3}, else 1. */
  public static int minInsyncReplicas(int replicationFactor) {
    return replicationFactor >= 3 ? 2 : 1;
  }
}
