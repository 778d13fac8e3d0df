package dev.lattice.configclient;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Resource;
import dev.lattice.schemas.serde.AvroSerde;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Checks one response of the stream before the node applies it: every resource decodes (Avro single-object
 * ConfigResource), names this node, the response's type and its own name and version, passes
 * {@link ConfigResources#problem}, and the snapshot it leads to has no dangling reference. Stateless.
 */
public final class ConfigResponseValidator {

  /** The snapshot a response leads to, or why it is rejected (the message names the resource). */
  public record Result(ConfigSnapshot next, String problem) {
    public boolean ok() {
      return problem == null;
    }
  }

  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);

  private ConfigResponseValidator() {}

  /** Validates {@code response} against {@code current}. */
  public static Result validate(ConfigSnapshot current, DeltaConfigResponse response) {
    Optional<ConfigType> parsed = ConfigTypeUrls.parse(response.getTypeUrl());
    if (parsed.isEmpty()) {
      return new Result(null, "type_url: \"" + response.getTypeUrl() + "\" (expected: " + ConfigTypeUrls.PREFIX
          + "<one of " + ConfigTypeUrls.TYPES + ">)");
    }
    ConfigType type = parsed.get();
    List<ConfigResource> upserts = new ArrayList<>();
    Set<String> names = new HashSet<>();
    for (Resource r : response.getResourcesList()) {
      String where = type + "/" + r.getName();
      if (!names.add(r.getName())) {
        return new Result(null, where + ": sent twice in one response");
      }
      ConfigResource decoded;
      try {
        decoded = SERDE.decode(r.getPayload().toByteArray());
      } catch (RuntimeException e) {
        return new Result(null, where + ": payload does not decode as a ConfigResource: " + e.getMessage());
      }
      Optional<String> mismatch = mismatch(current.node(), type, r, decoded);
      if (mismatch.isPresent()) {
        return new Result(null, where + ": " + mismatch.get());
      }
      Optional<String> problem = ConfigResources.problem(decoded);
      if (problem.isPresent()) {
        return new Result(null, where + ": " + problem.get());
      }
      upserts.add(decoded);
    }
    for (String removed : response.getRemovedResourcesList()) {
      if (names.contains(removed)) {
        return new Result(null, type + "/" + removed + ": both updated and removed in one response");
      }
    }
    ConfigSnapshot next = current.with(type, upserts, response.getRemovedResourcesList(), ConfigSnapshot.Source.STREAM);
    List<ConfigReferences.Dangling> dangling = ConfigReferences.dangling(next.all(),
        (t, name) -> next.get(t, name) != null);
    if (!dangling.isEmpty()) {
      return new Result(null, dangling.get(0).message());
    }
    return new Result(next, null);
  }

  private static Optional<String> mismatch(String node, ConfigType type, Resource wire, ConfigResource decoded) {
    if (!node.equals(decoded.getNode())) {
      return Optional.of("node " + decoded.getNode() + " (expected: " + node + ")");
    }
    if (decoded.getType() != type) {
      return Optional.of("type " + decoded.getType() + " (expected: " + type + ", the response's type_url)");
    }
    if (!wire.getName().equals(decoded.getName())) {
      return Optional.of("payload names " + decoded.getName() + " (expected: " + wire.getName() + ")");
    }
    if (!wire.getVersion().equals(decoded.getVersion())) {
      return Optional.of("version " + wire.getVersion() + " (expected: the payload's version " + decoded.getVersion() + ")");
    }
    return Optional.empty();
  }
}
