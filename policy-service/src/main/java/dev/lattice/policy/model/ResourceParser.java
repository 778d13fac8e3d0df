package dev.lattice.policy.model;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.DeserializationProblemHandler;
import com.fasterxml.jackson.databind.util.TokenBufferReadContext;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.yaml.snakeyaml.LoaderOptions;

/**
 * Reads resources from YAML (multi-document, {@code ---} separated) or JSON (one object or an array).
 * Never throws on bad input: malformed text yields a {@link ParseResult#syntaxError()} with line and
 * column; an unknown {@code kind}/{@code apiVersion}, an unknown field or a wrongly typed value yields
 * {@link ParsedDocument#errors()} with field paths. A missing namespace becomes {@code default}.
 *
 * <p>Thread-safe and cheap to share; create once.
 */
public final class ResourceParser {

  private static final Set<String> TOP_LEVEL = Set.of("apiVersion", "kind", "metadata", "spec", "status");
  private static final Map<String, String> ISTIO_KINDS = Map.of(
      "VirtualService", "TrafficRoute",
      "DestinationRule", "DestinationPolicy",
      "PeerAuthentication", "PeerAuthentication",
      "AuthorizationPolicy", "AuthorizationPolicy");

  /** The largest YAML text read, in code points (8 Mi, above the REST API's 4 MiB body limit). */
  public static final int MAX_CODE_POINTS = 8 * 1024 * 1024;

  private final ObjectMapper yaml;
  private final ObjectMapper json;

  private ResourceParser() {
    // SnakeYAML stops at 3 MiB of code points by default, below what the API accepts (4 MiB bodies):
    // without this a large but valid body would be reported as malformed YAML.
    LoaderOptions loader = new LoaderOptions();
    loader.setCodePointLimit(MAX_CODE_POINTS);
    // (YAMLFactory.builder() drops the parser's default EMPTY_STRING_AS_NULL: an empty document would read as "".)
    this.yaml = configure(YAMLMapper.builder(YAMLFactory.builder().loaderOptions(loader)
        .enable(YAMLParser.Feature.EMPTY_STRING_AS_NULL).build()).build());
    this.json = configure(JsonMapper.builder().build());
  }

  /** A parser with Lattice's strict settings. */
  public static ResourceParser create() {
    return new ResourceParser();
  }

