package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where the agent gets what it attests with, each time it (re-)attests: a join token is burned at first
 * use, so a re-attestation after the node SVID expired needs a fresh one, read again from its file.
 *
 * <p>Implementations are thread-safe and never block the calling event loop.
 */
public interface AttestationSource {

  /** The material to attest with now. */
  Future<NodeAttestationMaterial> material();

  /** A fixed value (e.g. {@code agent.join-token} from the config): good for one attestation. */
  static AttestationSource fixed(NodeAttestationMaterial material) {
    return () -> Future.succeededFuture(material);
  }

  /**
   * The content of {@code file}, read on every attestation (a Kubernetes projected token or a join
   * token an operator or provisioner drops there).
   */
  static AttestationSource file(Vertx vertx, Path file, NodeAttestationMaterial.Kind kind) {
    return () -> vertx.executeBlocking(() -> {
      if (!Files.isRegularFile(file)) {
        throw new IllegalStateException(kind + " file " + file + " does not exist");
      }
      return new NodeAttestationMaterial(kind, Files.readString(file, StandardCharsets.UTF_8));
    }, false);
  }
}
