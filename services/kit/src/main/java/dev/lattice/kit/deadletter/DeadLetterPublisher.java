package dev.lattice.kit.deadletter;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
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
 * ({@code <topic>.dlq}): original bytes unchanged, {@code lattice.dlq.*} headers per {@link DeadLetters}.
 *
 * <p>Meant for consumer threads (folds, poll loops): {@link #publish} may block up to the producer's
 * {@code max.block.ms} while fetching metadata, so never call it on a Vert.x event loop (use
 * {@code EventPublisher.publishRaw} there). Thread-safe. The creator closes it; {@link #close()}
 * closes the producer only when this publisher created it.
 */
public final class DeadLetterPublisher implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterPublisher.class);

  private final Producer<byte[], byte[]> producer;
  private final boolean ownsProducer;

  /** Wraps a producer owned by the caller (closing this publisher leaves it open). */
  public DeadLetterPublisher(Producer<byte[], byte[]> producer) {
    this(producer, false);
  }

  private DeadLetterPublisher(Producer<byte[], byte[]> producer, boolean ownsProducer) {
    this.producer = producer;
    this.ownsProducer = ownsProducer;
  }

  /**
   * A publisher with its own producer built from {@code producerConfig} (e.g.
   * {@code KafkaClientConfig.producer("dlq")}); serializers are set here.
   */
  public static DeadLetterPublisher create(Map<String, Object> producerConfig) {
    return new DeadLetterPublisher(
        new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer()), true);
  }

  /**
   * Dead-letters one consumed record.
   *
   * @param record the record as read, undecoded
   * @param reason why it is unusable; {@code error}'s message when null
   * @param error the failure (may be null)
   * @return completes when the broker acknowledged the dead letter
   */
  public CompletableFuture<RecordMetadata> publish(ConsumerRecord<byte[], byte[]> record, String reason,
      Throwable error) {
    ProducerRecord<byte[], byte[]> dead = DeadLetters.record(record.topic(), record.partition(),
        record.offset(), record.key(), record.value(), record.headers(), reason, error);
    LOG.warn("Dead-lettering {}-{}@{} to {}: {}", record.topic(), record.partition(), record.offset(),
        dead.topic(), DeadLetters.header(dead.headers(), DeadLetters.REASON));
    CompletableFuture<RecordMetadata> result = new CompletableFuture<>();
    try {
      producer.send(dead, (metadata, exception) -> {
        if (exception != null) {
          result.completeExceptionally(exception);
        } else {
          result.complete(metadata);
        }
      });
    } catch (RuntimeException e) {
      result.completeExceptionally(e);
    }
    return result;
  }

  /** Closes the producer if this publisher created it, waiting at most 10 s for pending sends. */
  @Override
  public void close() {
    if (ownsProducer) {
      producer.close(Duration.ofSeconds(10));
    }
  }
}
