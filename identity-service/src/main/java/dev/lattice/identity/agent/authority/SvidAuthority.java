package dev.lattice.identity.agent.authority;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.util.List;

/**
 * The identity server as the node agent sees it: it attests the node, signs CSRs for the entries the
 * node serves, mints JWT-SVIDs and streams what the node serves. Only CSRs and public material cross
 * it; private keys stay in the agent.
 *
 * <p>The production implementation is {@link GrpcSvidAuthority} (the Signing and NodeAttestation
 * gRPC services of {@code signing.proto}, mTLS with the node SVID). Implementations are thread-safe;
 * every method returns at once and completes its future later (never blocking the caller's event
 * loop). A failed future means the server refused or could not be reached; the agent keeps what it
 * has and retries.
 */
public interface SvidAuthority {

  /** Exchanges attestation material and a CSR for the node key into a node SVID and the bundle. */
  Future<NodeAttestationResult> attestNode(NodeAttestationMaterial material, byte[] csrDer);

  /** Renews the node SVID (the CSR carries a new node key), authenticated with {@code current}. */
  Future<SignedX509Svid> renewNode(NodeCredential current, byte[] csrDer);

  /** Signs an X.509-SVID for {@code entryId}, authenticated with the node credential. */
  Future<SignedX509Svid> signX509(NodeCredential node, String entryId, byte[] csrDer);

  /** Mints a JWT-SVID for {@code entryId} and {@code audiences}. */
  Future<JwtToken> signJwt(NodeCredential node, String entryId, List<String> audiences);

  /**
   * Streams this node's entries and bundles: {@code onSnapshot} gets one snapshot soon after the call
   * and another on every change; {@code onEnd} is called once when the stream ends or fails (the
   * caller re-subscribes). Closing the returned handle ends the stream without calling {@code onEnd}.
   */
  AutoCloseable syncNode(NodeCredential node, Handler<NodeSnapshot> onSnapshot, Handler<Throwable> onEnd);
}
