package dev.lattice.schemas.serde;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.Encoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Deterministic bytes for an Avro record, for content versions such as {@code ConfigResource.version}: the
 * Avro binary encoding (no header) with every map written in ascending key order. Plain Avro writes maps in
 * {@link Map} iteration order, which differs between equal {@code HashMap}s, so it cannot be hashed. Never
 * use {@code hashCode()} as a version (docs/schemas.md).
 *
 * <p>Stateless; thread-safe.
 */
public final class CanonicalEncoding {

  private CanonicalEncoding() {}

  /** The canonical binary encoding of {@code record} (readable by the record's schema, maps sorted). */
  public static byte[] canonicalBytes(SpecificRecord record) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(256);
    BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
    try {
      new SortedMapWriter<>(record.getSchema(), SpecificData.getForClass(record.getClass())).write(record, encoder);
      encoder.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** Lower-case hex SHA-256 of {@link #canonicalBytes}: equal records, equal versions. */
  public static String sha256Hex(SpecificRecord record) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonicalBytes(record)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** Writes maps sorted by key; everything else as {@link SpecificDatumWriter}. */
  private static final class SortedMapWriter<T> extends SpecificDatumWriter<T> {
    SortedMapWriter(Schema schema, SpecificData model) {
      super(schema, model);
    }

    @Override
    protected void writeMap(Schema schema, Object datum, Encoder out) throws IOException {
      Map<?, ?> map = (Map<?, ?>) datum;
      List<Map.Entry<?, ?>> entries = new ArrayList<>(map.entrySet());
      entries.sort((a, b) -> a.getKey().toString().compareTo(b.getKey().toString()));
      Map<Object, Object> sorted = new LinkedHashMap<>();
      for (Map.Entry<?, ?> entry : entries) {
        sorted.put(entry.getKey(), entry.getValue());
      }
      super.writeMap(schema, sorted, out);
    }
  }
}
