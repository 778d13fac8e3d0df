package dev.lattice.schemas.serde;

import java.io.IOException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityResult;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DatumReader;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Kafka serde for one Avro event type using Avro
 * <a href="https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding">single-object
 * encoding</a>: {@code C3 01}, the writer schema's 8-byte little-endian CRC-64-AVRO fingerprint, then the
 * Avro binary body. No schema registry: the decoder finds the writer schema by fingerprint in a
 * {@link SchemaCatalog} (by default {@link SchemaCatalog#bundled()}: the current schemas plus every
 * released baseline) and resolves it against the current class, so newer readers read older writers.
 *
 * <p>{@code null} is a tombstone both ways: {@code serialize(null)} gives {@code null} and
 * {@code deserialize(null)} gives {@code null}. Bytes that cannot be decoded throw
 * {@link UndecodableEventException} (a Kafka {@link SerializationException}) whose message is the reason.
 *
 * <p>Thread-safe: one instance may serve many producers, consumers and Streams threads at once (the encoder
 * is Avro's thread-safe {@link BinaryMessageEncoder}; datum readers are built once per writer schema in a
 * concurrent map and Avro's datum readers are safe for concurrent reads; decoders are per call).
 * {@link #close()} does nothing; the instance stays usable.
 *
 * @param <T> the generated event class
 */
public final class AvroSerde<T extends SpecificRecord> implements Serde<T>, Serializer<T>, Deserializer<T> {

  /** Length of the single-object header: 2 marker bytes and an 8-byte fingerprint. */
  public static final int HEADER_LENGTH = 10;

  private static final byte MARKER_0 = (byte) 0xC3;
  private static final byte MARKER_1 = (byte) 0x01;

  private final Class<T> type;
  private final Schema schema;
  private final SpecificData model;
  private final SchemaCatalog catalog;
  private final BinaryMessageEncoder<T> encoder;
  private final Map<Long, WriterReader<T>> readers = new ConcurrentHashMap<>();

  private AvroSerde(Class<T> type, SchemaCatalog catalog) {
    this.type = Objects.requireNonNull(type, "type");
    this.model = SpecificData.getForClass(type);
    this.schema = model.getSchema(type);
    this.catalog = Objects.requireNonNull(catalog, "catalog").with(schema);
    this.encoder = new BinaryMessageEncoder<>(model, schema);
  }

  /** A serde for {@code type} that reads every writer schema bundled in this jar. */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type) {
    return new AvroSerde<>(type, SchemaCatalog.bundled());
  }

  /** A serde for {@code type} that reads the writer schemas of {@code catalog} (and {@code type}'s own). */
  public static <T extends SpecificRecord> AvroSerde<T> of(Class<T> type, SchemaCatalog catalog) {
    return new AvroSerde<>(type, catalog);
  }

  /** The event class. */
  public Class<T> type() {
    return type;
  }

  /** The reader (and writer) schema: the current schema of {@link #type()}. */
  public Schema schema() {
    return schema;
  }

  /**
   * Encodes an event in single-object encoding; {@code null} (a tombstone) gives {@code null}.
   *
   * @throws SerializationException when the event breaks its schema (e.g. a required field is null)
   */
  public byte[] encode(T event) {
    if (event == null) {
      return null;
    }
    try {
      return encoder.encode(event).array();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("cannot encode " + type.getSimpleName() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Decodes single-object-encoded bytes; {@code null} (a tombstone) gives {@code null}.
   *
   * @throws UndecodableEventException with the reason when the bytes are not a readable {@link #type()}
   */
  public T decode(byte[] bytes) {
    if (bytes == null) {
      return null;
    }
    if (bytes.length < HEADER_LENGTH || bytes[0] != MARKER_0 || bytes[1] != MARKER_1) {
      throw new UndecodableEventException("not Avro single-object encoding (bad header): " + describeHeader(bytes));
    }
    long fingerprint = littleEndianLong(bytes, 2);
    WriterReader<T> reader = readers.get(fingerprint);
    if (reader == null) {
      Schema writer = catalog.findByFingerprint(fingerprint);
      if (writer == null) {
        throw new UndecodableEventException("unknown schema fingerprint " + hex(fingerprint) + " (expected: one of "
            + catalog.size() + " known schemas; a " + type.getSimpleName() + " written by a newer or foreign writer?)");
      }
      reader = readers.computeIfAbsent(fingerprint, fp -> WriterReader.resolve(writer, schema, model));
    }
    if (reader.incompatibility() != null) {
      throw new UndecodableEventException("schema " + reader.writer().getFullName() + " (fingerprint " + hex(fingerprint)
          + ") cannot be read as " + schema.getFullName() + ": " + reader.incompatibility());
    }
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(bytes, HEADER_LENGTH, bytes.length - HEADER_LENGTH, null);
    T event;
    try {
      event = reader.datumReader().read(null, decoder);
    } catch (IOException | RuntimeException e) {
      throw new UndecodableEventException("corrupt body for " + type.getSimpleName() + ": " + describe(e), e);
    }
    try {
      if (!decoder.isEnd()) {
        throw new UndecodableEventException("corrupt body for " + type.getSimpleName()
            + ": trailing bytes after the record (expected: the body to end the message)");
      }
    } catch (IOException e) {
      throw new UndecodableEventException("corrupt body for " + type.getSimpleName() + ": " + describe(e), e);
    }
    return event;
  }

  @Override
  public byte[] serialize(String topic, T data) {
    return encode(data);
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    return decode(data);
  }

  @Override
  public Serializer<T> serializer() {
    return this;
  }

  @Override
  public Deserializer<T> deserializer() {
    return this;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    // nothing to configure: the schema comes from the class, writer schemas from the catalog
  }

  @Override
  public void close() {
    // stateless apart from caches; stays usable
  }

  @Override
  public String toString() {
    return "AvroSerde[" + schema.getFullName() + "]";
  }

  private static String describeHeader(byte[] bytes) {
    int shown = Math.min(bytes.length, 4);
    return bytes.length + " bytes starting " + (shown == 0 ? "(none)" : HexFormat.ofDelimiter(" ").withUpperCase()
        .formatHex(bytes, 0, shown)) + " (expected: at least " + HEADER_LENGTH + " bytes starting C3 01)";
  }

  private static String describe(Throwable e) {
    String message = e.getMessage();
    return e.getClass().getSimpleName() + (message == null ? "" : " " + message);
  }

  private static String hex(long fingerprint) {
    return "0x" + HexFormat.of().withUpperCase().toHexDigits(fingerprint);
  }

  private static long littleEndianLong(byte[] bytes, int offset) {
    long value = 0;
    for (int i = 7; i >= 0; i--) {
      value = (value << 8) | (bytes[offset + i] & 0xFFL);
    }
    return value;
  }

  /** A writer schema with its resolving reader, or why it cannot be read. */
  private record WriterReader<T>(Schema writer, DatumReader<T> datumReader, String incompatibility) {

    static <T> WriterReader<T> resolve(Schema writer, Schema reader, SpecificData model) {
      SchemaCompatibilityResult result =
          SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult();
      if (result.getCompatibility() != SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
        String why = result.getIncompatibilities().stream()
            .map(i -> i.getMessage() + " at " + i.getLocation())
            .findFirst().orElse("incompatible");
        return new WriterReader<>(writer, null, why);
      }
      @SuppressWarnings("unchecked")
      DatumReader<T> datumReader = (DatumReader<T>) new SpecificDatumReader<>(writer, reader, model);
      return new WriterReader<>(writer, datumReader, null);
    }
  }
}
