package dev.lattice.schemas.compat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParser;

/**
 * The named Avro types of a folder, by full name.
 *
 * <p>Two layouts: {@link #current(Path)} reads the source folder ({@code src/main/avro}, one named type
 * per file, files referring to each other by name); {@link #baselines(Path)} reads {@code schemas/compat}
 * where every file is self-contained (all referenced types inlined) and parsed on its own.
 *
 * <p>Immutable; safe to share between threads.
 */
public final class SchemaSet {

  /** Property a baseline file carries with its version label, e.g. {@code "v1"}. */
  public static final String BASELINE_LABEL = "lattice.baseline";

  /** Sub-folder of the baseline folder keeping superseded baselines, {@code <full.Name>.<label>.avsc}. */
  public static final String HISTORY_DIR = "history";

  private final Map<String, Schema> byName;

  private SchemaSet(Map<String, Schema> byName) {
    this.byName = Map.copyOf(byName);
  }

  /** Parses every {@code .avsc} of {@code dir} together and collects every named type they define. */
  public static SchemaSet current(Path dir) throws IOException {
    SchemaParser parser = new SchemaParser();
    for (Path file : avscFiles(dir, false)) {
      try {
        parser.parse(file);
      } catch (RuntimeException e) {
        throw new IOException(file + " does not parse: " + e.getMessage(), e);
      }
    }
    Map<String, Schema> named = new LinkedHashMap<>();
    for (Schema schema : parser.getParsedNamedSchemas()) {
      collectNamed(schema, named);
    }
    return new SchemaSet(named);
  }

  /** The schema named {@code fullName}, or {@code null}. */
  public Schema find(String fullName) {
    return byName.get(fullName);
  }

  /** Every named type, by full name. */
  public Map<String, Schema> byName() {
    return byName;
  }

  /** A self-contained baseline file: the file, the schema it holds and its version label. */
  public record Baseline(Path file, Schema schema, String label) {}

  /**
   * Parses the baseline files of {@code dir}: the current baselines at its top level and the superseded
   * ones under {@value #HISTORY_DIR}/. Each file must hold one named type, named as the file.
   */
  public static List<Baseline> baselines(Path dir) throws IOException {
    List<Baseline> baselines = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return baselines;
    }
    for (Path file : avscFiles(dir, true)) {
      Schema schema;
      try {
        schema = new Schema.Parser().parse(file.toFile());
      } catch (RuntimeException e) {
        throw new IOException("baseline " + file + " does not parse: " + e.getMessage(), e);
      }
      String fileName = file.getFileName().toString();
      String label = schema.getProp(BASELINE_LABEL) == null ? "the baseline" : schema.getProp(BASELINE_LABEL);
      boolean history = !file.getParent().equals(dir);
      String expected = history ? schema.getFullName() + "." + label + ".avsc" : schema.getFullName() + ".avsc";
      if (!fileName.equals(expected)) {
        throw new IOException("baseline " + file + " holds " + schema.getFullName() + " (expected file name: " + expected + ")");
      }
      baselines.add(new Baseline(file, schema, label));
    }
    return baselines;
  }

  static List<Path> avscFiles(Path dir, boolean recursive) throws IOException {
    try (Stream<Path> files = recursive ? Files.walk(dir) : Files.list(dir)) {
      return files.filter(p -> Files.isRegularFile(p) && p.getFileName().toString().endsWith(".avsc")).sorted().toList();
    }
  }

  static void collectNamed(Schema schema, Map<String, Schema> named) {
    switch (schema.getType()) {
      case RECORD -> {
        if (named.putIfAbsent(schema.getFullName(), schema) == null) {
          for (Schema.Field field : schema.getFields()) {
            collectNamed(field.schema(), named);
          }
        }
      }
      case ENUM, FIXED -> named.putIfAbsent(schema.getFullName(), schema);
      case ARRAY -> collectNamed(schema.getElementType(), named);
      case MAP -> collectNamed(schema.getValueType(), named);
      case UNION -> schema.getTypes().forEach(branch -> collectNamed(branch, named));
      default -> { }
    }
  }
}
