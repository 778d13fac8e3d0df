package dev.lattice.dataplane.filter.fault;

import java.util.List;
import java.util.Locale;

/** gRPC status names (as Istio's {@code grpcStatus} spells them) to their numeric codes. Stateless. */
final class GrpcStatusCodes {
  private static final List<String> NAMES = List.of("OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
      "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
      "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED");

  private GrpcStatusCodes() {}

  /** The code of {@code name} (case-insensitive; a decimal code 0..16 is accepted too), or -1. */
  static int code(String name) {
    String n = name.trim();
    if (!n.isEmpty() && n.chars().allMatch(Character::isDigit) && n.length() <= 2) {
      int c = Integer.parseInt(n);
      return c < NAMES.size() ? c : -1;
    }
    return NAMES.indexOf(n.toUpperCase(Locale.ROOT));
  }

  static List<String> names() {
    return NAMES;
  }
}