  private static ObjectMapper configure(ObjectMapper m) {
    m.enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    m.disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT);
    m.enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES);
    m.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    return m;
  }

  /** Parses UTF-8 bytes (YAML or JSON). */
  public ParseResult parse(byte[] bytes) {
    return parse(new String(bytes, StandardCharsets.UTF_8));
  }

  /** Parses YAML or JSON text; JSON when the first non-blank character is '{' or '['. */
  public ParseResult parse(String text) {
    List<ParsedDocument> docs = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return new ParseResult(docs, ValidationIssue.error("", "empty input (expected: one or more resources)"));
    }
    String trimmed = text.stripLeading();
    boolean isJson = trimmed.startsWith("{") || trimmed.startsWith("[");
    ObjectMapper mapper = isJson ? json : yaml;
    try (JsonParser p = mapper.getFactory().createParser(text)) {
      if (isJson) {
        JsonNode root = mapper.readTree(p);
        if (p.nextToken() != null) {
          JsonLocation l = p.currentTokenLocation();
          return new ParseResult(docs, ValidationIssue.error("",
              "line " + l.getLineNr() + ", column " + l.getColumnNr() + ": unexpected content after the JSON value"));
        }
        if (root != null && root.isArray()) {
          for (JsonNode item : root) docs.add(read(mapper, docs.size(), 1, item));
        } else {
          docs.add(read(mapper, 0, 1, root));
        }
      } else {
        while (true) {
          JsonToken t = p.nextToken();
          if (t == null) break;
          int line = p.currentTokenLocation().getLineNr();
          JsonNode node = mapper.readTree(p);
          if (node == null || node.isNull() || node.isMissingNode()) continue; // empty document ("---" at the end)
          docs.add(read(mapper, docs.size(), line, node));
        }
      }
      if (docs.isEmpty()) {
        return new ParseResult(docs, ValidationIssue.error("", "no resources in input (expected: one or more documents)"));
      }
      return new ParseResult(docs, null);
    } catch (JsonProcessingException e) {
      return new ParseResult(docs, ValidationIssue.error("", syntaxMessage(e, isJson)));
    } catch (IOException e) {
      return new ParseResult(docs, ValidationIssue.error("", "cannot read input: " + e.getMessage()));
    }
  }

  /** Parses exactly one resource; anything else is reported as an error. */
  public ParsedDocument parseOne(String text) {
    ParseResult r = parse(text);
    if (r.syntaxError() != null) return new ParsedDocument(0, 1, null, List.of(r.syntaxError()));
    if (r.documents().size() != 1) {
      return new ParsedDocument(0, 1, null, List.of(ValidationIssue.error("",
          r.documents().size() + " documents (expected: exactly one resource)")));
    }
    return r.documents().get(0);
  }

  /** Converts an already-parsed tree (e.g. a Kubernetes custom resource) into a resource. */
  public ParsedDocument fromTree(JsonNode node) {
    return read(json, 0, 1, node);
  }

  private static String syntaxMessage(JsonProcessingException e, boolean isJson) {
    JsonLocation l = e.getLocation();
    String problem = e.getOriginalMessage();
    // snakeyaml appends a multi-line excerpt (" in 'reader', line 3 ..."): keep the first line only.
    int nl = problem.indexOf('\n');
    if (nl > 0) problem = problem.substring(0, nl);
    problem = problem.strip();
    String where = l == null || l.getLineNr() < 1 ? "" : "line " + l.getLineNr() + ", column " + l.getColumnNr() + ": ";
    return where + (isJson ? "malformed JSON: " : "malformed YAML: ") + problem;
  }

  private ParsedDocument read(ObjectMapper mapper, int index, int line, JsonNode node) {
    List<ValidationIssue> errors = new ArrayList<>();
    if (node == null || !node.isObject()) {
      errors.add(ValidationIssue.error("", "document is " + describe(node) + " (expected: a resource object with apiVersion, kind, metadata, spec)"));
      return new ParsedDocument(index, line, null, errors);
    }
    ObjectNode obj = (ObjectNode) node;
    obj.fieldNames().forEachRemaining(f -> {
      if (!TOP_LEVEL.contains(f)) {
        errors.add(ValidationIssue.error(f, "unknown field (expected one of: apiVersion, kind, metadata, spec)"));
      }
    });
    JsonNode kindNode = obj.get("kind");
    JsonNode apiNode = obj.get("apiVersion");
    ResourceKind kind = null;
    if (kindNode == null || !kindNode.isTextual()) {
      errors.add(ValidationIssue.error("kind", (kindNode == null ? "missing" : describe(kindNode))
          + " (expected one of: " + ResourceKind.names() + ")"));
    } else {
      String k = kindNode.asText();
      kind = ResourceKind.fromKindName(k).orElse(null);
      if (kind == null) {
        String hint = ISTIO_KINDS.containsKey(k) ? "; Istio's " + k + " is Lattice's " + ISTIO_KINDS.get(k) : "";
        errors.add(ValidationIssue.error("kind", "unknown kind \"" + k + "\" (expected one of: " + ResourceKind.names() + ")" + hint));
      }
    }
    if (apiNode == null || !apiNode.isTextual()) {
      errors.add(ValidationIssue.error("apiVersion", (apiNode == null ? "missing" : describe(apiNode))
          + " (expected: " + Resource.API_VERSION + ")"));
    } else if (!Resource.API_VERSION.equals(apiNode.asText())) {
      errors.add(ValidationIssue.error("apiVersion", "unsupported apiVersion \"" + apiNode.asText()
          + "\" (expected: " + Resource.API_VERSION + ")"));
    }
    ObjectMeta meta = null;
    JsonNode metaNode = obj.get("metadata");
    if (metaNode == null || !metaNode.isObject()) {
      errors.add(ValidationIssue.error("metadata", (metaNode == null ? "missing" : describe(metaNode))
          + " (expected: an object with at least a name)"));
    } else {
      meta = bind(mapper, metaNode, ObjectMeta.class, "metadata", errors);
    }
    Record spec = null;
    JsonNode specNode = obj.get("spec");
    if (kind != null) {
      if (specNode == null || !specNode.isObject()) {
        errors.add(ValidationIssue.error("spec", (specNode == null ? "missing" : describe(specNode)) + " (expected: an object)"));
      } else {
        spec = bind(mapper, specNode, specClass(kind), "spec", errors);
      }
    }
    if (!errors.isEmpty() || meta == null || spec == null || kind == null) {
      return new ParsedDocument(index, line, null, errors);
    }
    if (meta.namespace() == null || meta.namespace().isEmpty()) meta = meta.withNamespace(ObjectMeta.DEFAULT_NAMESPACE);
    return new ParsedDocument(index, line, assemble(kind, meta, spec), errors);
  }

  static Class<? extends Record> specClass(ResourceKind kind) {
    return switch (kind) {
      case TRAFFIC_ROUTE -> TrafficRoute.Spec.class;
      case DESTINATION_POLICY -> DestinationPolicy.Spec.class;
      case PEER_AUTHENTICATION -> PeerAuthentication.Spec.class;
      case AUTHORIZATION_POLICY -> AuthorizationPolicy.Spec.class;
      case RATE_LIMIT_POLICY -> RateLimitPolicy.Spec.class;
    };
  }

  static Resource assemble(ResourceKind kind, ObjectMeta meta, Record spec) {
    return switch (kind) {
      case TRAFFIC_ROUTE -> new TrafficRoute(meta, (TrafficRoute.Spec) spec);
      case DESTINATION_POLICY -> new DestinationPolicy(meta, (DestinationPolicy.Spec) spec);
      case PEER_AUTHENTICATION -> new PeerAuthentication(meta, (PeerAuthentication.Spec) spec);
      case AUTHORIZATION_POLICY -> new AuthorizationPolicy(meta, (AuthorizationPolicy.Spec) spec);
      case RATE_LIMIT_POLICY -> new RateLimitPolicy(meta, (RateLimitPolicy.Spec) spec);
    };
  }

  private static <T> T bind(ObjectMapper mapper, JsonNode node, Class<T> type, String prefix, List<ValidationIssue> errors) {
    UnknownFieldCollector unknown = new UnknownFieldCollector(prefix);
    try {
      T value = mapper.readerFor(type).withHandler(unknown).readValue(node);
      errors.addAll(unknown.issues);
      return unknown.issues.isEmpty() ? value : null;
    } catch (JsonMappingException e) {
      errors.addAll(unknown.issues);
      errors.add(ValidationIssue.error(pathOf(prefix, e), mismatchMessage(e)));
      return null;
    } catch (IOException e) {
      errors.add(ValidationIssue.error(prefix, "cannot read: " + e.getMessage()));
      return null;
    }
  }

  private static String pathOf(String prefix, JsonMappingException e) {
    String path = prefix;
    for (JsonMappingException.Reference r : e.getPath()) {
      if (r.getFieldName() != null) path = FieldPath.key(path, r.getFieldName());
      else if (r.getIndex() >= 0) path = FieldPath.index(path, r.getIndex());
    }
    return path;
  }

  private static String mismatchMessage(JsonMappingException e) {
    if (e instanceof InvalidFormatException ife) {
      Class<?> target = ife.getTargetType();
      if (target != null && target.isEnum()) {
        return "\"" + ife.getValue() + "\" (expected one of: "
            + String.join(", ", Arrays.stream(target.getEnumConstants()).map(Object::toString).toList()) + ")";
      }
      return "\"" + ife.getValue() + "\" (expected: " + typeName(target) + ")";
    }
    if (e instanceof ValueInstantiationException vie && vie.getCause() != null) {
      return String.valueOf(vie.getCause().getMessage());
    }
    if (e instanceof MismatchedInputException mie) {
      String seen = mie.getProcessor() instanceof JsonParser p && p.currentToken() != null
          ? seenToken(p.currentToken()) : seenFromMessage(mie.getOriginalMessage());
      return seen + " (expected: " + typeName(mie.getTargetType()) + ")";
    }
    String msg = e.getOriginalMessage();
    int nl = msg.indexOf('\n');
    return nl > 0 ? msg.substring(0, nl) : msg;
  }

  private static final java.util.regex.Pattern FROM_VALUE = java.util.regex.Pattern.compile("from (\\w+) value");

  private static String seenFromMessage(String message) {
    java.util.regex.Matcher m = FROM_VALUE.matcher(message == null ? "" : message);
    if (!m.find()) return "a value of another type";
    return switch (m.group(1)) {
      case "Array" -> "a list";
      case "Object" -> "an object";
      case "String" -> "a string";
      case "Integer" -> "an integer";
      case "Floating" -> "a decimal number";
      case "Boolean" -> "a boolean";
      default -> "a value of another type";
    };
  }

  private static String seenToken(JsonToken t) {
    return switch (t) {
      case START_ARRAY, END_ARRAY -> "a list";
      case START_OBJECT, END_OBJECT, FIELD_NAME -> "an object";
      case VALUE_STRING -> "a string";
      case VALUE_NUMBER_INT -> "an integer";
      case VALUE_NUMBER_FLOAT -> "a decimal number";
      case VALUE_TRUE, VALUE_FALSE -> "a boolean";
      case VALUE_NULL -> "null";
      default -> "a value of another type";
    };
  }

  private static String typeName(Class<?> t) {
    if (t == null) return "another type";
    if (t == Integer.class || t == int.class || t == Long.class || t == long.class) return "an integer";
    if (t == Double.class || t == double.class) return "a number";
    if (t == Boolean.class || t == boolean.class) return "true or false";
    if (t == String.class) return "a string";
    if (Collection.class.isAssignableFrom(t)) return "a list";
    if (Map.class.isAssignableFrom(t) || t.isRecord()) return "an object";
    if (t.isEnum()) return "one of " + Arrays.toString(t.getEnumConstants());
    return t.getSimpleName();
  }

  private static String describe(JsonNode n) {
    if (n == null || n.isNull() || n.isMissingNode()) return "empty";
    if (n.isArray()) return "a list";
    if (n.isObject()) return "an object";
    if (n.isTextual()) return "\"" + n.asText() + "\"";
    return n.toString();
  }

  /** Records unknown fields with their path and the fields that were expected, then skips them. */
  private static final class UnknownFieldCollector extends DeserializationProblemHandler {
    private final String prefix;
    private final List<ValidationIssue> issues = new ArrayList<>();

    UnknownFieldCollector(String prefix) {
      this.prefix = prefix;
    }

    @Override
    public boolean handleUnknownProperty(DeserializationContext ctxt, JsonParser p, JsonDeserializer<?> deserializer,
        Object beanOrClass, String propertyName) throws IOException {
      // Jackson replays an unknown property met before a record's creator properties from a token buffer,
      // whose contexts do not know where they are: take the path from the parser's own contexts.
      JsonStreamContext ctx = p.getParsingContext();
      while (ctx instanceof TokenBufferReadContext) ctx = ctx.getParent();
      String path = FieldPath.fromPointer(prefix, ctx == null ? "" : ctx.pathAsPointer().toString());
      if (!path.endsWith("." + propertyName) && !path.endsWith("\"" + propertyName + "\"]") && !path.equals(propertyName)) {
        path = FieldPath.key(path, propertyName);
      }
      Set<String> known = new TreeSet<>();
      if (deserializer != null) {
        for (Object k : deserializer.getKnownPropertyNames()) known.add(String.valueOf(k));
      }
      issues.add(ValidationIssue.error(path, "unknown field \"" + propertyName + "\""
          + (known.isEmpty() ? "" : " (expected one of: " + String.join(", ", known) + ")")));
      p.skipChildren();
      return true;
    }
  }
}
