package dev.lattice.kit.deadletter;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What one dead-letter topic already holds: per (consumer, source topic, source partition) the highest
 * source offset dead-lettered. Reads the DLQ from the beginning on first use and catches up before
 * every question, so dead letters written by other instances or before a restart count.
 *
 * <p>Thread-safe: the reader is used under the object's lock; {@link #record} takes no lock. Closed by its {@link DeadLetterPublisher}.
 */
final class DeadLetterIndex {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterIndex.class);
  /** The consumer name standing for dead letters written without a {@link DeadLetters#GROUP} header. */
  private static final String ANY_CONSUMER = "";
  private static final Duration POLL = Duration.ofMillis(100);

  private final String topic;
  private final Map<String, Object> readerConfig;
  // Concurrent: record() runs on the producer's I/O thread and must not wait for a catch-up.
  private final Map<String, Long> highest = new ConcurrentHashMap<>();
  private KafkaConsumer<byte[], byte[]> reader;
  private boolean closed;
  private boolean warned;

  DeadLetterIndex(String topic, Map<String, Object> readerConfig) {
    this.topic = topic;
    Map<String, Object> c = new HashMap<>(readerConfig);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
    this.readerConfig = Map.copyOf(c);
  }

  /**
   * Whether {@code consumer} already dead-lettered {@code sourceTopic-partition@offset} (or a later
   * offset of that partition). False when the DLQ could not be read to its end within {@code bound}.
   */
  synchronized boolean written(String consumer, String sourceTopic, int partition, long offset, Duration bound) {
    if (closed) {
      return false;
    }
    if (!catchUp(bound)) {
      return false;
    }
    return offset <= highest.getOrDefault(key(consumer, sourceTopic, partition), -1L)
        || offset <= highest.getOrDefault(key(ANY_CONSUMER, sourceTopic, partition), -1L);
  }

  /** Notes a dead letter this process wrote (acknowledged), before the reader sees it. */
  void record(String consumer, String sourceTopic, int partition, long offset) {
    highest.merge(key(consumer, sourceTopic, partition), offset, Math::max);
  }

  synchronized void close() {
    closed = true;
    if (reader != null) {
      reader.close(Duration.ofSeconds(2));
      reader = null;
    }
  }

  private boolean catchUp(Duration bound) {
    long deadline = System.nanoTime() + bound.toNanos();
    try {
      if (reader == null) {
        reader = new KafkaConsumer<>(readerConfig, new ByteArrayDeserializer(), new ByteArrayDeserializer());
      }
      if (reader.assignment().isEmpty() && !assign(bound)) {
        return true; // no DLQ topic yet: nothing was dead-lettered to it
      }
      Map<TopicPartition, Long> end = reader.endOffsets(reader.assignment(), remaining(deadline));
      while (!reachedEnd(end)) {
        if (System.nanoTime() >= deadline) {
          return unreadable("not at its end within " + bound, null);
        }
        for (ConsumerRecord<byte[], byte[]> r : reader.poll(POLL)) {
          note(r);
        }
      }
      warned = false;
      return true;
    } catch (KafkaException e) {
      return unreadable(e.toString(), e);
    }
  }

  private boolean assign(Duration bound) {
    List<PartitionInfo> partitions = reader.partitionsFor(topic, bound);
    if (partitions == null || partitions.isEmpty()) {
      return false;
    }
    List<TopicPartition> all = partitions.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
    reader.assign(all);
    reader.seekToBeginning(all);
    return true;
  }

  private boolean reachedEnd(Map<TopicPartition, Long> end) {
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      if (reader.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void note(ConsumerRecord<byte[], byte[]> deadLetter) {
    String source = DeadLetters.header(deadLetter.headers(), DeadLetters.TOPIC);
    String partition = DeadLetters.header(deadLetter.headers(), DeadLetters.PARTITION);
    String offset = DeadLetters.header(deadLetter.headers(), DeadLetters.OFFSET);
    if (source == null || partition == null || offset == null) {
      return; // not a Lattice dead letter (someone wrote to the DLQ by hand)
    }
    String consumer = DeadLetters.header(deadLetter.headers(), DeadLetters.GROUP);
    try {
      highest.merge(key(consumer == null ? ANY_CONSUMER : consumer, source, Integer.parseInt(partition)),
          Long.parseLong(offset), Math::max);
    } catch (NumberFormatException e) {
      // a damaged header says nothing about what was written
    }
  }

  private boolean unreadable(String why, Exception e) {
    if (!warned) {
      LOG.warn("Cannot read dead-letter topic {} ({}); dead letters are written without the duplicate check "
          + "until it is readable", topic, why);
      warned = true;
    }
    if (e != null && reader != null) {
      // Start over on the next question: a failed position/assign may leave the reader half set up.
      reader.close(Duration.ZERO);
      reader = null;
    }
    return false;
  }

  private static Duration remaining(long deadline) {
    return Duration.ofNanos(Math.max(deadline - System.nanoTime(), 1_000_000L));
  }

  private static String key(String consumer, String sourceTopic, int partition) {
    return consumer + '\u0000' + sourceTopic + '\u0000' + partition;
  }
}
