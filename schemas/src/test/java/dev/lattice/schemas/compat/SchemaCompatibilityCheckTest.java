package dev.lattice.schemas.compat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaCompatibilityCheckTest {

  private static final String SELECTOR = """
      {"type": "record", "name": "Selector", "namespace": "dev.lattice.test", "doc": "d", "fields": [
        {"name": "type", "type": "string", "doc": "d"},
        {"name": "value", "type": "string", "doc": "d"}]}
      """;
  private static final String KIND = """
      {"type": "enum", "name": "Kind", "namespace": "dev.lattice.test", "doc": "d",
       "symbols": ["X509", "JWT"], "default": "X509"}
      """;
  private static final String ENTRY_V1 = """
      {"type": "record", "name": "Entry", "namespace": "dev.lattice.test", "doc": "d", "fields": [
        {"name": "id", "type": "string", "doc": "d"},
        {"name": "spiffeId", "type": "string", "doc": "d"},
        {"name": "ttl", "type": "int", "doc": "d", "default": 0},
        {"name": "kind", "type": "dev.lattice.test.Kind", "doc": "d"},
        {"name": "selector", "type": ["null", "dev.lattice.test.Selector", "string"], "doc": "d", "default": null},
        {"name": "selectors", "type": {"type": "array", "items": "dev.lattice.test.Selector"}, "doc": "d", "default": []}]}
      """;

  @TempDir Path tmp;
  Path current;
  Path compat;

  @BeforeEach
  void releaseV1() throws IOException {
    current = Files.createDirectories(tmp.resolve("avro"));
    compat = tmp.resolve("compat");
    write("dev.lattice.test.Selector", SELECTOR);
    write("dev.lattice.test.Kind", KIND);
    write("dev.lattice.test.Entry", ENTRY_V1);
    List<SchemaSnapshot.Result> results = SchemaSnapshot.snapshot(current, compat);
    assertThat(results).extracting(SchemaSnapshot.Result::change).containsOnly(SchemaSnapshot.Change.CREATED);
    assertThat(compat.resolve("dev.lattice.test.Entry.avsc")).exists();
  }

  @Test
  void unchangedSchemasPass() throws IOException {
    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();
  }

  @Test
  void removingAFieldWithoutADefaultNamesSchemaAndField() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "spiffeId", "type": "string", "doc": "d"},
        """, ""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Entry: field 'spiffeId' removed without a default (readers of v1 need it)");
  }

  @Test
  void removingAFieldWithADefaultPasses() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "ttl", "type": "int", "doc": "d", "default": 0},
        """, ""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();
  }

  @Test
  void addingAFieldWithADefaultPasses() throws IOException {
    write("dev.lattice.test.Entry", withField(ENTRY_V1, """
        {"name": "dnsNames", "type": {"type": "array", "items": "string"}, "doc": "d", "default": []}"""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();
  }

  @Test
  void addingAFieldWithoutADefaultFails() throws IOException {
    write("dev.lattice.test.Entry", withField(ENTRY_V1, """
        {"name": "parentId", "type": "string", "doc": "d"}"""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Entry: field 'parentId' added without a default (data written with v1 lacks it)");
  }

  @Test
  void addingAFieldToANestedRecordWithoutADefaultNamesTheNestedRecord() throws IOException {
    write("dev.lattice.test.Selector", withField(SELECTOR, """
        {"name": "weight", "type": "int", "doc": "d"}"""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Selector: field 'weight' added without a default (data written with v1 lacks it)");
  }

  @Test
  void changingATypeIncompatiblyFails() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "id", "type": "string", "doc": "d"}""", """
        {"name": "id", "type": "int", "doc": "d"}"""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Entry: field 'id' changed type from string to int (data written with v1 cannot be read)");
  }

  @Test
  void promotingIntToLongPasses() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "ttl", "type": "int", "doc": "d", "default": 0}""", """
        {"name": "ttl", "type": "long", "doc": "d", "default": 0}"""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();
  }

  @Test
  void addingAnEnumSymbolPassesRemovingOneFails() throws IOException {
    write("dev.lattice.test.Kind", KIND.replace("[\"X509\", \"JWT\"]", "[\"X509\", \"JWT\", \"WIT\"]"));
    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();

    write("dev.lattice.test.Kind", KIND.replace("[\"X509\", \"JWT\"]", "[\"X509\"]"));
    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Kind: enum symbol 'JWT' removed (data written with v1 may carry it)");
  }

  @Test
  void addingAUnionBranchPassesRemovingOneFails() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("[\"null\", \"dev.lattice.test.Selector\", \"string\"]",
        "[\"null\", \"dev.lattice.test.Selector\", \"string\", \"long\"]"));
    assertThat(SchemaCompatibilityCheck.check(current, compat)).isEmpty();

    write("dev.lattice.test.Entry", ENTRY_V1.replace("[\"null\", \"dev.lattice.test.Selector\", \"string\"]",
        "[\"null\", \"dev.lattice.test.Selector\"]"));
    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactly(
        "schema dev.lattice.test.Entry: field 'selector' lost union branch string (data written with v1 may use it)");
  }

  @Test
  void deletingASchemaThatHasABaselineFails() throws IOException {
    Files.delete(current.resolve("dev.lattice.test.Selector.avsc"));
    write("dev.lattice.test.Entry", ENTRY_V1.replace("\"dev.lattice.test.Selector\", ", "")
        .replace("\"items\": \"dev.lattice.test.Selector\"", "\"items\": \"string\""));

    assertThat(SchemaCompatibilityCheck.check(current, compat)).contains(
        "schema dev.lattice.test.Selector: removed, but baseline dev.lattice.test.Selector.avsc exists"
            + " (readers of v1 need it; a schema is never deleted)");
  }

  @Test
  void mainFailsTheBuildWithTheMessages() throws IOException {
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "spiffeId", "type": "string", "doc": "d"},
        """, ""));

    assertThatThrownBy(() -> SchemaCompatibilityCheck.main(new String[] {current.toString(), compat.toString()}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("incompatible schema change (1 error)")
        .hasMessageContaining("schema dev.lattice.test.Entry: field 'spiffeId' removed without a default (readers of v1 need it)");
  }

  @Test
  void snapshotKeepsTheOldVersionInHistoryAndChecksAgainstBoth() throws IOException {
    write("dev.lattice.test.Entry", withField(ENTRY_V1, """
        {"name": "zone", "type": "string", "doc": "d", "default": ""}"""));

    assertThat(SchemaSnapshot.snapshot(current, compat))
        .contains(new SchemaSnapshot.Result("dev.lattice.test.Entry", SchemaSnapshot.Change.NEW_VERSION, "v2"))
        .contains(new SchemaSnapshot.Result("dev.lattice.test.Kind", SchemaSnapshot.Change.UNCHANGED, "v1"));
    assertThat(compat.resolve("history/dev.lattice.test.Entry.v1.avsc")).exists();
    assertThat(SchemaSet.baselines(compat)).extracting(SchemaSet.Baseline::label).contains("v1", "v2");

    // v2's zone had a default, so dropping it is fine for v2 — but v1 (history) still needs spiffeId
    write("dev.lattice.test.Entry", ENTRY_V1.replace("""
        {"name": "spiffeId", "type": "string", "doc": "d"},
        """, ""));
    assertThat(SchemaCompatibilityCheck.check(current, compat)).containsExactlyInAnyOrder(
        "schema dev.lattice.test.Entry: field 'spiffeId' removed without a default (readers of v2 need it)",
        "schema dev.lattice.test.Entry: field 'spiffeId' removed without a default (readers of v1 need it)");
  }

  @Test
  void snapshotRefusesIncompatibleSchemas() throws IOException {
    write("dev.lattice.test.Entry", withField(ENTRY_V1, """
        {"name": "parentId", "type": "string", "doc": "d"}"""));

    assertThatThrownBy(() -> SchemaSnapshot.snapshot(current, compat))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("refusing to snapshot")
        .hasMessageContaining("field 'parentId' added without a default");
  }

  @Test
  void docOnlyChangeRewritesTheBaselineInPlace() throws IOException {
    write("dev.lattice.test.Kind", KIND.replace("\"doc\": \"d\"", "\"doc\": \"better words\""));

    assertThat(SchemaSnapshot.snapshot(current, compat))
        .contains(new SchemaSnapshot.Result("dev.lattice.test.Kind", SchemaSnapshot.Change.REWRITTEN, "v1"));
    assertThat(compat.resolve(SchemaSet.HISTORY_DIR)).doesNotExist();
  }

  @Test
  void aBaselineFileNamedForAnotherSchemaIsRejected() throws IOException {
    Files.move(compat.resolve("dev.lattice.test.Kind.avsc"), compat.resolve("dev.lattice.test.Other.avsc"));

    assertThatThrownBy(() -> SchemaCompatibilityCheck.check(current, compat))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("holds dev.lattice.test.Kind (expected file name: dev.lattice.test.Kind.avsc)");
  }

  /** The project's own schemas against the committed baselines: what the build runs. */
  @Test
  void projectSchemasAreCompatibleWithTheCommittedBaselines() throws IOException {
    assertThat(SchemaCompatibilityCheck.check(Path.of("src/main/avro"), Path.of("compat"))).isEmpty();
  }

  private void write(String name, String json) throws IOException {
    Files.writeString(current.resolve(name + ".avsc"), json);
  }

  private static String withField(String record, String field) {
    int end = record.lastIndexOf("]}");
    return record.substring(0, end) + ",\n  " + field + "]}" + record.substring(end + 2);
  }
}
