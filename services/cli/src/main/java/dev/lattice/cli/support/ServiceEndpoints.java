package dev.lattice.cli.support;

import dev.lattice.kit.files.AtomicFiles;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * Where each Lattice service's HTTP endpoint and the Kafka broker are: the fixed local ports by default,
 * replaced by what a running local stack recorded in {@code <data-dir>/endpoints.properties}, and by
 * {@code LATTICE_<SERVICE>_URL} environment variables (e.g. {@code LATTICE_POLICY_URL}).
 *
 * <p>Immutable and thread-safe.
 *
 * @param services service name → base URL, in display order
 * @param kafka Kafka bootstrap servers ({@code host:port})
 * @param source where the list came from, for messages
 */
public record ServiceEndpoints(Map<String, URI> services, String kafka, String source) {

  /** The file a running {@code lattice up} writes into its data dir and deletes on stop. */
  public static final String FILE_NAME = "endpoints.properties";

  /** The fixed local ports (README's port table). */
  public static final Map<String, Integer> DEFAULT_PORTS = defaultPorts();
  /** The fixed local Kafka listener. */
  public static final String DEFAULT_KAFKA = "127.0.0.1:9092";

  public ServiceEndpoints {
    services = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(services));
  }

  private static Map<String, Integer> defaultPorts() {
    Map<String, Integer> ports = new LinkedHashMap<>();
    ports.put("identity", 7070);
    ports.put("node-agent", 7075);
    ports.put("policy", 7080);
    ports.put("distributor", 7090);
    ports.put("telemetry", 7100);
    ports.put("data-plane", 15000);
    return java.util.Collections.unmodifiableMap(ports);
  }

  /** The fixed local endpoints. */
  public static ServiceEndpoints defaults() {
    Map<String, URI> services = new LinkedHashMap<>();
    DEFAULT_PORTS.forEach((name, port) -> services.put(name, URI.create("http://127.0.0.1:" + port)));
    return new ServiceEndpoints(services, DEFAULT_KAFKA, "fixed local ports");
  }

  /**
   * The endpoints recorded by a running stack in {@code dataDir}, else the defaults; then environment
   * overrides ({@code LATTICE_<NAME>_URL}, {@code LATTICE_KAFKA_BOOTSTRAP_SERVERS}).
   */
  public static ServiceEndpoints resolve(Path dataDir, Map<String, String> env) {
    ServiceEndpoints base = read(dataDir.resolve(FILE_NAME)).orElseGet(ServiceEndpoints::defaults);
    Map<String, URI> services = new LinkedHashMap<>(base.services());
    String source = base.source();
    for (String name : new java.util.ArrayList<>(services.keySet())) {
      String override = env.get(envName(name));
      if (override != null && !override.isBlank()) {
        services.put(name, parseUrl(envName(name), override));
        source = source + " + environment";
      }
    }
    String kafka = env.getOrDefault("LATTICE_KAFKA_BOOTSTRAP_SERVERS", base.kafka());
    return new ServiceEndpoints(services, kafka, source);
  }

  /** The environment variable overriding {@code service}'s URL: {@code LATTICE_POLICY_URL}. */
  public static String envName(String service) {
    return "LATTICE_" + service.toUpperCase(Locale.ROOT).replace('-', '_') + "_URL";
  }

  /** Reads an endpoints file; empty when the file does not exist. */
  public static Optional<ServiceEndpoints> read(Path file) {
    if (!Files.isRegularFile(file)) return Optional.empty();
    Properties props = new Properties();
    try (InputStream in = Files.newInputStream(file)) {
      props.load(in);
    } catch (IOException e) {
      throw new CliException("error: cannot read " + file + ": " + e.getMessage());
    }
    // "services" keeps the display order; entries it does not list follow alphabetically.
    Map<String, URI> services = new LinkedHashMap<>();
    for (String name : props.getProperty("services", "").split(",")) {
      String url = props.getProperty("service." + name.trim());
      if (!name.isBlank() && url != null) services.put(name.trim(), parseUrl(file + " service." + name.trim(), url));
    }
    new TreeMap<>(props).keySet().stream().map(String::valueOf).filter(k -> k.startsWith("service."))
        .forEach(k -> services.putIfAbsent(k.substring("service.".length()), parseUrl(file + " " + k, props.getProperty(k))));
    return Optional.of(new ServiceEndpoints(services, props.getProperty("kafka", DEFAULT_KAFKA),
        "running stack (" + file + ")"));
  }

  /** Writes this list to {@code file} atomically (write then rename). */
  public void write(Path file) throws IOException {
    Properties props = new Properties();
    props.setProperty("kafka", kafka);
    props.setProperty("services", String.join(",", services.keySet()));
    services.forEach((name, url) -> props.setProperty("service." + name, url.toString()));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    props.store(out, "written by lattice up; deleted when it stops");
    AtomicFiles.write(file.toAbsolutePath(), out.toByteArray(), AtomicFiles.WORLD_READABLE); // no secrets in it
  }

  /** The base URL of {@code service}, or a usage error naming the known services. */
  public URI url(String service) {
    URI url = services.get(service);
    if (url == null) {
      throw CliException.usage("unknown service '" + service + "' (expected one of: "
          + String.join(", ", services.keySet()) + ")");
    }
    return url;
  }

  private static URI parseUrl(String where, String text) {
    try {
      URI uri = URI.create(text.trim());
      if (uri.getScheme() == null || uri.getHost() == null) throw new IllegalArgumentException("no scheme or host");
      return uri;
    } catch (IllegalArgumentException e) {
      throw CliException.usage(where + ": '" + text + "' (expected: a URL like http://127.0.0.1:7080)");
    }
  }
}
