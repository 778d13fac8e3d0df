package dev.lattice.schemas.serde;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ConfigStatus;
import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.SvidIssued;
import dev.lattice.events.TrustBundle;
import dev.lattice.events.WorkloadEndpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.JarURLConnection;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.message.SchemaStore;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The writer schemas a Lattice reader knows, by their CRC-64-AVRO fingerprint: the current schema of every
 * event type plus every historical baseline packaged in this jar under {@value #BASELINE_RESOURCE_DIR}
 * (copied from {@code schemas/compat/} at build time). A reader built from this catalog decodes events
 * written by any released version of a schema.
 *
 * <p>Immutable once built; safe to share between threads. Nothing to close.
 */
public final class SchemaCatalog implements SchemaStore {

  /** Class-path folder holding the baseline schemas (one self-contained {@code .avsc} per file). */
  public static final String BASELINE_RESOURCE_DIR = "lattice/schemas/compat";

  /** The event types written on Lattice topics (one per topic of the catalog, DLQs excluded). */
  public static final List<Class<? extends SpecificRecord>> EVENT_TYPES = List.of(
      ResourceEvent.class, ResourceRejected.class, WorkloadEndpoint.class, RegistrationEntry.class,
      TrustBundle.class, SvidIssued.class, ConfigResource.class, ConfigStatus.class, FlowRecord.class,
      EdgeMetrics.class);

  private static final Logger LOG = LoggerFactory.getLogger(SchemaCatalog.class);

  private static volatile SchemaCatalog bundled;

  private final Map<Long, Schema> byFingerprint;

  private SchemaCatalog(Map<Long, Schema> byFingerprint) {
    this.byFingerprint = Map.copyOf(byFingerprint);
  }

  /**
   * The catalog of this jar: current event schemas and every packaged baseline. Loaded once, on first use.
   *
   * @throws IllegalStateException when a packaged baseline does not parse (a broken build)
   */
  public static SchemaCatalog bundled() {
    SchemaCatalog catalog = bundled;
    if (catalog == null) {
      synchronized (SchemaCatalog.class) {
        catalog = bundled;
        if (catalog == null) {
          List<Schema> schemas = new ArrayList<>();
          for (Class<? extends SpecificRecord> type : EVENT_TYPES) {
            schemas.add(SpecificData.get().getSchema(type));
          }
          List<Schema> baselines = loadBaselines(SchemaCatalog.class.getClassLoader());
          if (baselines.isEmpty()) {
            baselines = loadBaselinesBesideThisClass();
          }
          if (baselines.isEmpty()) {
            LOG.warn("no baseline schemas under {} on the class path: only current writers can be decoded",
                BASELINE_RESOURCE_DIR);
          }
          schemas.addAll(baselines);
          catalog = of(schemas);
          bundled = catalog;
        }
      }
    }
    return catalog;
  }

  /** A catalog of exactly these schemas (tests, tools); of schemas with equal fingerprints the first wins. */
  public static SchemaCatalog of(Collection<Schema> schemas) {
    Map<Long, Schema> map = new LinkedHashMap<>();
    for (Schema schema : schemas) {
      map.putIfAbsent(fingerprint(schema), schema);
    }
    return new SchemaCatalog(map);
  }

  /** This catalog plus {@code schema} (replacing a schema with the same fingerprint). */
  public SchemaCatalog with(Schema schema) {
    Map<Long, Schema> map = new LinkedHashMap<>(byFingerprint);
    map.put(fingerprint(schema), schema);
    return new SchemaCatalog(map);
  }

  /** The CRC-64-AVRO fingerprint of the schema's parsing canonical form, as in the single-object header. */
  public static long fingerprint(Schema schema) {
    return SchemaNormalization.parsingFingerprint64(schema);
  }

  /** The schema with this fingerprint, or {@code null}. */
  @Override
  public Schema findByFingerprint(long fingerprint) {
    return byFingerprint.get(fingerprint);
  }

  /** Every schema of the catalog. */
  public Collection<Schema> schemas() {
    return byFingerprint.values();
  }

  /** Number of distinct schemas (by fingerprint). */
  public int size() {
    return byFingerprint.size();
  }

  /**
   * Parses every {@code .avsc} below {@value #BASELINE_RESOURCE_DIR} in every class-path root of
   * {@code loader} that has that folder, directories and jars alike. Each file is self-contained and parsed
   * on its own.
   *
   * @throws IllegalStateException when a baseline does not parse
   */
  static List<Schema> loadBaselines(ClassLoader loader) {
    Map<String, String> texts = new TreeMap<>();
    try {
      Enumeration<URL> roots = loader.getResources(BASELINE_RESOURCE_DIR);
      while (roots.hasMoreElements()) {
        URL root = roots.nextElement();
        switch (root.getProtocol()) {
          case "file" -> readDirectory(Path.of(toUri(root)), texts);
          case "jar" -> readJar(Path.of(toUri(((JarURLConnection) root.openConnection()).getJarFileURL())), texts);
          default -> throw new IOException("cannot list baseline schemas at " + root
              + " (expected: a file or jar class-path entry)");
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list baseline schemas under " + BASELINE_RESOURCE_DIR, e);
    }
    return parse(texts);
  }

  /**
   * Baselines found next to this class when the class loader cannot list the folder (a jar written without
   * folder entries, as some fat-jar tools do).
   */
  static List<Schema> loadBaselinesBesideThisClass() {
    Map<String, String> texts = new TreeMap<>();
    try {
      Path location = Path.of(SchemaCatalog.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      if (Files.isDirectory(location)) {
        readDirectory(location.resolve(BASELINE_RESOURCE_DIR), texts);
      } else {
        readJar(location, texts);
      }
    } catch (IOException | URISyntaxException | RuntimeException e) {
      LOG.warn("cannot look for baseline schemas beside {}: {}", SchemaCatalog.class.getName(), e.toString());
    }
    return parse(texts);
  }

  /** Reads the baseline files of a jar by entry name; needs no folder entries. */
  static void readJar(Path jarFile, Map<String, String> texts) throws IOException {
    try (JarFile jar = new JarFile(jarFile.toFile())) {
      Enumeration<JarEntry> entries = jar.entries();
      while (entries.hasMoreElements()) {
        JarEntry entry = entries.nextElement();
        if (entry.getName().startsWith(BASELINE_RESOURCE_DIR + "/") && entry.getName().endsWith(".avsc")) {
          try (InputStream in = jar.getInputStream(entry)) {
            texts.put(jarFile + "!/" + entry.getName(), new String(in.readAllBytes(), StandardCharsets.UTF_8));
          }
        }
      }
    }
  }

  private static void readDirectory(Path dir, Map<String, String> texts) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".avsc")).toList()) {
        texts.put(file.toString(), Files.readString(file, StandardCharsets.UTF_8));
      }
    }
  }

  private static List<Schema> parse(Map<String, String> texts) {
    List<Schema> schemas = new ArrayList<>();
    texts.forEach((source, text) -> {
      try {
        schemas.add(new Schema.Parser().parse(text));
      } catch (RuntimeException e) {
        throw new IllegalStateException("baseline schema " + source + " does not parse: " + e.getMessage(), e);
      }
    });
    return schemas;
  }

  private static java.net.URI toUri(URL url) throws IOException {
    try {
      return url.toURI();
    } catch (URISyntaxException e) {
      throw new IOException("bad class-path URL " + url, e);
    }
  }
}
