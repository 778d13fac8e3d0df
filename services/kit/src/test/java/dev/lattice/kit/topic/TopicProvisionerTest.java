package dev.lattice.kit.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class TopicProvisionerTest {

  private static ProvisioningReport ensure(KafkaCluster cluster, List<TopicSpec> specs) throws Exception {
    return new TopicProvisioner(cluster.adminClient()).ensure(specs).toCompletableFuture()
        .get(60, TimeUnit.SECONDS);
  }

  @Test
  void createsMissingTopicsWithTheirConfigsAndASecondRunIsANoOp(KafkaCluster cluster) throws Exception {
    TopicSpec compacted = TopicSpec.compacted(cluster.uniqueTopic("prov.compact"), 3);
    TopicSpec deleted = TopicSpec.deleted(cluster.uniqueTopic("prov.delete"), 2, Duration.ofHours(24));
    List<TopicSpec> specs = List.of(compacted, compacted.deadLetter(), deleted);

    ProvisioningReport first = ensure(cluster, specs);
    assertThat(first.created()).containsExactlyInAnyOrder(compacted.name(), compacted.name() + ".dlq",
        deleted.name());
    assertThat(first.verified()).isEmpty();
    assertThat(first.brokers()).isEqualTo(1);
    assertThat(first.replicationFactor()).isEqualTo((short) 1);

    ProvisioningReport second = ensure(cluster, specs);
    assertThat(second.created()).isEmpty();
    assertThat(second.verified()).containsExactlyInAnyOrder(compacted.name(), compacted.name() + ".dlq",
        deleted.name());
    assertThat(second.warnings()).isEmpty();

    assertThat(cluster.adminClient().describeTopics(Set.of(compacted.name())).allTopicNames()
        .get(30, TimeUnit.SECONDS).get(compacted.name()).partitions()).hasSize(3);
    ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, deleted.name());
    Config config = cluster.adminClient().describeConfigs(Set.of(resource)).all().get(30, TimeUnit.SECONDS)
        .get(resource);
    assertThat(config.get("cleanup.policy").value()).isEqualTo("delete");
    assertThat(config.get("retention.ms").value()).isEqualTo("86400000");
    assertThat(config.get("min.insync.replicas").value()).isEqualTo("1");
  }

  @Test
  void theWholeCatalogProvisionsIdempotently(KafkaCluster cluster) throws Exception {
    TopicProvisioner provisioner = new TopicProvisioner(cluster.adminClient());
    ProvisioningReport first = provisioner.ensureCatalog().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(first.created().size() + first.verified().size()).isEqualTo(20);

    ProvisioningReport second = provisioner.ensureCatalog().toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertThat(second.created()).isEmpty();
    assertThat(second.verified()).containsExactlyInAnyOrderElementsOf(
        TopicCatalog.allTopics().stream().map(TopicSpec::name).toList());
  }

  @Test
  void anExistingTopicWithAnotherCleanupPolicyIsReportedByNameExpectedAndSeen(KafkaCluster cluster) {
    String name = cluster.createTopic(cluster.uniqueTopic("prov.wrong"), 1, Map.of("cleanup.policy", "delete"));
    TopicSpec fine = TopicSpec.compacted(cluster.uniqueTopic("prov.fine"), 1);

    assertThatThrownBy(() -> ensure(cluster, List.of(fine, TopicSpec.compacted(name, 1))))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(TopicMismatchException.class)
        .hasMessageContaining(name + ": cleanup.policy delete (expected: compact)")
        .satisfies(e -> assertThat(((TopicMismatchException) e).mismatches()).hasSize(1));
  }

  @Test
  void fewerPartitionsThanTheSpecIsAWarningNotAFailure(KafkaCluster cluster) throws Exception {
    String name = cluster.createTopic(cluster.uniqueTopic("prov.narrow"), 1, Map.of("cleanup.policy", "compact"));

    ProvisioningReport report = ensure(cluster, List.of(TopicSpec.compacted(name, 6)));

    assertThat(report.verified()).containsExactly(name);
    assertThat(report.warnings()).singleElement().asString()
        .contains(name + ": 1 partitions (expected: 6");
  }
}
