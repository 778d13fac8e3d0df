package dev.lattice.kit.deadletter;

import dev.lattice.kit.topic.TopicSpec;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * The dead-letter record format shared by consumers, folds and Streams apps: the original key and value
 * bytes unchanged, the original headers, plus {@code lattice.dlq.*} headers saying where the record came
 * from and why it could not be used. Header values are UTF-8 text (partition and offset in decimal).
 *
 * <p>Stateless and thread-safe.
 */
public final class DeadLetters {

  /** Why the record was dead-lettered, e.g. the decoder's message. */
  public static final String REASON = "lattice.dlq.reason";
  /** The topic the record was read from. */
  public static final String TOPIC = "lattice.dlq.topic";
  /** The partition the record was read from (decimal). */
  public static final String PARTITION = "lattice.dlq.partition";
  /** The offset the record was read from (decimal). */
  public static final String OFFSET = "lattice.dlq.offset";
  /** The exception class behind the reason ({@code none} when there was no exception). */
  public static final String ERROR = "lattice.dlq.error";
  /**
   * Which consumer could not use the record: its consumer group, a Streams application id, or a
   * group-less fold's stable name. A record is dead-lettered at most once per consumer and offset.
   */
  public static final String GROUP = "lattice.dlq.group";

  private static final int MAX_REASON_CHARS = 2_000;

  private DeadLetters() {}

  /**
   * The record to write to {@code <sourceTopic>.dlq} for one unusable source record.
   *
   * @param sourceTopic where the record was read
   * @param partition its partition
   * @param offset its offset
   * @param key original key bytes (may be null)
   * @param value original value bytes (may be null)
   * @param originalHeaders the source record's headers, copied over (may be null)
   * @param reason human-readable reason; {@code error}'s message when null or blank
   * @param error what failed (may be null)
   */
  public static ProducerRecord<byte[], byte[]> record(String sourceTopic, int partition, long offset,
      byte[] key, byte[] value, Headers originalHeaders, String reason, Throwable error) {
    return record(null, sourceTopic, partition, offset, key, value, originalHeaders, reason, error);
  }

  /**
   * The dead letter one consumer writes for a record it read.
   *
   * @param source the record as read, undecoded
   * @param consumer the consumer's name ({@link #GROUP}); null leaves the header out
   * @param reason human-readable reason; {@code error}'s message when null or blank
   * @param error what failed (may be null)
   */
  public static ProducerRecord<byte[], byte[]> record(ConsumerRecord<byte[], byte[]> source, String consumer,
      String reason, Throwable error) {
    return record(consumer, source.topic(), source.partition(), source.offset(), source.key(), source.value(),
        source.headers(), reason, error);
  }

  private static ProducerRecord<byte[], byte[]> record(String consumer, String sourceTopic, int partition,
      long offset, byte[] key, byte[] value, Headers originalHeaders, String reason, Throwable error) {
    Objects.requireNonNull(sourceTopic, "sourceTopic");
    RecordHeaders headers = new RecordHeaders();
    if (originalHeaders != null) {
      for (Header h : originalHeaders) {
        if (!h.key().startsWith("lattice.dlq.")) {
          headers.add(h.key(), h.value());
        }
      }
    }
    headers.add(REASON, utf8(truncate(reasonText(reason, error))));
    headers.add(TOPIC, utf8(sourceTopic));
    headers.add(PARTITION, utf8(Integer.toString(partition)));
    headers.add(OFFSET, utf8(Long.toString(offset)));
    headers.add(ERROR, utf8(error == null ? "none" : error.getClass().getName()));
    if (consumer != null) {
      headers.add(GROUP, utf8(consumer));
    }
    return new ProducerRecord<>(TopicSpec.deadLetterTopicName(sourceTopic), null, null, key, value, headers);
  }

  /** The text of a header, or null when absent. */
  public static String header(Headers headers, String name) {
    Header h = headers.lastHeader(name);
    return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  private static String reasonText(String reason, Throwable error) {
    if (reason != null && !reason.isBlank()) {
      return reason;
    }
    if (error == null) {
      return "unusable record";
    }
    return error.getMessage() != null ? error.getMessage() : error.getClass().getSimpleName();
  }

  private static String truncate(String s) {
    return s.length() <= MAX_REASON_CHARS ? s : s.substring(0, MAX_REASON_CHARS) + "…";
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
