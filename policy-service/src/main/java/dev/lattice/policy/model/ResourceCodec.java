package dev.lattice.policy.model;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLGenerator;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes resources as YAML or JSON in their user-facing shape ({@code apiVersion}, {@code kind},
 * {@code metadata}, {@code spec}; empty fields omitted). The inverse of {@link ResourceParser}.
 * Thread-safe.
 */
public final class ResourceCodec {
  private static final ObjectMapper JSON = JsonMapper.builder()
      .serializationInclusion(JsonInclude.Include.NON_EMPTY)
      .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
      .build();
  private static final ObjectMapper YAML = YAMLMapper.builder(new YAMLFactory()
          .disable(YAMLGenerator.Feature.WRITE_DOC_START_MARKER)
          .enable(YAMLGenerator.Feature.MINIMIZE_QUOTES))
      .serializationInclusion(JsonInclude.Include.NON_EMPTY)
      .build();

  private ResourceCodec() {}

  /** The resource as a JSON tree. */
  public static ObjectNode toTree(Resource r) {
    ObjectNode n = JSON.createObjectNode();
    n.put("apiVersion", Resource.API_VERSION);
    n.put("kind", r.kind().kindName());
    n.set("metadata", JSON.valueToTree(r.metadata()));
    n.set("spec", JSON.valueToTree(r.spec()));
    return n;
  }

  public static String toJson(Resource r) {
    return write(JSON, toTree(r));
  }

  public static String toYaml(Resource r) {
    return write(YAML, toTree(r));
  }

  /** Several resources as one multi-document YAML text ({@code ---} between documents). */
  public static String toYaml(List<? extends Resource> resources) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < resources.size(); i++) {
      if (i > 0) sb.append("---\n");
      sb.append(toYaml(resources.get(i)));
    }
    return sb.toString();
  }

  /** The mapper used for JSON output (shared, configured). */
  public static ObjectMapper jsonMapper() {
    return JSON;
  }

  private static String write(ObjectMapper m, Object value) {
    try {
      return m.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
  }
}
