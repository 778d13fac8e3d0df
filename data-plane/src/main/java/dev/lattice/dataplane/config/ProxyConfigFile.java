package dev.lattice.dataplane.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import dev.lattice.dataplane.tls.TlsEngine;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import org.apache.avro.specific.SpecificRecord;

/**
 * File mode: a YAML file of the compiled model ({@code ./lattice proxy --config f.yaml}). Top-level
 * keys {@code settings}, {@code listeners}, {@code routes}, {@code clusters}, {@code authorization},
 * {@code peerAuthentication}, {@code rateLimits}; each list item is written as the Avro config record's fields
 * (docs/data-plane.md shows one). Stateless.
 */
public final class ProxyConfigFile {
  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Set<String> TOP_LEVEL = Set.of("settings", "listeners", "routes", "clusters", "authorization", "peerAuthentication",
      "rateLimits");

  private ProxyConfigFile() {}

  /** Reads and validates the file; a {@link ConfigFileException} names the file and the offending field. */
  public static ProxyConfig load(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw new ConfigFileException(file + ": cannot read (" + e.getMessage() + ")", e);
    }
    try {
      return parse(new String(bytes, StandardCharsets.UTF_8));
    } catch (ConfigFileException e) {
      throw new ConfigFileException(file + ": " + e.getMessage(), e);
    }
  }

  /** Parses YAML text of the format {@link #load} reads. */
  public static ProxyConfig parse(String yaml) {
    JsonNode root;
    try {
      root = YAML.readTree(yaml);
    } catch (JsonProcessingException e) {
      String where = e.getLocation() == null ? "" : "line " + e.getLocation().getLineNr() + ": ";
      throw new ConfigFileException(where + "malformed YAML (" + e.getOriginalMessage() + ")", e);
    }
    if (root == null || !root.isObject()) {
      throw new ConfigFileException("top level: expected a map with keys " + TOP_LEVEL);
    }
    root.fieldNames().forEachRemaining(k -> {
      if (!TOP_LEVEL.contains(k)) {
        throw new ConfigFileException(k + ": unknown top-level key (expected one of " + TOP_LEVEL + ")");
      }
    });
    return ProxyConfig.of(version(yaml), settings(root.get("settings")),
        list(root, "listeners", ListenerConfig.class),
        list(root, "routes", RouteConfig.class),
        list(root, "clusters", ClusterConfig.class),
        list(root, "authorization", AuthorizationConfig.class),
        list(root, "peerAuthentication", PeerAuthenticationConfig.class),
        list(root, "rateLimits", RateLimitConfig.class));
  }

  private static <T extends SpecificRecord> List<T> list(JsonNode root, String key, Class<T> type) {
    JsonNode node = root.get(key);
    List<T> out = new ArrayList<>();
    if (node == null || node.isNull()) {
      return out;
    }
    if (!node.isArray()) {
      throw new ConfigFileException(key + ": expected a list of " + type.getSimpleName());
    }
    for (int i = 0; i < node.size(); i++) {
      out.add(AvroTreeReader.read(node.get(i), type, key + "[" + i + "]"));
    }
    return out;
  }

  private static ProxySettings settings(JsonNode s) {
    if (s == null || s.isNull()) {
      return ProxySettings.defaults("local");
    }
    if (!s.isObject()) {
      throw new ConfigFileException("settings: expected a map");
    }
    Set<String> known = Set.of("node", "debugHeaders", "maxHeaderBytes", "maxInitialLineBytes", "headersTimeout", "connectTimeout",
        "maxPendingRequestBytes", "idleTimeout", "tlsEngine", "originateMtls", "httpProxyAddress", "httpProxyPort");
    s.fieldNames().forEachRemaining(k -> {
      if (!known.contains(k)) {
        throw new ConfigFileException("settings." + k + ": unknown (expected one of " + known + ")");
      }
    });
    ProxySettings d = ProxySettings.defaults(s.path("node").asText("local"));
    return new ProxySettings(d.node(),
        bool(s, "debugHeaders", d.debugHeaders()),
        integer(s, "maxHeaderBytes", d.maxHeaderBytes()),
        integer(s, "maxInitialLineBytes", d.maxInitialLineBytes()),
        duration(s, "headersTimeout", d.headersTimeout()),
        duration(s, "connectTimeout", d.connectTimeout()),
        integer(s, "maxPendingRequestBytes", d.maxPendingRequestBytes()),
        duration(s, "idleTimeout", d.idleTimeout()),
        tlsEngine(s, d.tlsEngine()),
        bool(s, "originateMtls", d.originateMtls()),
        s.path("httpProxyAddress").asText(d.httpProxyAddress()),
        integer(s, "httpProxyPort", d.httpProxyPort()));
  }

  private static TlsEngine tlsEngine(JsonNode s, TlsEngine d) {
    JsonNode n = s.get("tlsEngine");
    if (n == null) {
      return d;
    }
    try {
      return TlsEngine.parse(n.asText());
    } catch (IllegalArgumentException e) {
      throw new ConfigFileException("settings." + e.getMessage());
    }
  }

  private static boolean bool(JsonNode s, String k, boolean d) {
    JsonNode n = s.get(k);
    if (n == null) {
      return d;
    }
    if (!n.isBoolean()) {
      throw new ConfigFileException("settings." + k + ": '" + n.asText() + "' (expected: true or false)");
    }
    return n.booleanValue();
  }

  private static int integer(JsonNode s, String k, int d) {
    JsonNode n = s.get(k);
    if (n == null) {
      return d;
    }
    if (!n.isIntegralNumber() || !n.canConvertToInt()) {
      throw new ConfigFileException("settings." + k + ": '" + n.asText() + "' (expected: an integer)");
    }
    return n.intValue();
  }

  /** Durations as Istio writes them ({@code 1.5s}, {@code 250ms}, {@code 2m}) or ISO-8601 ({@code PT10S}). */
  static Duration duration(JsonNode s, String k, Duration d) {
    JsonNode n = s.get(k);
    if (n == null) {
      return d;
    }
    String t = n.asText().trim();
    try {
      if (t.startsWith("P") || t.startsWith("p")) {
        return Duration.parse(t);
      }
      if (t.endsWith("ms")) {
        return Duration.ofNanos((long) (Double.parseDouble(t.substring(0, t.length() - 2)) * 1_000_000));
      }
      if (t.endsWith("s")) {
        return Duration.ofNanos((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 1_000_000_000));
      }
      if (t.endsWith("m")) {
        return Duration.ofSeconds((long) (Double.parseDouble(t.substring(0, t.length() - 1)) * 60));
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      // fall through to the message below
    }
    throw new ConfigFileException("settings." + k + ": '" + t + "' (expected a duration such as 10s, 250ms, 2m)");
  }

  private static String version(String text) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
      return "file-" + HexFormat.of().formatHex(d, 0, 8);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
