package dev.lattice.policy.compiler;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * Canonical form and version of a compiled payload. The canonical form is a deep copy in which every
 * Avro map is a sorted map (Avro writes map entries in iteration order, so two equal payloads decoded
 * into {@code HashMap}s could otherwise encode differently); the version is the hex SHA-256 of the
 * canonical form's Avro binary encoding — never {@code hashCode()}.
 *
 * <p>Stateless; thread-safe.
 */
public final class ConfigVersion {

  private ConfigVersion() {}

  /** A deep copy of {@code record} with every map sorted by key. */
  public static <T extends SpecificRecord> T canonical(T record) {
    T copy = SpecificData.get().deepCopy(record.getSchema(), record);
    sortMaps(record.getSchema(), copy);
    return copy;
  }

  /** The Avro binary encoding of {@code record} (which should already be {@link #canonical}). */
  public static byte[] encode(SpecificRecord record) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      BinaryEncoder encoder = EncoderFactory.get().directBinaryEncoder(out, null);
      new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException("encoding " + record.getSchema().getFullName(), e);
    }
  }

  /** Hex SHA-256 of {@code bytes}. */
  public static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }

  /** The version of a canonical payload: hex SHA-256 of its Avro binary encoding. */
  public static String of(SpecificRecord canonicalPayload) {
    return sha256Hex(encode(canonicalPayload));
  }

  @SuppressWarnings("unchecked")
  private static Object sortMaps(Schema schema, Object value) {
    if (value == null) return null;
    switch (schema.getType()) {
      case RECORD -> {
        IndexedRecord r = (IndexedRecord) value;
        for (Schema.Field f : schema.getFields()) {
          r.put(f.pos(), sortMaps(f.schema(), r.get(f.pos())));
        }
        return r;
      }
      case MAP -> {
        Map<Object, Object> sorted = new TreeMap<>((a, b) -> a.toString().compareTo(b.toString()));
        for (Map.Entry<Object, Object> e : ((Map<Object, Object>) value).entrySet()) {
          sorted.put(e.getKey().toString(), sortMaps(schema.getValueType(), e.getValue()));
        }
        return sorted;
      }
      case ARRAY -> {
        List<Object> list = new ArrayList<>();
        for (Object item : (List<Object>) value) list.add(sortMaps(schema.getElementType(), item));
        return list;
      }
      case UNION -> {
        int branch = SpecificData.get().resolveUnion(schema, value);
        return sortMaps(schema.getTypes().get(branch), value);
      }
      default -> {
        return value;
      }
    }
  }
}
