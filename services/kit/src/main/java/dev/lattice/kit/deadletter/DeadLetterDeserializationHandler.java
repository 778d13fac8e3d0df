package dev.lattice.kit.deadletter;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Kafka Streams handler for records a source serde cannot decode: the record goes to its topic's
 * dead-letter companion ({@code <topic>.dlq}, Lattice headers per {@link DeadLetters}) and the
 * application resumes with the next record instead of dying.
 *
 * <p>Built on Kafka 4.x's dead-letter support (KIP-1034): the handler returns the dead-letter record and
 * Streams writes it with its own producer, inside the task's transaction under {@code exactly_once_v2}.
 * Kafka's stock option ({@code errors.dead.letter.queue.topic.name}) sends every source topic to one
 * topic with {@code __streams.errors.*} headers; Lattice needs per-topic companions and its own headers,
 * hence this class. Set it with {@code deserialization.exception.handler} (KafkaClientConfig does).
 * The application id is the dead letters' {@link DeadLetters#GROUP}: Streams commits the source offset
 * with the dead letter, so a restarted application does not write it again. Thread-safe once configured.
 */
public final class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {

  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterDeserializationHandler.class);

  private volatile String applicationId;

  @Override
  public Response handleError(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record,
      Exception exception) {
    LOG.warn("Undecodable record {}-{}@{} (task {}) goes to {}.dlq: {}", record.topic(), record.partition(),
        record.offset(), context.taskId(), record.topic(), exception.getMessage());
    return Response.resume(List.of(DeadLetters.record(record, applicationId, null, exception)));
  }

  /** Takes the application id as the dead letters' consumer name; the topic follows from the source. */
  @Override
  public void configure(Map<String, ?> configs) {
    Object id = configs.get(StreamsConfig.APPLICATION_ID_CONFIG);
    applicationId = id == null ? null : id.toString();
  }
}
