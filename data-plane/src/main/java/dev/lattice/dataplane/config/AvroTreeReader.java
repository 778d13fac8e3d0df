package dev.lattice.dataplane.config;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;

/**
 * Reads a plain YAML/JSON tree (as a user writes it: {@code mode: STRICT}, {@code routeConfig: r1}, no
 * Avro union wrappers) into the generated Avro record for a schema. Absent fields take the schema's
 * default; a field without default that is absent, an unknown field, or a value of the wrong shape is a
 * {@link ConfigFileException} naming the field's path. Stateless and thread-safe.
 */
public final class AvroTreeReader {

  private AvroTreeReader() {}

  /** The record of {@code type} read from {@code node}; {@code path} names the node in messages. */
  public static <T extends SpecificRecord> T read(JsonNode node, Class<T> type, String path) {
    Schema schema = SpecificData.get().getSchema(type);
    return type.cast(value(node, schema, path));
  }

  private static Object value(JsonNode node, Schema schema, String path) {
    switch (schema.getType()) {
      case RECORD:
        return record(node, schema, path);
      case UNION: {
        if (node == null || node.isNull()) {
          if (schema.getTypes().stream().anyMatch(s -> s.getType() == Schema.Type.NULL)) {
            return null;
          }
          throw new ConfigFileException(path + ": null (expected: a value)");
        }
        ConfigFileException last = null;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() == Schema.Type.NULL) {
            continue;
          }
          try {
            return value(node, branch, path);
          } catch (ConfigFileException e) {
            last = e;
          }
        }
        throw last != null ? last : new ConfigFileException(path + ": no branch of " + schema + " fits");
      }
      case ENUM: {
        String symbol = text(node, path);
        if (!schema.hasEnumSymbol(symbol)) {
          throw new ConfigFileException(path + ": " + symbol + " (expected one of " + schema.getEnumSymbols() + ")");
        }
        return SpecificData.get().createEnum(symbol, schema);
      }
      case ARRAY: {
        if (!node.isArray()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: a list)");
        }
        List<Object> list = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
          list.add(value(node.get(i), schema.getElementType(), path + "[" + i + "]"));
        }
        return list;
      }
      case MAP: {
        if (!node.isObject()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: a map)");
        }
        Map<String, Object> map = new HashMap<>();
        node.fields().forEachRemaining(e -> map.put(e.getKey(), value(e.getValue(), schema.getValueType(), path + "." + e.getKey())));
        return map;
      }
      case STRING:
        return text(node, path);
      case INT:
        if (!node.canConvertToInt() || !node.isIntegralNumber()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: an integer)");
        }
        return node.intValue();
      case LONG:
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: an integer)");
        }
        return node.longValue();
      case DOUBLE:
      case FLOAT:
        if (!node.isNumber()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: a number)");
        }
        return schema.getType() == Schema.Type.FLOAT ? (Object) node.floatValue() : (Object) node.doubleValue();
      case BOOLEAN:
        if (!node.isBoolean()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: true or false)");
        }
        return node.booleanValue();
      case NULL:
        if (node != null && !node.isNull()) {
          throw new ConfigFileException(path + ": " + shape(node) + " (expected: null)");
        }
        return null;
      default:
        throw new ConfigFileException(path + ": Avro type " + schema.getType() + " is not readable from a config file");
    }
  }

  private static Object record(JsonNode node, Schema schema, String path) {
    if (node == null || !node.isObject()) {
      throw new ConfigFileException(path + ": " + shape(node) + " (expected: a map with fields of " + schema.getName() + ")");
    }
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (schema.getField(name) == null) {
        List<String> known = schema.getFields().stream().map(Schema.Field::name).toList();
        throw new ConfigFileException(path + "." + name + ": unknown field of " + schema.getName() + " (expected one of " + known + ")");
      }
    }
    SpecificRecord record = (SpecificRecord) SpecificData.get().newRecord(null, schema);
    for (Schema.Field field : schema.getFields()) {
      JsonNode child = node.get(field.name());
      String childPath = path + "." + field.name();
      Object v;
      if (child == null) {
        if (field.hasDefaultValue()) {
          v = SpecificData.get().getDefaultValue(field);
        } else if (field.schema().getType() == Schema.Type.ENUM && field.schema().getEnumDefault() != null) {
          v = SpecificData.get().createEnum(field.schema().getEnumDefault(), field.schema());
        } else {
          throw new ConfigFileException(childPath + ": missing (required field of " + schema.getName() + ")");
        }
      } else {
        v = value(child, field.schema(), childPath);
      }
      record.put(field.pos(), v);
    }
    return record;
  }

  private static String text(JsonNode node, String path) {
    if (node == null || !node.isValueNode() || node.isNull()) {
      throw new ConfigFileException(path + ": " + shape(node) + " (expected: a string)");
    }
    return node.asText();
  }

  private static String shape(JsonNode node) {
    if (node == null || node.isNull()) {
      return "null";
    }
    if (node.isObject()) {
      return "a map";
    }
    if (node.isArray()) {
      return "a list";
    }
    return "'" + node.asText() + "'";
  }
}
