package dev.lattice.testkit.kafka;

import java.util.Map;
import org.apache.kafka.clients.admin.Admin;

/**
 * A real Kafka cluster handed to a test by {@link KafkaExtension}: an external one
 * ({@code KAFKA_BOOTSTRAP_SERVERS}), a Testcontainers broker, or the in-process embedded KRaft broker.
 *
 * <p>One cluster serves the whole test JVM, so tests isolate themselves with {@link #uniqueTopic} names
 * and unique consumer groups. The extension owns the cluster and its {@link #adminClient()}: tests never
 * close either. Thread-safe.
 */
public interface KafkaCluster {

  /** Where the cluster came from. */
  enum Source { EXTERNAL, TESTCONTAINERS, EMBEDDED }

  /** {@code host:port[,host:port…]} for the {@code bootstrap.servers} client property. */
  String bootstrapServers();

  /** Which kind of broker this is (for diagnostics). */
  Source source();

  /** How many brokers the cluster has (1 for the embedded and Testcontainers brokers). */
  int brokerCount();

  /**
   * A topic name no other call in this JVM (nor, practically, another run against an external cluster)
   * returns: {@code <base>.<counter>-<run id>}. Legal Kafka topic characters only.
   */
  String uniqueTopic(String base);

  /**
   * Creates a topic and waits until the controller has accepted it; replication factor
   * {@code min(3, brokerCount())}.
   *
   * @param configs topic configs such as {@code cleanup.policy=compact}; may be empty
   * @return {@code name}, for chaining into a field
   * @throws IllegalStateException if the cluster refuses (the cause says why, e.g. topic exists)
   */
  String createTopic(String name, int partitions, Map<String, String> configs);

  /** A shared admin client owned by the extension; do not close it. */
  Admin adminClient();

  /** Minimal producer properties (bootstrap servers, acks=all, idempotence); serializers are the caller's. */
  Map<String, Object> producerProps();

  /**
   * Minimal consumer properties for {@code groupId}: bootstrap servers, earliest offset, read_committed,
   * no auto-commit; deserializers are the caller's.
   */
  Map<String, Object> consumerProps(String groupId);
}
