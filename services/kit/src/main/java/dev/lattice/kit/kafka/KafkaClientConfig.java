package dev.lattice.kit.kafka;

import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetterDeserializationHandler;
import dev.lattice.kit.topic.TopicCatalog;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.StreamsConfig;

/**
 * Kafka client properties for one service, following Lattice's conventions, with operator overrides
 * from the {@code kafka.*} config subtree.
 *
 * <ul>
 *   <li>producer: {@code enable.idempotence=true}, {@code acks=all}, {@code linger.ms=5}, lz4;
 *   <li>consumer: the given group, {@code read_committed}, auto-commit off, {@code earliest};
 *   <li>Streams: {@code exactly_once_v2}, replication factor {@code min(3, brokers)} for internal topics,
 *       {@code state.dir} ({@code kafka.streams.state.dir}, default {@code .lattice/streams}), undecodable
 *       records to dead-letter topics ({@link DeadLetterDeserializationHandler}).
 * </ul>
 *
 * Overrides, lowest to highest: {@code kafka.<property>} (applied to every client type that knows the
 * property, e.g. {@code kafka.security.protocol}), then {@code kafka.producer.<property>},
 * {@code kafka.consumer.<property>}, {@code kafka.admin.<property>} or {@code kafka.streams.<property>}
 * (applied as given). {@code kafka.bootstrap.servers} is required.
 *
 * <p>Immutable and thread-safe; each call returns a fresh mutable map the caller may amend.
 */
public final class KafkaClientConfig {

  /** The config key holding the bootstrap servers. */
  public static final String BOOTSTRAP_KEY = "kafka.bootstrap.servers";

  private static final Set<String> TYPED_PREFIXES = Set.of("producer.", "consumer.", "admin.", "streams.");

  private final String serviceName;
  private final String bootstrapServers;
  private final Map<String, String> overrides;

  private KafkaClientConfig(String serviceName, String bootstrapServers, Map<String, String> overrides) {
    this.serviceName = serviceName;
    this.bootstrapServers = bootstrapServers;
    this.overrides = Map.copyOf(overrides);
  }

  /**
   * Reads {@code kafka.*} from {@code config}.
   *
   * @param serviceName prefix of client ids ({@code identity}, {@code policy})
   * @throws dev.lattice.kit.config.ConfigException when {@code kafka.bootstrap.servers} is missing
   */
  public static KafkaClientConfig from(LatticeConfig config, String serviceName) {
    Objects.requireNonNull(serviceName, "serviceName");
    return new KafkaClientConfig(serviceName, config.require(BOOTSTRAP_KEY), config.subtree("kafka"));
  }

