package dev.lattice.schemas.compat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityResult;
import org.apache.avro.SchemaCompatibility.SchemaCompatibilityType;

/**
 * The build's schema compatibility gate: every current schema must be able to read what every released
 * version (the baselines in {@code schemas/compat/}, including {@code history/}) wrote, and must not take
 * away from readers of those versions what they need.
 *
 * <p>Rules, per named type that has a baseline:
 * <ul>
 *   <li>the baseline's type still exists in the current schemas;</li>
 *   <li>backward: Avro's {@link SchemaCompatibility} says the current schema can read the baseline's data
 *       (a field added with a default, numeric promotion, union branch or enum symbol added — fine);</li>
 *   <li>a field that had no default is not removed (readers of the baseline need it);</li>
 *   <li>no enum symbol is removed (old data carrying it would silently read as the enum default).</li>
 * </ul>
 * Every error names the schema and the field, e.g. {@code schema dev.lattice.events.RegistrationEntry:
 * field 'spiffeId' removed without a default (readers of v1 need it)}.
 *
 * <p>Run by the build at {@code process-classes} (exec-maven-plugin) so {@code mvn install} fails on an
 * incompatible change even with {@code -DskipTests}. Stateless; thread-safe.
 */
public final class SchemaCompatibilityCheck {

  private SchemaCompatibilityCheck() {}

  /**
   * Checks the schemas of {@code currentDir} against the baselines of {@code baselineDir}.
   *
   * @return the errors, empty when compatible
   */
  public static List<String> check(Path currentDir, Path baselineDir) throws IOException {
    SchemaSet current = SchemaSet.current(currentDir);
    Set<String> errors = new LinkedHashSet<>();
    for (SchemaSet.Baseline baseline : SchemaSet.baselines(baselineDir)) {
      String name = baseline.schema().getFullName();
      Schema now = current.find(name);
      if (now == null) {
        errors.add("schema " + name + ": removed, but baseline " + baselineDir.relativize(baseline.file())
            + " exists (readers of " + baseline.label() + " need it; a schema is never deleted)");
        continue;
      }
      errors.addAll(compare(now, baseline.schema(), baseline.label()));
    }
    return List.copyOf(errors);
  }

  /**
   * Compares a current (reader) schema with a baseline (writer) schema.
   *
   * @param label the baseline's version label, used in messages ("v1")
   * @return the errors, empty when compatible
   */
  public static List<String> compare(Schema current, Schema baseline, String label) {
    Set<String> errors = new LinkedHashSet<>();
    new Walk(label, errors).compare(current.getFullName(), null, current, baseline);
    SchemaCompatibilityResult avro = SchemaCompatibility.checkReaderWriterCompatibility(current, baseline).getResult();
    if (avro.getCompatibility() != SchemaCompatibilityType.COMPATIBLE && errors.isEmpty()) {
      // Avro is the authority on backward compatibility: report what it saw even where the walk is silent
      for (Incompatibility i : avro.getIncompatibilities()) {
        errors.add("schema " + current.getFullName() + ": cannot read data written with " + label + ": "
            + i.getType() + " " + i.getMessage() + " at " + i.getLocation());
      }
    }
    return new ArrayList<>(errors);
  }

  /** Build entry point: {@code SchemaCompatibilityCheck <current-avsc-dir> <baseline-dir>}. */
  public static void main(String[] args) throws IOException {
    if (args.length != 2) {
      throw new IllegalArgumentException("usage: SchemaCompatibilityCheck <current-avsc-dir> <baseline-dir>");
    }
    Path currentDir = Path.of(args[0]);
    Path baselineDir = Path.of(args[1]);
    List<String> errors = check(currentDir, baselineDir);
    if (!errors.isEmpty()) {
      throw new IllegalStateException("incompatible schema change (" + errors.size() + " error"
          + (errors.size() == 1 ? "" : "s") + "), see docs/schemas.md:\n  " + String.join("\n  ", errors));
    }
    // a build tool's one-line summary, like the compiler's
    System.out.println("[lattice] schemas compatible with " + SchemaSet.baselines(baselineDir).size()
        + " baseline files in " + baselineDir);
  }

  /** Recursive field-by-field comparison producing messages that name the record and field. */
  private static final class Walk {
    private final String label;
    private final Set<String> errors;
    private final Set<String> visited = new HashSet<>();

    Walk(String label, Set<String> errors) {
      this.label = label;
      this.errors = errors;
    }

