package dev.lattice.dataplane.telemetry;

import java.util.ArrayList;
import java.util.List;

/**
 * Envoy's response flags ({@code %RESPONSE_FLAGS%}): why a request or connection ended the way it did,
 * beyond its status code. Short codes and meanings follow Envoy's access-log documentation, so Istio's
 * {@code response_flags} label and Kiali read them unchanged. A set of flags is an {@code int} bit mask
 * ({@link #bit()}) on the hot path; {@link #format(int)} renders it as Envoy does ({@code "-"} when none,
 * otherwise codes joined by {@code ','} in declaration order).
 */
public enum ResponseFlag {
  /** No healthy upstream hosts. */
  UH("no_healthy_upstream"),
  /** Upstream connection failure. */
  UF("upstream_connection_failure"),
  /** Upstream overflow (circuit breaking). */
  UO("upstream_overflow"),
  /** No route configured (or no cluster for the route). */
  NR("no_route_found"),
  /** Upstream retry limit exceeded. */
  URX("upstream_retry_limit_exceeded"),
  /** No cluster found. */
  NC("no_cluster_found"),
  /** Downstream connection termination. */
  DC("downstream_connection_termination"),
  /** Upstream connection termination. */
  UC("upstream_connection_termination"),
  /** Upstream request timeout. */
  UT("upstream_request_timeout"),
  /** Local reset of the stream. */
  LR("local_reset"),
  /** Upstream remote reset. */
  UR("upstream_remote_reset"),
  /** Request delayed by fault injection. */
  DI("delay_injected"),
  /** Request aborted by fault injection. */
  FI("fault_injected"),
  /** Rate limited locally. */
  RL("rate_limited"),
  /** Unauthorized by an external/local authorization service (Envoy's RBAC denial is RBAC_ACCESS_DENIED). */
  UAEX("unauthorized_external_service"),
  /** Denied by role-based access control (authorization policy). */
  RBAC_ACCESS_DENIED("rbac_access_denied"),
  /** Stream idle timeout. */
  SI("stream_idle_timeout"),
  /** Downstream protocol error (malformed HTTP, smuggling shape, oversized headers). */
  DPE("downstream_protocol_error"),
  /** Upstream protocol error. */
  UPE("upstream_protocol_error"),
  /** Upstream max stream duration reached. */
  UMSDR("upstream_max_stream_duration_reached"),
  /** The proxy was draining and refused the request. */
  DR("drain_overload"),
  /** Overload manager / local buffer limit. */
  OM("overload_manager");

  private static final ResponseFlag[] VALUES = values();
  private final String longName;

  ResponseFlag(String longName) {
    this.longName = longName;
  }

  /** Envoy's long name ({@code %RESPONSE_FLAGS_LONG%} style, snake case). */
  public String longName() {
    return longName;
  }

  /** The short code as it appears in access logs; {@code RBAC_ACCESS_DENIED}'s short code is {@code RBAC}. */
  public String code() {
    return this == RBAC_ACCESS_DENIED ? "RBAC" : name();
  }

  /** This flag's bit in a flag mask. */
  public int bit() {
    return 1 << ordinal();
  }

  /** Whether {@code mask} holds this flag. */
  public boolean in(int mask) {
    return (mask & bit()) != 0;
  }

  /** Envoy's rendering: {@code "-"} for no flags, else short codes joined with {@code ','}. */
  public static String format(int mask) {
    if (mask == 0) {
      return "-";
    }
    StringBuilder out = new StringBuilder(8);
    for (ResponseFlag f : VALUES) {
      if (f.in(mask)) {
        if (out.length() > 0) {
          out.append(',');
        }
        out.append(f.code());
      }
    }
    return out.toString();
  }

  /** The short codes in {@code mask}, in declaration order (empty for none). */
  public static List<String> codes(int mask) {
    List<String> out = new ArrayList<>(2);
    for (ResponseFlag f : VALUES) {
      if (f.in(mask)) {
        out.add(f.code());
      }
    }
    return out;
  }

  /**
   * Parses an Envoy flag string ({@code "-"}, {@code "UF,URX"}) back into a mask.
   *
   * @throws IllegalArgumentException naming the unknown code
   */
  public static int parse(String text) {
    if (text == null || text.isEmpty() || text.equals("-")) {
      return 0;
    }
    int mask = 0;
    for (String code : text.split(",", -1)) {
      mask |= ofCode(code.trim()).bit();
    }
    return mask;
  }

  /** The flag with short code {@code code}. */
  public static ResponseFlag ofCode(String code) {
    for (ResponseFlag f : VALUES) {
      if (f.code().equals(code)) {
        return f;
      }
    }
    throw new IllegalArgumentException("response flag: '" + code + "' (expected one of Envoy's short codes: "
        + String.join(", ", codes(-1 >>> (32 - VALUES.length))) + ")");
  }
}
