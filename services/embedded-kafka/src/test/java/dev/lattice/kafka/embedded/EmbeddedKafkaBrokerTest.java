package dev.lattice.kafka.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedKafkaBrokerTest {

  @Test
  void persistentDataDirKeepsEventsAcrossRestartsWithoutReformatting(@TempDir Path dir) throws Exception {
    Path data = dir.resolve("kafka");
    String clusterId;
    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(data).build().start()) {
      clusterId = broker.clusterId();
      assertThat(broker.isRunning()).isTrue();
      try (Admin admin = admin(broker.bootstrapServers())) {
        admin.createTopics(List.of(new NewTopic("restart.v1", 1, (short) 1))).all().get();
      }
      try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
        producer.send(new ProducerRecord<>("restart.v1", "k", "before restart")).get();
      }
    }
    assertThat(data.resolve("meta.properties")).exists();

    try (EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().dataDir(data).build().start()) {
      assertThat(broker.clusterId()).isEqualTo(clusterId);
      assertThat(readAll(broker.bootstrapServers(), "restart.v1", 1))
          .extracting(ConsumerRecord::value)
          .containsExactly("before restart");
    }
    assertThat(data).exists();
  }

  @Test
  void temporaryDataDirIsDeletedOnCloseAndStartTwiceIsRejected() {
    Path data;
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().build().start();
    try {
      data = broker.dataDir();
      assertThat(data).isDirectory();
      assertThat(broker.bootstrapServers()).startsWith("127.0.0.1:");
      assertThat(broker.brokerPort()).isNotEqualTo(broker.controllerPort());
      assertThatThrownBy(broker::start).isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already started");
    } finally {
      broker.close();
    }
    assertThat(Files.exists(data)).isFalse();
    assertThat(broker.isRunning()).isFalse();
    broker.close(); // idempotent
    assertThatThrownBy(broker::bootstrapServers).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aPortInUseFailsTheStartWithAClearMessage() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().brokerPort(taken.getLocalPort()).build();
      assertThatThrownBy(broker::start)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("failed to start")
          .hasMessageContaining("port 127.0.0.1:" + taken.getLocalPort() + " is not free");
      assertThat(broker.isRunning()).isFalse();
    }
  }

  @Test
  void stopThenStartBringsTheSameBrokerBackOnTheSamePortAndLog() throws Exception {
    EmbeddedKafkaBroker broker = EmbeddedKafkaBroker.builder().shutdownTimeout(Duration.ofSeconds(15)).build().start();
    Path data;
    try (KafkaProducer<String, String> producer = producer(broker.bootstrapServers())) {
      String bootstrap = broker.bootstrapServers();
      data = broker.dataDir();
      String clusterId = broker.clusterId();
      try (Admin admin = admin(bootstrap)) {
        admin.createTopics(List.of(new NewTopic("outage.v1", 1, (short) 1))).all().get();
      }
      producer.send(new ProducerRecord<>("outage.v1", "k", "before the outage")).get();

      assertThat(broker.stop()).isTrue();
      assertThat(broker.isRunning()).isFalse();
      assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
      assertThat(data).isDirectory();
      assertThatThrownBy(() -> new java.net.Socket("127.0.0.1", broker.brokerPort()).close())
          .isInstanceOf(java.net.ConnectException.class);
      broker.stop(); // idempotent

      broker.start();
      assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
      assertThat(broker.clusterId()).isEqualTo(clusterId);
      // The producer that lived through the outage reconnects by itself.
      producer.send(new ProducerRecord<>("outage.v1", "k", "after the outage")).get(30, java.util.concurrent.TimeUnit.SECONDS);
      assertThat(readAll(bootstrap, "outage.v1", 2))
          .extracting(ConsumerRecord::value)
          .containsExactly("before the outage", "after the outage");
    } finally {
      broker.close();
    }
    assertThat(Files.exists(data)).isFalse();
  }

  @Test
  void aDataDirOfAnotherNodeIsRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("meta.properties"), "version=1\nnode.id=7\ncluster.id=abc\n");
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().dataDir(dir).build().start())
        .hasMessageContaining("node.id 7 (expected: 1");
  }

  @Test
  void builderRejectsBadValues() {
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().brokerPort(70000))
        .hasMessageContaining("port: 70000");
    assertThatThrownBy(() -> EmbeddedKafkaBroker.builder().shutdownTimeout(Duration.ZERO))
        .hasMessageContaining("expected: > 0");
  }

  private static Admin admin(String bootstrap) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap));
  }

  private static KafkaProducer<String, String> producer(String bootstrap) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  private static List<ConsumerRecord<String, String>> readAll(String bootstrap, String topic, int expected) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    List<ConsumerRecord<String, String>> out = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer =
        new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(Set.of(tp));
      consumer.seekToBeginning(Set.of(tp));
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (out.size() < expected && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(out::add);
      }
    }
    return out;
  }
}
