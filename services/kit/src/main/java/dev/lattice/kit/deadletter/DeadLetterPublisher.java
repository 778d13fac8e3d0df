package dev.lattice.kit.deadletter;

import dev.lattice.kit.topic.TopicSpec;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends records a consumer cannot use to the source topic's dead-letter companion
 * ({@code <topic>.dlq}): original bytes unchanged, {@code lattice.dlq.*} headers per {@link DeadLetters},
 * the consumer's name in {@link DeadLetters#GROUP}.
 *
 * <p><b>Once per consumer and offset.</b> Group-less folds replay their topic from the beginning on
 * every start, and a group consumer re-reads a batch it could not commit; both would write the same
 * dead letter again. Before each dead letter the publisher catches up on the dead-letter topic itself
 * (a group-less reader, {@code read_committed}) and skips a record whose (consumer, topic, partition)
 * already has a dead letter at that offset or a later one — consumers meet a partition's records in
 * offset order, so "the highest offset dead-lettered" is all it keeps (bounded by consumers ×
 * partitions, whatever the DLQ's size). A dead letter without a {@link DeadLetters#GROUP} header (written
 * before the header existed) counts for every consumer. When the DLQ cannot be read within
 * {@link #INDEX_CATCH_UP} the dead letter is written anyway: a duplicate is better than a loss.
 *
 * <p>Meant for consumer threads (folds, poll loops): {@link #publish} blocks while it reads the DLQ and
 * may block up to the producer's {@code max.block.ms} for metadata, so never call it on a Vert.x event
 * loop. Thread-safe. The creator closes it; {@link #close()} closes the producer only when this
 * publisher created it.
 */
public final class DeadLetterPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);
  /** How long one dead letter waits for the DLQ reader to reach the DLQ's end before writing anyway. */
  public static final Duration INDEX_CATCH_UP = Duration.ofSeconds(5);

  private final Producer<byte[], byte[]> producer;
  private final boolean ownsProducer;
  private final Map<String, Object> readerConfig;
  private final Map<String, DeadLetterIndex> indexes = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * Wraps a producer owned by the caller (closing this publisher leaves it open).
   *
   * @param readerConfig consumer properties (bootstrap servers, security) for reading the DLQs
   */
  public DeadLetterPublisher(Producer<byte[], byte[]> producer, Map<String, Object> readerConfig) {
    this(producer, false, readerConfig);
  }

  private DeadLetterPublisher(Producer<byte[], byte[]> producer, boolean ownsProducer,
      Map<String, Object> readerConfig) {
    this.producer = Objects.requireNonNull(producer, "producer");
    this.ownsProducer = ownsProducer;
    this.readerConfig = Map.copyOf(readerConfig);
  }

  /**
   * A publisher with its own producer built from {@code producerConfig} (e.g.
   * {@code KafkaClientConfig.producer("dlq")}); serializers are set here. The DLQ reader takes the
   * producer's connection settings (bootstrap servers, security, client id + {@code -dlq-reader}).
   */
  public static DeadLetterPublisher create(Map<String, Object> producerConfig) {
    Map<String, Object> reader = new HashMap<>();
    producerConfig.forEach((k, v) -> {
      if (ConsumerConfig.configNames().contains(k)) {
        reader.put(k, v);
      }
    });
    Object clientId = producerConfig.get(ConsumerConfig.CLIENT_ID_CONFIG);
    reader.put(ConsumerConfig.CLIENT_ID_CONFIG, (clientId == null ? "lattice" : clientId) + "-dlq-reader");
    return new DeadLetterPublisher(
        new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer()), true, reader);
  }

  /**
   * Dead-letters one consumed record, unless this consumer already dead-lettered its offset.
   *
   * @param record the record as read, undecoded
   * @param consumer the consumer's stable name: its group id, or a group-less fold's name
   * @param reason why it is unusable; {@code error}'s message when null
   * @param error the failure (may be null)
   * @return completes when the broker acknowledged the dead letter, or at once with {@code null} when
   *     this consumer had already dead-lettered the record
   */
  public CompletableFuture<RecordMetadata> publish(ConsumerRecord<byte[], byte[]> record, String consumer,
      String reason, Throwable error) {
    Objects.requireNonNull(consumer, "consumer");
    if (closed) {
      return CompletableFuture.failedFuture(new IllegalStateException("dead-letter publisher closed"));
    }
    String dlq = TopicSpec.deadLetterTopicName(record.topic());
    DeadLetterIndex index = indexes.computeIfAbsent(dlq, t -> new DeadLetterIndex(t, readerConfig));
    if (index.written(consumer, record.topic(), record.partition(), record.offset(), INDEX_CATCH_UP)) {
      LOG.debug("{}-{}@{} already dead-lettered by {}; skipped", record.topic(), record.partition(),
          record.offset(), consumer);
      return CompletableFuture.completedFuture(null);
    }
    ProducerRecord<byte[], byte[]> dead = DeadLetters.record(record, consumer, reason, error);
    LOG.warn("Dead-lettering {}-{}@{} ({}) to {}: {}", record.topic(), record.partition(), record.offset(),
        consumer, dead.topic(), DeadLetters.header(dead.headers(), DeadLetters.REASON));
    CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
    try {
      producer.send(dead, (metadata, exception) -> {
        if (exception != null) {
          result.completeExceptionally(exception);
        } else {
          index.record(consumer, record.topic(), record.partition(), record.offset());
          result.complete(metadata);
        }
      });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /**
   * Closes the DLQ readers, and the producer if this publisher created it, waiting at most 10 s for
   * pending sends.
   */
  @Override
  public void close() {
    closed = true;
    indexes.values().forEach(DeadLetterIndex::close);
    if (ownsProducer) {
      producer.close(Duration.ofSeconds(10));
    }
  }
}
