package dev.lattice.dataplane.filter.fault;

import dev.lattice.events.policy.FaultAbort;
import dev.lattice.events.policy.FaultDelay;
import dev.lattice.events.policy.HttpFaultInjection;

/**
 * One route's compiled fault injection (Istio's HTTPFaultInjection). Immutable.
 *
 * @param delayMillis    injected delay, 0 for none
 * @param delayPercent   share of requests delayed, 0..100
 * @param abortStatus    HTTP status of the abort, 0 for none (a gRPC abort answers 200 with grpc-status)
 * @param grpcStatus     gRPC status code of the abort, -1 for an HTTP abort
 * @param abortPercent   share of requests aborted, 0..100
 */
record RouteFault(long delayMillis, double delayPercent, int abortStatus, int grpcStatus, double abortPercent) {

  /** Compiles {@code f} of route {@code route}; an out-of-range field fails with a message naming it. */
  static RouteFault of(String route, HttpFaultInjection f) {
    long delay = 0;
    double delayPct = 0;
    FaultDelay d = f.getDelay();
    if (d != null) {
      if (d.getFixedDelay() < 0) {
        throw new IllegalArgumentException("route " + route + ": fault.delay.fixedDelay " + d.getFixedDelay() + " ms (expected: >= 0)");
      }
      delay = d.getFixedDelay();
      delayPct = percent(route, "fault.delay.percentage", d.getPercentage());
    }
    int status = 0;
    int grpc = -1;
    double abortPct = 0;
    FaultAbort a = f.getAbort();
    if (a != null) {
      if (a.getHttpStatus() != null && a.getGrpcStatus() != null) {
        throw new IllegalArgumentException("route " + route + ": fault.abort sets both httpStatus and grpcStatus (expected: one)");
      }
      if (a.getGrpcStatus() != null) {
        grpc = GrpcStatusCodes.code(a.getGrpcStatus());
        if (grpc < 0) {
          throw new IllegalArgumentException("route " + route + ": fault.abort.grpcStatus " + a.getGrpcStatus()
              + " (expected one of " + GrpcStatusCodes.names() + ")");
        }
        status = 200;
      } else if (a.getHttpStatus() != null) {
        status = a.getHttpStatus();
        if (status < 200 || status > 599) {
          throw new IllegalArgumentException("route " + route + ": fault.abort.httpStatus " + status + " (expected: 200..599)");
        }
      } else {
        throw new IllegalArgumentException("route " + route + ": fault.abort sets neither httpStatus nor grpcStatus");
      }
      abortPct = percent(route, "fault.abort.percentage", a.getPercentage());
    }
    return new RouteFault(delay, delayPct, status, grpc, abortPct);
  }

  private static double percent(String route, String field, Double p) {
    if (p == null) {
      return 100; // Istio: unset percentage means every request
    }
    if (p.isNaN() || p < 0 || p > 100) {
      throw new IllegalArgumentException("route " + route + ": " + field + " " + p + " (expected: 0.0..100.0)");
    }
    return p;
  }

  boolean delays() {
    return delayPercent > 0 && delayMillis > 0;
  }

  boolean aborts() {
    return abortStatus != 0 && abortPercent > 0;
  }
}
