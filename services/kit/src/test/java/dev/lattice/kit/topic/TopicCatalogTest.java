package dev.lattice.kit.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicCatalogTest {

  @ParameterizedTest(name = "{0}: {1} partitions, {2} {3}")
  @CsvSource({
      "lattice.resources.v1, 6, compact, ",
      "lattice.resources.rejected.v1, 3, delete, P7D",
      "lattice.registry.v1, 6, compact, ",
      "lattice.entries.v1, 3, compact, ",
      "lattice.bundles.v1, 1, compact, ",
      "lattice.identity.audit.v1, 3, delete, P30D",
      "lattice.config.v1, 12, compact, ",
      "lattice.config.status.v1, 6, compact, ",
      "lattice.flows.v1, 12, delete, PT24H",
      "lattice.metrics.v1, 6, delete, P7D",
  })
  void catalogMatchesTheDesignTable(String name, int partitions, String cleanup, String retention) {
    TopicSpec spec = TopicCatalog.find(name).orElseThrow();
    assertThat(spec.partitions()).isEqualTo(partitions);
    assertThat(spec.cleanup().configValue()).isEqualTo(cleanup);
    assertThat(spec.retention()).isEqualTo(Optional.ofNullable(retention).map(Duration::parse));

    TopicSpec dlq = TopicCatalog.find(name + ".dlq").orElseThrow();
    assertThat(dlq.partitions()).isEqualTo(1);
    assertThat(dlq.cleanup()).isEqualTo(CleanupPolicy.DELETE);
    assertThat(dlq.retention()).contains(Duration.ofDays(14));
  }

  @Test
  void allTopicsAreTheTenEventTopicsAndTheirDeadLetterCompanions() {
    assertThat(TopicCatalog.primaryTopics()).hasSize(10);
    assertThat(TopicCatalog.allTopics()).hasSize(20)
        .extracting(TopicSpec::name).doesNotHaveDuplicates();
    assertThat(LatticeTopics.all()).extracting(Topic::spec)
        .containsExactlyElementsOf(TopicCatalog.primaryTopics());
  }

  @ParameterizedTest(name = "{0} brokers -> rf {1}, min.insync {2}")
  @CsvSource({"1, 1, 1", "2, 2, 1", "3, 3, 2", "5, 3, 2"})
  void replicationFollowsClusterSize(int brokers, short rf, int minIsr) {
    assertThat(TopicCatalog.replicationFactor(brokers)).isEqualTo(rf);
    assertThat(TopicCatalog.minInsyncReplicas(rf)).isEqualTo(minIsr);
  }

  @Test
  void topicConfigsCarryCleanupRetentionAndMinInsync() {
    assertThat(TopicCatalog.FLOWS.topicConfigs(2)).isEqualTo(Map.of(
        "cleanup.policy", "delete", "retention.ms", "86400000", "min.insync.replicas", "2"));
    assertThat(TopicCatalog.RESOURCES.withConfig("max.message.bytes", "2097152").topicConfigs(1))
        .isEqualTo(Map.of("cleanup.policy", "compact", "min.insync.replicas", "1",
            "max.message.bytes", "2097152"));
  }

  @Test
  void specsRejectWhatKafkaWouldRejectOrWhatContradictsTheirPolicy() {
    assertThatThrownBy(() -> TopicSpec.compacted("bad name", 1)).hasMessageContaining("topic name: 'bad name'");
    assertThatThrownBy(() -> TopicSpec.compacted("x", 0)).hasMessageContaining("partitions 0 (expected: >= 1)");
    assertThatThrownBy(() -> TopicSpec.deleted("x", 1, Duration.ZERO)).hasMessageContaining("expected: > 0");
    assertThatThrownBy(() -> TopicSpec.compacted("x", 1).withConfig("cleanup.policy", "delete"))
        .hasMessageContaining("extra config cleanup.policy");
    assertThatThrownBy(() -> TopicCatalog.RESOURCES.deadLetter().deadLetter())
        .hasMessageContaining("already a dead-letter topic");
    assertThatThrownBy(() -> TopicCatalog.replicationFactor(0)).hasMessageContaining("brokers: 0");
  }

  @Test
  void typedDescriptorsNameTheirDeadLetterTopic() {
    assertThat(LatticeTopics.RESOURCES.name()).isEqualTo("lattice.resources.v1");
    assertThat(LatticeTopics.RESOURCES.deadLetterTopic()).isEqualTo("lattice.resources.v1.dlq");
    assertThat(LatticeTopics.renamed(LatticeTopics.RESOURCES, "t.1").spec().cleanup())
        .isEqualTo(CleanupPolicy.COMPACT);
    assertThat(List.of(TopicSpec.deadLetterTopicName("a"))).containsExactly("a.dlq");
  }
}