  /** For tests and embedding: just a bootstrap address, no overrides. */
  public static KafkaClientConfig of(String bootstrapServers, String serviceName) {
    return new KafkaClientConfig(serviceName, bootstrapServers, Map.of());
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String serviceName() {
    return serviceName;
  }

  /**
   * Idempotent producer properties; serializers are the caller's.
   *
   * @param clientName distinguishes this producer's {@code client.id}: {@code <service>-<clientName>}
   */
  public Map<String, Object> producer(String clientName) {
    return producer(clientName, Map.of());
  }

  /** How long a request-path send may block for metadata ({@link #requestProducer}). */
  public static final int REQUEST_MAX_BLOCK_MS = 1_000;
  /** How long a request-path produce request may wait for the broker's answer. */
  public static final int REQUEST_REQUEST_TIMEOUT_MS = 1_000;
  /** How long a request-path record may take, retries included, before the producer fails it. */
  public static final int REQUEST_DELIVERY_TIMEOUT_MS = 1_500;
  /**
   * The latest a request publisher ({@code EventPublisher.forRequests}) answers a publish, even when
   * sends queue behind one blocked on metadata: an HTTP write answers within two seconds.
   */
  public static final int REQUEST_ANSWER_TIMEOUT_MS = 1_800;

  /**
   * {@link #producer} properties for writes an API caller waits for (entries, resources): the producer
   * gives up within {@value #REQUEST_MAX_BLOCK_MS} ms waiting for metadata and
   * {@value #REQUEST_DELIVERY_TIMEOUT_MS} ms delivering ({@code request.timeout.ms}
   * {@value #REQUEST_REQUEST_TIMEOUT_MS}), so a broker that went away turns into a fast error, and a
   * record the caller was told failed is not delivered minutes later when the broker returns (the
   * defaults are 60 s and 120 s). {@code kafka.producer.*} overrides still win.
   */
  public Map<String, Object> requestProducer(String clientName) {
    return producer(clientName, Map.of(
        ProducerConfig.MAX_BLOCK_MS_CONFIG, REQUEST_MAX_BLOCK_MS,
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, REQUEST_REQUEST_TIMEOUT_MS,
        ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, REQUEST_DELIVERY_TIMEOUT_MS));
  }

  /**
   * {@link #producer} properties with a client's own {@code defaults} laid over the service's (e.g. the data
   * plane's flow-record bounds); {@code kafka.producer.*} overrides still win.
   */
  public Map<String, Object> producer(String clientName, Map<String, Object> defaults) {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.CLIENT_ID_CONFIG, serviceName + "-" + clientName);
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 30_000);
    p.putAll(defaults);
    applyOverrides(p, ProducerConfig.configNames(), "producer.");
    return p;
  }

  /**
   * Consumer properties for {@code groupId}: read_committed, manual commits, earliest; deserializers are
   * the caller's. A consumer without a group (assign/seek, e.g. a fold) may drop {@code group.id}.
   */
  public Map<String, Object> consumer(String groupId, String clientName) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, serviceName + "-" + clientName);
    if (groupId != null) {
      p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    }
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    applyOverrides(p, ConsumerConfig.configNames(), "consumer.");
    return p;
  }

  /** Admin client properties. */
  public Map<String, Object> admin(String clientName) {
    Map<String, Object> p = new HashMap<>();
    p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(AdminClientConfig.CLIENT_ID_CONFIG, serviceName + "-" + clientName);
    applyOverrides(p, AdminClientConfig.configNames(), "admin.");
    return p;
  }

  /**
   * Kafka Streams properties (exactly-once v2).
   *
   * @param applicationId the Streams {@code application.id} (also the consumer group and internal-topic
   *     prefix): keep it stable across releases
   * @param brokers brokers in the cluster (see {@code ProvisioningReport.brokers()}); sets the internal
   *     topics' replication factor and {@code min.insync.replicas}
   */
  public Properties streams(String applicationId, int brokers) {
    short rf = TopicCatalog.replicationFactor(brokers);
    Map<String, Object> p = new HashMap<>();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.CLIENT_ID_CONFIG, serviceName + "-" + applicationId);
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, (int) rf);
    p.put(StreamsConfig.topicPrefix("min.insync.replicas"), TopicCatalog.minInsyncReplicas(rf));
    p.put(StreamsConfig.STATE_DIR_CONFIG, overrides.getOrDefault("streams.state.dir", ".lattice/streams"));
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG,
        DeadLetterDeserializationHandler.class.getName());
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    // Kafka 5 turns this on by default (and 4.4 warns at every start while it is off): take it now.
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    // The partition assignor rebuilds a StreamsConfig from the main consumer's properties alone and warns again
    // when the flag is missing there; only main.consumer.* reaches them unfiltered.
    p.put(StreamsConfig.mainConsumerPrefix(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG), true);
    applyOverrides(p, StreamsConfig.configDef().names(), "streams.");
    Properties props = new Properties();
    props.putAll(p);
    return props;
  }

  private void applyOverrides(Map<String, Object> target, Set<String> known, String typedPrefix) {
    overrides.forEach((key, value) -> {
      if (TYPED_PREFIXES.stream().noneMatch(key::startsWith) && known.contains(key)) {
        target.put(key, value);
      }
    });
    overrides.forEach((key, value) -> {
      if (key.startsWith(typedPrefix)) {
        target.put(key.substring(typedPrefix.length()), value);
      }
    });
  }
}
