package dev.lattice.authz;

/**
 * The attributes of one HTTP request, or one TCP connection, that authorization looks at — a view the
 * caller implements over its own objects (the data plane over Netty's request and channel, without
 * copying headers), or {@link SimpleRequest} for explain and tests. The engine only reads it, on the
 * caller's thread, during {@link AuthorizationEngine#evaluate}.
 *
 * <p>Contract: {@link #path()} is already normalized ({@link dev.lattice.authz.normalize.PathNormalizer})
 * and has no query string; addresses are 4 or 16 bytes; a value that is absent is {@code null} (never
 * an empty string placeholder for "unknown").
 */
public interface AuthzRequest {

  /** True for an HTTP request (HTTP/1.1, HTTP/2, gRPC), false for a plain TCP connection. */
  boolean http();

  /** The mTLS peer, or null for a plaintext connection (then principals, namespaces, service accounts never match). */
  PeerIdentity peer();

  /** The peer's address (Istio's {@code source.ip}, {@code ipBlocks}). */
  byte[] sourceAddress();

  /**
   * The original client's address (Istio's {@code remote.ip}, {@code remoteIpBlocks}): from
   * {@code X-Forwarded-For} per the mesh's trusted-proxy count ({@link ClientAddress}), else the peer's.
   * Called only when a rule needs it, so an implementation may compute it lazily.
   */
  byte[] remoteAddress();

  /** The address the connection was made to ({@code destination.ip}), or null. */
  byte[] destinationAddress();

  /** The port the connection was made to ({@code ports}, {@code destination.port}); 0 if unknown. */
  int destinationPort();

  /** The TLS SNI the peer sent ({@code connection.sni}), or null. */
  String sni();

  /** The HTTP method as sent (case-sensitive), or null for TCP. */
  String method();

  /** The full {@code :authority} / {@code Host} as sent, port included, or null. */
  String authority();

  /** The normalized path without query string, or null for TCP. */
  String path();

  /**
   * A request header by lower-case name, or null. Several values of one header are joined with
   * {@code ","}, as Envoy's header matcher sees them.
   */
  String header(String lowerCaseName);

  /** The validated end-user credential, or null (none). */
  RequestAuth auth();
}
