package dev.lattice.schemas.compat;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** House rules of src/main/avro: one named type per file named after it, a doc on every type and field. */
class SchemaSourcesTest {

  private static final Path SOURCES = Path.of("src/main/avro");
  private static final Set<String> NAMESPACES =
      Set.of("dev.lattice.events", "dev.lattice.events.policy", "dev.lattice.events.config");

  @Test
  void everyFileDefinesOneNamedTypeNamedAsTheFile() throws IOException {
    List<String> problems = new ArrayList<>();
    ObjectMapper json = new ObjectMapper();
    for (Path file : SchemaSet.avscFiles(SOURCES, false)) {
      JsonNode root = json.readTree(file.toFile());
      String expected = file.getFileName().toString().replaceFirst("\\.avsc$", "");
      String defined = root.path("namespace").asText() + "." + root.path("name").asText();
      if (!defined.equals(expected)) {
        problems.add(file + " defines " + defined);
      }
      int named = countNamedDefinitions(root);
      if (named != 1) {
        problems.add(file + " defines " + named + " named types (expected: 1)");
      }
    }
    assertThat(problems).isEmpty();
  }

  private static int countNamedDefinitions(JsonNode node) {
    int count = 0;
    if (node.isObject() && Set.of("record", "enum", "fixed").contains(node.path("type").asText())) {
      count++;
    }
    for (JsonNode child : node) {
      count += countNamedDefinitions(child);
    }
    return count;
  }

  @Test
  void everyTypeAndFieldHasADocAndALatticeNamespace() throws IOException {
    List<String> problems = new ArrayList<>();
    for (Map.Entry<String, Schema> entry : SchemaSet.current(SOURCES).byName().entrySet()) {
      Schema schema = entry.getValue();
      if (!NAMESPACES.contains(schema.getNamespace())) {
        problems.add(entry.getKey() + ": namespace " + schema.getNamespace());
      }
      if (schema.getDoc() == null || schema.getDoc().isBlank()) {
        problems.add(entry.getKey() + ": no doc");
      }
      if (schema.getType() == Schema.Type.RECORD) {
        for (Schema.Field field : schema.getFields()) {
          if (field.doc() == null || field.doc().isBlank()) {
            problems.add(entry.getKey() + "." + field.name() + ": no doc");
          }
        }
      }
      if (schema.getType() == Schema.Type.ENUM && schema.getEnumDefault() == null) {
        problems.add(entry.getKey() + ": enum without a default symbol");
      }
    }
    assertThat(problems).isEmpty();
    assertThat(SchemaSet.current(SOURCES).byName()).containsKeys("dev.lattice.events.ResourceEvent",
        "dev.lattice.events.policy.TrafficRouteSpec", "dev.lattice.events.config.ClusterConfig");
  }
}
