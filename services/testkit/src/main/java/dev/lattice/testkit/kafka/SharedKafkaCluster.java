package dev.lattice.testkit.kafka;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link KafkaCluster} the extension stores in JUnit's root store: a bootstrap address, a shared
 * admin client and the action that stops the broker. Closed by JUnit at the end of the test plan.
 */
final class SharedKafkaCluster implements KafkaCluster, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SharedKafkaCluster.class);
  private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

  /** Stops whatever backs the cluster. */
  @FunctionalInterface
  interface Stopper {
    void stop() throws Exception;
  }

  private final Source source;
  private final String bootstrapServers;
  private final Admin admin;
  private final int brokerCount;
  private final Stopper stopper;
  private final String runId = UUID.randomUUID().toString().substring(0, 8);
  private final AtomicLong topicCounter = new AtomicLong();

  private SharedKafkaCluster(Source source, String bootstrapServers, Admin admin, int brokerCount,
      Stopper stopper) {
    this.source = source;
    this.bootstrapServers = bootstrapServers;
    this.admin = admin;
    this.brokerCount = brokerCount;
    this.stopper = stopper;
  }

  /** Connects an admin client to a started broker; on failure stops it and rethrows. */
  static SharedKafkaCluster open(Source source, String bootstrapServers, Stopper stopper) {
    Admin admin = Admin.create(Map.of(
        AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.CLIENT_ID_CONFIG, "lattice-testkit-admin"));
    try {
      int brokers = admin.describeCluster().nodes().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS).size();
      return new SharedKafkaCluster(source, bootstrapServers, admin, brokers, stopper);
    } catch (Exception e) {
      admin.close(Duration.ofSeconds(5));
      try {
        stopper.stop();
      } catch (Exception stopFailure) {
        e.addSuppressed(stopFailure);
      }
      throw new IllegalStateException("Kafka at " + bootstrapServers + " did not answer describeCluster: "
          + e.getMessage(), e);
    }
  }

  @Override
  public String bootstrapServers() {
    return bootstrapServers;
  }

  @Override
  public Source source() {
    return source;
  }

  @Override
  public int brokerCount() {
    return brokerCount;
  }

  @Override
  public String uniqueTopic(String base) {
    Objects.requireNonNull(base, "base");
    String clean = base.replaceAll("[^a-zA-Z0-9._-]", "-");
    return clean + "." + topicCounter.incrementAndGet() + "-" + runId;
  }

  @Override
  public String createTopic(String name, int partitions, Map<String, String> configs) {
    short replicas = (short) Math.min(3, brokerCount);
    NewTopic topic = new NewTopic(name, partitions, replicas).configs(Map.copyOf(configs));
    try {
      admin.createTopics(List.of(topic)).all().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
      awaitVisible(name);
      return name;
    } catch (ExecutionException e) {
      throw new IllegalStateException("create topic " + name + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("create topic " + name + ": no answer within " + ADMIN_TIMEOUT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("create topic " + name + ": interrupted", e);
    }
  }

  /**
   * The controller accepts a topic before every broker's metadata has it; wait until describing it
   * works so the test's next step (describe, produce, a consumer's partitionsFor) sees the topic.
   */
  private void awaitVisible(String name) throws InterruptedException, TimeoutException {
    long deadline = System.nanoTime() + ADMIN_TIMEOUT.toNanos();
    while (true) {
      try {
        admin.describeTopics(List.of(name)).allTopicNames().get(ADMIN_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() > deadline) {
          throw new IllegalStateException("topic " + name + " created but not visible: "
              + e.getCause().getMessage(), e.getCause());
        }
        Thread.sleep(50);
      }
    }
  }

  @Override
  public Admin adminClient() {
    return admin;
  }

  @Override
  public Map<String, Object> producerProps() {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
    return p;
  }

  @Override
  public Map<String, Object> consumerProps(String groupId) {
    Map<String, Object> p = new HashMap<>();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    return p;
  }

  @Override
  public void close() throws Exception {
    LOG.info("Stopping the test Kafka cluster ({}, {})", source.name().toLowerCase(Locale.ROOT),
        bootstrapServers);
    try {
      admin.close(Duration.ofSeconds(5));
    } finally {
      stopper.stop();
    }
  }

  @Override
  public String toString() {
    return "KafkaCluster[" + source + " " + bootstrapServers + "]";
  }
}
