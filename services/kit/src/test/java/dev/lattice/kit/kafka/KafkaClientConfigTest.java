package dev.lattice.kit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetterDeserializationHandler;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class KafkaClientConfigTest {

  private static final LatticeConfig CONFIG = LatticeConfig.of(Map.of(
      "kafka.bootstrap.servers", "127.0.0.1:9092",
      "kafka.security.protocol", "SSL",
      "kafka.producer.linger.ms", "20",
      "kafka.consumer.max.poll.records", "50",
      "kafka.streams.num.stream.threads", "2",
      "kafka.streams.state.dir", "/var/lib/lattice/streams",
      "kafka.local.data.dir", ".lattice/kafka"));

  private final KafkaClientConfig config = KafkaClientConfig.from(CONFIG, "policy");

  @Test
  void producerIsIdempotentWithAcksAllAndTakesOverrides() {
    Map<String, Object> p = config.producer("events");
    assertThat(p).containsEntry("bootstrap.servers", "127.0.0.1:9092")
        .containsEntry("enable.idempotence", true)
        .containsEntry("acks", "all")
        .containsEntry("compression.type", "lz4")
        .containsEntry("client.id", "policy-events")
        .containsEntry("security.protocol", "SSL")
        .containsEntry("linger.ms", "20")
        .doesNotContainKey("max.poll.records")
        .doesNotContainKey("local.data.dir");
  }

  @Test
  void consumerReadsCommittedWithoutAutoCommitFromTheEarliestOffset() {
    Map<String, Object> c = config.consumer("policy-compiler", "compiler");
    assertThat(c).containsEntry("group.id", "policy-compiler")
        .containsEntry("isolation.level", "read_committed")
        .containsEntry("enable.auto.commit", false)
        .containsEntry("auto.offset.reset", "earliest")
        .containsEntry("max.poll.records", "50")
        .containsEntry("security.protocol", "SSL")
        .doesNotContainKey("linger.ms");
    assertThat(config.consumer(null, "fold")).doesNotContainKey("group.id");
  }

  @Test
  void streamsUseExactlyOnceV2ReplicationFromClusterSizeAndDeadLetters() {
    Properties one = config.streams("policy-compiler", 1);
    assertThat(one).containsEntry("processing.guarantee", "exactly_once_v2")
        .containsEntry("application.id", "policy-compiler")
        .containsEntry("replication.factor", 1)
        .containsEntry("topic.min.insync.replicas", 1)
        .containsEntry("state.dir", "/var/lib/lattice/streams")
        .containsEntry("num.stream.threads", "2")
        .containsEntry("security.protocol", "SSL")
        .containsEntry("deserialization.exception.handler", DeadLetterDeserializationHandler.class.getName());
    Properties five = config.streams("policy-compiler", 5);
    assertThat(five).containsEntry("replication.factor", 3).containsEntry("topic.min.insync.replicas", 2);
  }

  @Test
  void missingBootstrapServersIsAClearError() {
    assertThatThrownBy(() -> KafkaClientConfig.from(LatticeConfig.empty(), "policy"))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("kafka.bootstrap.servers");
  }
}
