package dev.lattice.schemas.compat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;

/**
 * Records the current schemas as the new baselines ({@code schemas/compat/<full.Name>.avsc}), the step that
 * releases a schema version. A baseline whose parsing canonical form changed moves to
 * {@code compat/history/<full.Name>.<label>.avsc} (so readers keep decoding data written with it) and the new
 * one gets the next label ({@code v1}, {@code v2}, …); a doc- or default-only change rewrites the baseline
 * in place. Refuses to run while {@link SchemaCompatibilityCheck} reports errors, so an incompatible change
 * cannot be snapshotted away.
 *
 * <p>Run by hand: {@code mvn -B -o -pl schemas compile exec:java@schema-snapshot}. Not thread-safe (writes files).
 */
public final class SchemaSnapshot {

  private SchemaSnapshot() {}

  /** What a snapshot did to one named type. */
  public enum Change { CREATED, UNCHANGED, REWRITTEN, NEW_VERSION }

  /** The outcome for one named type. */
  public record Result(String name, Change change, String label) {}

  /**
   * Snapshots every named type of {@code currentDir} into {@code baselineDir}.
   *
   * @throws IllegalStateException when the current schemas are incompatible with the baselines
   */
  public static List<Result> snapshot(Path currentDir, Path baselineDir) throws IOException {
    List<String> errors = SchemaCompatibilityCheck.check(currentDir, baselineDir);
    if (!errors.isEmpty()) {
      throw new IllegalStateException("refusing to snapshot incompatible schemas:\n  " + String.join("\n  ", errors));
    }
    Files.createDirectories(baselineDir);
    List<Result> results = new ArrayList<>();
    for (Map.Entry<String, Schema> entry : SchemaSet.current(currentDir).byName().entrySet()) {
      String name = entry.getKey();
      Schema schema = entry.getValue();
      Path file = baselineDir.resolve(name + ".avsc");
      if (!Files.exists(file)) {
        write(file, schema, "v1");
        results.add(new Result(name, Change.CREATED, "v1"));
        continue;
      }
      Schema old = new Schema.Parser().parse(file.toFile());
      String label = old.getProp(SchemaSet.BASELINE_LABEL) == null ? "v1" : old.getProp(SchemaSet.BASELINE_LABEL);
      if (SchemaNormalization.toParsingForm(old).equals(SchemaNormalization.toParsingForm(schema))) {
        if (render(schema, label).equals(Files.readString(file, StandardCharsets.UTF_8))) {
          results.add(new Result(name, Change.UNCHANGED, label));
        } else {
          write(file, schema, label);
          results.add(new Result(name, Change.REWRITTEN, label));
        }
        continue;
      }
      Path history = baselineDir.resolve(SchemaSet.HISTORY_DIR);
      Files.createDirectories(history);
      Files.move(file, history.resolve(name + "." + label + ".avsc"), StandardCopyOption.REPLACE_EXISTING);
      String next = nextLabel(label);
      write(file, schema, next);
      results.add(new Result(name, Change.NEW_VERSION, next));
    }
    return results;
  }

  /** Entry point: {@code SchemaSnapshot <current-avsc-dir> <baseline-dir>}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: SchemaSnapshot <current-avsc-dir> <baseline-dir>");
    }
    for (Result result : snapshot(Path.of(args[0]), Path.of(args[1]))) {
      if (result.change() != Change.UNCHANGED) {
        // a build tool's report of the files it wrote
        System.out.println("[lattice] " + result.change() + " " + result.name() + " " + result.label());
      }
    }
  }

  static String nextLabel(String label) {
    if (label.matches("v\\d+")) {
      return "v" + (Integer.parseInt(label.substring(1)) + 1);
    }
    throw new IllegalStateException("baseline label '" + label + "' (expected: v<number>)");
  }

  /** The self-contained JSON of {@code schema} (referenced types inlined) carrying its label. */
  static String render(Schema schema, String label) {
    Schema copy = new Schema.Parser().parse(schema.toString());
    copy.addProp(SchemaSet.BASELINE_LABEL, label);
    return copy.toString(true) + "\n";
  }

  private static void write(Path file, Schema schema, String label) throws IOException {
    Files.writeString(file, render(schema, label), StandardCharsets.UTF_8);
  }
}
