package dev.lattice.identity.agent.workload;

import io.vertx.grpc.common.GrpcStatus;

/** A Workload API call refused with a gRPC status and a message for the caller. */
final class WorkloadApiException extends RuntimeException {

  private final GrpcStatus status;

  WorkloadApiException(GrpcStatus status, String message) {
    super(message, null, false, false);
    this.status = status;
  }

  GrpcStatus status() {
    return status;
  }
}
