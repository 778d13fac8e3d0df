package dev.lattice.kit.topic;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.LeaderNotAvailableException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Idempotent create-or-verify of topics at service start: creates every missing topic with its spec's
 * partitions and configs (replication from the cluster size), and checks existing ones — a different
 * cleanup policy fails with a {@link TopicMismatchException} naming topic, expected and seen; fewer
 * partitions than the spec is a warning (Kafka cannot shrink, and growing would move keys).
 *
 * <p>Fully asynchronous on the Admin client's own thread: safe to call from a Vert.x event loop
 * ({@code Future.fromCompletionStage(stage, context)} hops back). Several service instances may
 * provision concurrently: a topic another instance created first is verified instead. Thread-safe;
 * the Admin client belongs to the caller, who closes it.
 */
public final class TopicProvisioner {

  private static final Logger LOG = LoggerFactory.getLogger(TopicProvisioner.class);

  private static final int METADATA_ATTEMPTS = 50;
  private static final Executor METADATA_RETRY =
      CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS);

  private final Admin admin;

  public TopicProvisioner(Admin admin) {
    this.admin = admin;
  }

  /** Provisions {@link TopicCatalog#allTopics()}: every event topic and its dead-letter companion. */
  public CompletionStage<ProvisioningReport> ensureCatalog() {
    return ensure(TopicCatalog.allTopics());
  }

  /**
   * Creates what is missing and verifies what exists.
   *
   * @return completes with the report, or fails with {@link TopicMismatchException} (cleanup policy
   *     differs) or the Admin client's error (broker unreachable, not authorized, …)
   */
  public CompletionStage<ProvisioningReport> ensure(Collection<TopicSpec> specs) {
    Map<String, TopicSpec> byName = new LinkedHashMap<>();
    specs.forEach(s -> byName.put(s.name(), s));
    return stage(admin.describeCluster().nodes()).thenCompose(nodes -> {
      int brokers = nodes.size();
      short rf = TopicCatalog.replicationFactor(brokers);
      int minIsr = TopicCatalog.minInsyncReplicas(rf);
      return stage(admin.listTopics().names())
          .thenCompose(existing -> createMissing(byName, existing, rf, minIsr))
          .thenCompose(created -> {
            List<String> toVerify = byName.keySet().stream().filter(n -> !created.contains(n)).toList();
            // Created topics are verified too: their partitions must have leaders before anyone
            // produces, or an idempotent producer can stall on OutOfOrderSequence retries (seen on 4.4).
            return verifyWhenVisible(byName, List.copyOf(byName.keySet()), METADATA_ATTEMPTS).thenApply(warnings ->
                report(brokers, rf, created, toVerify, warnings));
          });
    });
  }

  private CompletionStage<List<String>> createMissing(Map<String, TopicSpec> byName, Set<String> existing,
      short rf, int minIsr) {
    List<NewTopic> missing = byName.values().stream()
        .filter(s -> !existing.contains(s.name()))
        .map(s -> new NewTopic(s.name(), s.partitions(), rf).configs(s.topicConfigs(minIsr)))
        .toList();
    if (missing.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    Map<String, KafkaFuture<Void>> results = admin.createTopics(missing).values();
    List<String> created = new ArrayList<>();
    List<CompletableFuture<Void>> each = new ArrayList<>();
    results.forEach((name, future) -> each.add(stage(future).<Void>handle((ok, err) -> {
      Throwable cause = unwrap(err);
      if (cause == null) {
        synchronized (created) {
          created.add(name);
        }
        return null;
      }
      if (cause instanceof TopicExistsException) {
        // Another instance won the race; the topic gets verified like any existing one.
        return null;
      }
      throw new CompletionException("create topic " + name + ": " + cause.getMessage(), cause);
    }).toCompletableFuture()));
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new)).thenApply(v -> {
      synchronized (created) {
        return List.copyOf(created);
      }
    });
  }

  /**
   * A topic another instance (or an operator) just created may not be in the answering broker's metadata
   * yet: retry a few times before treating "unknown topic" as an error.
   */
  private CompletionStage<List<String>> verifyWhenVisible(Map<String, TopicSpec> byName, List<String> names,
      int attemptsLeft) {
    return verify(byName, names).handle((warnings, err) -> {
      Throwable cause = unwrap(err);
      if (cause == null) {
        return CompletableFuture.completedFuture(warnings);
      }
      if ((cause instanceof UnknownTopicOrPartitionException || cause instanceof LeaderNotAvailableException)
          && attemptsLeft > 1) {
        return CompletableFuture.supplyAsync(() -> null, METADATA_RETRY)
            .thenCompose(v -> verifyWhenVisible(byName, names, attemptsLeft - 1));
      }
      return CompletableFuture.<List<String>>failedFuture(cause);
    }).thenCompose(stage -> stage);
  }

  private CompletionStage<List<String>> verify(Map<String, TopicSpec> byName, List<String> names) {
    if (names.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    List<ConfigResource> resources = names.stream()
        .map(n -> new ConfigResource(ConfigResource.Type.TOPIC, n)).toList();
    CompletionStage<Map<String, TopicDescription>> descriptions =
        stage(admin.describeTopics(names).allTopicNames());
    CompletionStage<Map<ConfigResource, Config>> configs = stage(admin.describeConfigs(resources).all());
    return descriptions.thenCombine(configs, (desc, conf) -> {
      List<String> mismatches = new ArrayList<>();
      List<String> warnings = new ArrayList<>();
      for (String name : names) {
        TopicSpec spec = byName.get(name);
        ConfigEntry policy = conf.get(new ConfigResource(ConfigResource.Type.TOPIC, name))
            .get(TopicConfig.CLEANUP_POLICY_CONFIG);
        Set<String> seen = policy == null ? Set.of() : policySet(policy.value());
        if (!seen.equals(Set.of(spec.cleanup().configValue()))) {
          mismatches.add(name + ": cleanup.policy " + String.join(",", new TreeSet<>(seen))
              + " (expected: " + spec.cleanup().configValue() + ")");
        }
        int partitions = desc.get(name).partitions().size();
        if (partitions < spec.partitions()) {
          warnings.add(name + ": " + partitions + " partitions (expected: " + spec.partitions()
              + "; fewer partitions limit parallelism)");
        }
      }
      if (!mismatches.isEmpty()) {
        throw new TopicMismatchException(mismatches);
      }
      for (String name : names) {
        desc.get(name).partitions().forEach(p -> {
          if (p.leader() == null || p.leader().isEmpty()) {
            throw new LeaderNotAvailableException(name + "-" + p.partition() + " has no leader yet");
          }
        });
      }
      return warnings;
    });
  }

  private static ProvisioningReport report(int brokers, short rf, List<String> created, List<String> verified,
      List<String> warnings) {
    ProvisioningReport report = new ProvisioningReport(brokers, rf, created, verified, warnings);
    if (!created.isEmpty()) {
      LOG.info("Created topics {} (replication factor {})", created, rf);
    }
    warnings.forEach(w -> LOG.warn("Topic check: {}", w));
    return report;
  }

  private static Set<String> policySet(String value) {
    return Arrays.stream(value.split(","))
        .map(s -> s.trim().toLowerCase(Locale.ROOT))
        .filter(s -> !s.isEmpty())
        .collect(Collectors.toSet());
  }

  private static <T> CompletionStage<T> stage(KafkaFuture<T> future) {
    return future.toCompletionStage();
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
