package dev.lattice.testkit.kafka;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Raw record helpers for tests: write bytes exactly as given (garbage, tombstones, old-schema events)
 * and read a topic from the beginning without a consumer group. Stateless; each call opens and closes
 * its own client.
 */
public final class KafkaRecords {

  /** How long {@link #readFromBeginning(KafkaCluster, String, int)} waits by default. */
  public static final Duration DEFAULT_WAIT = Duration.ofSeconds(30);

  private KafkaRecords() {}

  /** Writes one record (null value = tombstone) and waits for the broker's acknowledgement. */
  public static RecordMetadata produce(KafkaCluster cluster, String topic, String key, byte[] value,
      Header... headers) {
    try (KafkaProducer<byte[], byte[]> producer =
        new KafkaProducer<>(cluster.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
      byte[] k = key == null ? null : key.getBytes(StandardCharsets.UTF_8);
      return producer.send(new ProducerRecord<>(topic, null, k, value, List.of(headers)))
          .get(DEFAULT_WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new IllegalStateException("produce to " + topic + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("produce to " + topic + ": no acknowledgement within " + DEFAULT_WAIT, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("produce to " + topic + ": interrupted", e);
    }
  }

  /** {@link #readFromBeginning(KafkaCluster, String, int, Duration)} waiting {@link #DEFAULT_WAIT}. */
  public static List<ConsumerRecord<byte[], byte[]>> readFromBeginning(KafkaCluster cluster, String topic,
      int atLeast) {
    return readFromBeginning(cluster, topic, atLeast, DEFAULT_WAIT);
  }

  /**
   * Reads every partition of {@code topic} from offset 0 ({@code read_committed}) until at least
   * {@code atLeast} records arrived, in partition-then-offset arrival order.
   *
   * @throws AssertionError naming the topic and the count seen when {@code wait} passes first
   */
  public static List<ConsumerRecord<byte[], byte[]>> readFromBeginning(KafkaCluster cluster, String topic,
      int atLeast, Duration wait) {
    Map<String, Object> props = cluster.consumerProps("unused");
    props.remove(ConsumerConfig.GROUP_ID_CONFIG);
    props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    long deadline = System.nanoTime() + wait.toNanos();
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer =
        new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = List.of();
      while (partitions.isEmpty() && System.nanoTime() < deadline) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, Duration.ofSeconds(5));
        partitions = infos == null ? List.of()
            : infos.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
      }
      if (partitions.isEmpty()) {
        throw new AssertionError("topic " + topic + " does not exist (waited " + wait + ")");
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      while (out.size() < atLeast && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(100)).forEach(out::add);
      }
    }
    if (out.size() < atLeast) {
      throw new AssertionError("topic " + topic + ": " + out.size() + " records after " + wait
          + " (expected: at least " + atLeast + ")");
    }
    return out;
  }
}
