package dev.lattice.distributor.server;

import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import java.time.Instant;
import java.util.Map;

/**
 * Hears what happens on the config streams (for the status topic and metrics). Called on the stream's
 * Vert.x context: implementations must not block. Every method has a no-op default.
 */
public interface StreamObserver {

  /** A node opened a stream (after authentication and its first request). */
  default void connected(String node, String streamId, Instant since) {}

  /**
   * The node's stream was authenticated with {@code leaf}, its X.509-SVID (mTLS only; called right after
   * {@link #connected}): which certificate a node presents shows that a rotated SVID reached the handshake.
   */
  default void presented(String node, String streamId, java.security.cert.X509Certificate leaf) {}

  /** A response went to the node; {@code bytes} is its encoded size. */
  default void pushed(String node, DeltaConfigResponse response, int bytes) {}

  /**
   * The node acknowledged a response of {@code type} that carried {@code applied} (name → version);
   * {@code session.acked(type)} is everything it holds now.
   */
  default void acked(String node, ConfigType type, Map<String, String> applied, DeltaSession session) {}

  /** The node rejected a response of {@code type}: the names and versions it rejected, and its reason. */
  default void nacked(String node, ConfigType type, Map<String, String> rejected, String detail, DeltaSession session) {}

  /** The stream ended (cleanly or not). */
  default void disconnected(String node, String streamId) {}

  /** Observes nothing. */
  StreamObserver NONE = new StreamObserver() {};
}
