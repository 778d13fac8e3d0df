package dev.lattice.identity.agent.delegated;

import io.vertx.grpc.common.GrpcStatus;

/** A Delegated Identity API call refused with a gRPC status and a message for the caller. */
final class DelegatedIdentityException extends RuntimeException {

  private final GrpcStatus status;

  DelegatedIdentityException(GrpcStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  GrpcStatus status() {
    return status;
  }
}
