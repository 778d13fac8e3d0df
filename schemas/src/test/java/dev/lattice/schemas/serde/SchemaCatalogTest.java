package dev.lattice.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.TrustBundle;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaCatalogTest {

  @TempDir Path tmp;

  @Test
  void bundledCatalogHoldsTheCommittedBaselines() {
    List<Schema> baselines = SchemaCatalog.loadBaselines(getClass().getClassLoader());

    assertThat(baselines).extracting(Schema::getFullName)
        .contains("dev.lattice.events.RegistrationEntry", "dev.lattice.events.ResourceEvent",
            "dev.lattice.events.config.ClusterConfig", "dev.lattice.events.policy.TrafficRouteSpec");
    Schema entryBaseline = baselines.stream()
        .filter(s -> s.getFullName().equals("dev.lattice.events.RegistrationEntry")).findFirst().orElseThrow();
    assertThat(SchemaCatalog.bundled().findByFingerprint(SchemaCatalog.fingerprint(entryBaseline))).isNotNull();
    assertThat(SchemaCatalog.loadBaselinesBesideThisClass()).hasSameSizeAs(baselines);
  }

  @Test
  void baselinesAreListedFromAJarToo() throws IOException {
    Schema older = AvroSerdeTest.withoutField(TrustBundle.getClassSchema(), "refreshHintSeconds");
    Path jar = tmp.resolve("schemas.jar");
    try (TestJar out = new TestJar(jar)) {
      out.put(SchemaCatalog.BASELINE_RESOURCE_DIR + "/history/dev.lattice.events.TrustBundle.v1.avsc", older.toString(true));
      out.put(SchemaCatalog.BASELINE_RESOURCE_DIR + "/dev.lattice.events.RegistrationEntry.avsc",
          RegistrationEntry.getClassSchema().toString(true));
      out.put(SchemaCatalog.BASELINE_RESOURCE_DIR + "/README.txt", "not a schema");
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      List<Schema> loaded = SchemaCatalog.loadBaselines(loader);

      assertThat(loaded).extracting(SchemaCatalog::fingerprint).containsExactlyInAnyOrder(
          SchemaCatalog.fingerprint(older), SchemaCatalog.fingerprint(RegistrationEntry.getClassSchema()));

      // and a reader built from them decodes what the older writer wrote
      GenericRecord old = new GenericData.Record(older);
      old.put("trustDomain", "lattice.local");
      old.put("x509Authorities", List.of());
      old.put("jwtAuthorities", List.of());
      old.put("sequence", 1L);
      old.put("updatedAt", 0L);
      byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), older).encode(old).array();
      TrustBundle decoded = AvroSerde.of(TrustBundle.class, SchemaCatalog.of(loaded)).deserialize("t", bytes);
      assertThat(decoded.getRefreshHintSeconds()).isEqualTo(300);
    }
  }

  @Test
  void aJarWithoutFolderEntriesIsReadByEntryName() throws IOException {
    Path jar = tmp.resolve("flat.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar))) {
      out.putNextEntry(new JarEntry(SchemaCatalog.BASELINE_RESOURCE_DIR + "/dev.lattice.events.RegistrationEntry.avsc"));
      out.write(RegistrationEntry.getClassSchema().toString(true).getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }
    Map<String, String> texts = new TreeMap<>();
    SchemaCatalog.readJar(jar, texts);

    assertThat(texts).hasSize(1);
    assertThat(texts.keySet().iterator().next()).endsWith("!/lattice/schemas/compat/dev.lattice.events.RegistrationEntry.avsc");
  }

  @Test
  void aBrokenBaselineFailsLoudly() throws IOException {
    Path jar = tmp.resolve("broken.jar");
    try (TestJar out = new TestJar(jar)) {
      out.put(SchemaCatalog.BASELINE_RESOURCE_DIR + "/dev.lattice.events.Broken.avsc", "{\"type\": \"record\"");
    }
    try (URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, null)) {
      assertThatThrownBy(() -> SchemaCatalog.loadBaselines(loader))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("dev.lattice.events.Broken.avsc does not parse");
    }
  }

  /** A jar written like maven-jar-plugin writes one: folder entries before the files in them. */
  private static final class TestJar implements AutoCloseable {
    private final JarOutputStream out;
    private final Set<String> folders = new HashSet<>();

    TestJar(Path file) throws IOException {
      out = new JarOutputStream(Files.newOutputStream(file));
    }

    void put(String name, String text) throws IOException {
      int slash = -1;
      while ((slash = name.indexOf('/', slash + 1)) > 0) {
        String folder = name.substring(0, slash + 1);
        if (folders.add(folder)) {
          out.putNextEntry(new JarEntry(folder));
          out.closeEntry();
        }
      }
      out.putNextEntry(new JarEntry(name));
      out.write(text.getBytes(StandardCharsets.UTF_8));
      out.closeEntry();
    }

    @Override
    public void close() throws IOException {
      out.close();
    }
  }
}
