package dev.lattice.distributor.snapshot;

import dev.lattice.events.ConfigResource;
import dev.lattice.schemas.serde.AvroSerde;
import java.util.Objects;

/**
 * One resource as the distributor serves it: the decoded record (for reference checks), its
 * single-object-encoded bytes (what goes on the wire, encoded once per change, not once per push) and
 * when the distributor folded it (the start of the convergence clock).
 *
 * <p>Immutable by contract: nobody mutates the record or the array after {@link #of}.
 */
public final class VersionedResource {

  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);

  private final ConfigResource resource;
  private final byte[] payload;
  private final long foldedAtMillis;

  private VersionedResource(ConfigResource resource, byte[] payload, long foldedAtMillis) {
    this.resource = resource;
    this.payload = payload;
    this.foldedAtMillis = foldedAtMillis;
  }

  /** Encodes {@code resource} once. */
  public static VersionedResource of(ConfigResource resource, long foldedAtMillis) {
    Objects.requireNonNull(resource, "resource");
    return new VersionedResource(resource, SERDE.encode(resource), foldedAtMillis);
  }

  public ConfigResource resource() {
    return resource;
  }

  public String name() {
    return resource.getName();
  }

  /** {@code ConfigResource.version}: hex SHA-256 of the canonical payload. */
  public String version() {
    return resource.getVersion();
  }

  /** The encoded record; do not modify. */
  public byte[] payload() {
    return payload;
  }

  public long foldedAtMillis() {
    return foldedAtMillis;
  }

  @Override
  public String toString() {
    return resource.getType() + "/" + resource.getName() + "@" + version();
  }
}
