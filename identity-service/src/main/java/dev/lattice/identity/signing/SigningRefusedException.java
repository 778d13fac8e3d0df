package dev.lattice.identity.signing;

import io.vertx.grpc.common.GrpcStatus;

/**
 * The identity server answered a signing.proto call with a non-OK gRPC status; carries the status and
 * the server's message (e.g. {@code PERMISSION_DENIED: join token: already used at …}). Immutable.
 */
public final class SigningRefusedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient GrpcStatus status;

  public SigningRefusedException(GrpcStatus status, String serverMessage) {
    super(status + ": " + (serverMessage == null ? "(no message)" : serverMessage));
    this.status = status;
  }

  public GrpcStatus status() {
    return status;
  }
}