    /** {@code owner} is the record holding {@code field} (null at the top). */
    void compare(String owner, String field, Schema reader, Schema writer) {
      if (writer.getType() == Schema.Type.UNION || reader.getType() == Schema.Type.UNION) {
        compareUnion(owner, field, reader, writer);
        return;
      }
      if (reader.getType() != writer.getType() || !sameName(reader, writer)) {
        if (!readable(reader, writer)) {
          errors.add(where(owner, field) + "changed type from " + describe(writer) + " to " + describe(reader)
              + " (data written with " + label + " cannot be read)");
        }
        return;
      }
      switch (reader.getType()) {
        case RECORD -> compareRecord(reader, writer);
        case ENUM -> {
          for (String symbol : writer.getEnumSymbols()) {
            if (!reader.getEnumSymbols().contains(symbol)) {
              errors.add("schema " + reader.getFullName() + ": enum symbol '" + symbol + "' removed (data written with "
                  + label + " may carry it)");
            }
          }
        }
        case FIXED -> {
          if (reader.getFixedSize() != writer.getFixedSize()) {
            errors.add(where(owner, field) + "fixed size changed from " + writer.getFixedSize() + " to "
                + reader.getFixedSize());
          }
        }
        case ARRAY -> compare(owner, field, reader.getElementType(), writer.getElementType());
        case MAP -> compare(owner, field, reader.getValueType(), writer.getValueType());
        default -> { }
      }
    }

    private void compareRecord(Schema reader, Schema writer) {
      if (!visited.add(reader.getFullName())) {
        return;
      }
      String owner = reader.getFullName();
      for (Schema.Field readerField : reader.getFields()) {
        Schema.Field writerField = writerFieldFor(writer, readerField);
        if (writerField == null) {
          if (!readerField.hasDefaultValue()) {
            errors.add("schema " + owner + ": field '" + readerField.name() + "' added without a default (data written with "
                + label + " lacks it)");
          }
        } else {
          compare(owner, readerField.name(), readerField.schema(), writerField.schema());
        }
      }
      for (Schema.Field writerField : writer.getFields()) {
        if (readerFieldFor(reader, writerField) == null && !writerField.hasDefaultValue()) {
          errors.add("schema " + owner + ": field '" + writerField.name() + "' removed without a default (readers of "
              + label + " need it)");
        }
      }
    }

    private void compareUnion(String owner, String field, Schema reader, Schema writer) {
      List<Schema> writerBranches = writer.getType() == Schema.Type.UNION ? writer.getTypes() : List.of(writer);
      List<Schema> readerBranches = reader.getType() == Schema.Type.UNION ? reader.getTypes() : List.of(reader);
      for (Schema branch : writerBranches) {
        Schema match = readerBranches.stream().filter(r -> r.getType() == branch.getType() && sameName(r, branch))
            .findFirst().orElse(null);
        if (match != null) {
          compare(owner, field, match, branch);
        } else if (readerBranches.stream().noneMatch(r -> readable(r, branch))) {
          errors.add(where(owner, field) + (reader.getType() == Schema.Type.UNION ? "lost union branch " : "changed type from ")
              + describe(branch) + (reader.getType() == Schema.Type.UNION ? "" : " to " + describe(reader))
              + " (data written with " + label + " may use it)");
        }
      }
    }

    private static boolean readable(Schema reader, Schema writer) {
      return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getType()
          == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE;
    }

    private static boolean sameName(Schema a, Schema b) {
      return switch (a.getType()) {
        case RECORD, ENUM, FIXED -> a.getFullName().equals(b.getFullName()) || a.getAliases().contains(b.getFullName());
        default -> true;
      };
    }

    private static Schema.Field writerFieldFor(Schema writer, Schema.Field readerField) {
      Schema.Field direct = writer.getField(readerField.name());
      if (direct != null) {
        return direct;
      }
      for (String alias : readerField.aliases()) {
        if (writer.getField(alias) != null) {
          return writer.getField(alias);
        }
      }
      return null;
    }

    private static Schema.Field readerFieldFor(Schema reader, Schema.Field writerField) {
      if (reader.getField(writerField.name()) != null) {
        return reader.getField(writerField.name());
      }
      for (Schema.Field f : reader.getFields()) {
        if (f.aliases().contains(writerField.name())) {
          return f;
        }
      }
      return null;
    }

    private static String where(String owner, String field) {
      return "schema " + owner + ": " + (field == null ? "" : "field '" + field + "' ");
    }

    private static String describe(Schema schema) {
      return switch (schema.getType()) {
        case RECORD, ENUM, FIXED -> schema.getFullName();
        case ARRAY -> "array<" + describe(schema.getElementType()) + ">";
        case MAP -> "map<" + describe(schema.getValueType()) + ">";
        case UNION -> schema.getTypes().stream().map(Walk::describe).toList().toString();
        default -> schema.getType().getName();
      };
    }
  }
}
