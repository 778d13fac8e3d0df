package dev.lattice.configclient;

import com.google.protobuf.ByteString;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kit.files.AtomicFiles;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Resource;
import dev.lattice.schemas.serde.AvroSerde;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;

/**
 * The last good snapshot on disk, for static stability: a proxy restarting while no distributor answers
 * comes up with it. Format: {@code LCS1}, the node id and one length-delimited DeltaConfigResponse per type
 * (the stream's own encoding), then the SHA-256 of everything before it, so a torn or edited file is
 * detected. Written atomically and owner-only ({@link AtomicFiles#writePrivate}). On load each resource is
 * validated as if it came off the stream. Blocking: call from a worker. Stateless.
 */
public final class SnapshotFile {

  private static final byte[] MAGIC = "LCS1".getBytes(StandardCharsets.US_ASCII);
  private static final int HASH_BYTES = 32;
  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);

  /** What a load found: a snapshot, nothing (no file), or a problem (the file is ignored). */
  public record Loaded(ConfigSnapshot snapshot, String problem) {
    public boolean present() {
      return snapshot != null;
    }
  }

  private SnapshotFile() {}

  /** Writes {@code snapshot} to {@code file} atomically. */
  public static void write(Path file, ConfigSnapshot snapshot) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(MAGIC);
    DeltaConfigResponse.newBuilder().setSystemVersionInfo(snapshot.node()).build().writeDelimitedTo(out);
    for (ConfigType type : ConfigTypeUrls.TYPES) {
      DeltaConfigResponse.Builder b = DeltaConfigResponse.newBuilder().setTypeUrl(ConfigTypeUrls.of(type));
      snapshot.resources(type).forEach((name, r) -> b.addResources(Resource.newBuilder().setName(name)
          .setVersion(r.getVersion()).setPayload(ByteString.copyFrom(SERDE.encode(r)))));
      b.build().writeDelimitedTo(out);
    }
    out.write(sha256(out.toByteArray(), out.size()));
    Path dir = file.toAbsolutePath().getParent();
    if (dir != null) {
      Files.createDirectories(dir);
    }
    AtomicFiles.writePrivate(file, out.toByteArray());
  }

  /** Loads {@code file} for {@code node}; never throws for a bad file (the problem says what was wrong). */
  public static Loaded load(Path file, String node) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      return new Loaded(null, null);
    } catch (IOException e) {
      return new Loaded(null, file + ": unreadable: " + e);
    }
    if (bytes.length < MAGIC.length + HASH_BYTES || !Arrays.equals(bytes, 0, MAGIC.length, MAGIC, 0, MAGIC.length)) {
      return new Loaded(null, file + ": not a Lattice config snapshot (expected: a file starting LCS1)");
    }
    int body = bytes.length - HASH_BYTES;
    if (!Arrays.equals(sha256(bytes, body), 0, HASH_BYTES, bytes, body, bytes.length)) {
      return new Loaded(null, file + ": checksum mismatch (torn or modified file)");
    }
    try {
      ByteArrayInputStream in = new ByteArrayInputStream(bytes, MAGIC.length, body - MAGIC.length);
      String stored = DeltaConfigResponse.parseDelimitedFrom(in).getSystemVersionInfo();
      if (!stored.equals(node)) {
        return new Loaded(null, file + ": snapshot of node " + stored + " (expected: " + node + ")");
      }
      ConfigSnapshot snapshot = ConfigSnapshot.empty(node);
      DeltaConfigResponse r;
      while ((r = DeltaConfigResponse.parseDelimitedFrom(in)) != null) {
        ConfigResponseValidator.Result checked = ConfigResponseValidator.validate(snapshot, r);
        if (!checked.ok()) {
          return new Loaded(null, file + ": " + checked.problem());
        }
        snapshot = checked.next();
      }
      return new Loaded(ConfigSnapshot.of(node, snapshot.all(), 1, ConfigSnapshot.Source.PERSISTED), null);
    } catch (IOException | RuntimeException e) {
      return new Loaded(null, file + ": does not parse: " + e.getMessage());
    }
  }

  private static byte[] sha256(byte[] bytes, int length) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      sha.update(bytes, 0, length);
      return sha.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
