package dev.lattice.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Bytes on a topic that {@link AvroSerde} cannot turn into an event. The message is the reason, written
 * for the dead-letter header {@code lattice.dlq.reason}: "not Avro single-object encoding (bad header)",
 * "unknown schema fingerprint …", "schema … cannot be read as …" or "corrupt body for &lt;Type&gt;: …".
 *
 * <p>Immutable; safe to share between threads.
 */
public final class UndecodableEventException extends SerializationException {

  private static final long serialVersionUID = 1L;

  /** Creates an exception whose message is {@code reason}. */
  public UndecodableEventException(String reason) {
    super(reason);
  }

  /** Creates an exception whose message is {@code reason}, keeping the Avro failure as the cause. */
  public UndecodableEventException(String reason, Throwable cause) {
    super(reason, cause);
  }

  /** The reason, as put in the dead-letter header (same as {@link #getMessage()}). */
  public String reason() {
    return getMessage();
  }
}
