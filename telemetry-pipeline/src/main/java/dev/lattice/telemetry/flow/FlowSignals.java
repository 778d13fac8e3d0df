package dev.lattice.telemetry.flow;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L7Flow;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What one {@link FlowRecord} means for the golden signals: who the graph nodes are, its response-code
 * class and its error classes. The topology, the brute-force tests and the live flow filters all call
 * these functions, so a flow is classified one way everywhere. Stateless.
 *
 * <p>Node names: a workload is {@code namespace/workload}; a caller the data plane could not identify is
 * {@value #UNKNOWN}; a destination outside the mesh (no workload) is {@code external/<host>} (the HTTP
 * host, else {@code ip:port}).
 */
public final class FlowSignals {

  /** Source name of an unidentified caller. */
  public static final String UNKNOWN = "unknown";
  /** Prefix of a destination outside the mesh. */
  public static final String EXTERNAL_PREFIX = "external/";

  /**
   * Response flags with which the reporting proxy answered the request itself: it never reached the
   * destination, so no destination proxy reports it.
   */
  private static final Set<String> LOCAL_REPLY_FLAGS = Set.of("UH", "UF", "UO", "NR", "NC", "FI", "RL", "DR", "OM",
      "DPE", "RBAC", "UAEX");

  private FlowSignals() {}

  /**
   * Whether the golden signals count this record. A request between two proxied workloads is reported
   * twice — OUTBOUND by the caller's proxy (Istio's {@code reporter="source"}) and INBOUND by the
   * destination's ({@code reporter="destination"}) — and must count once. Like Kiali, the destination's
   * report wins (it carries the deciding policy of a denial and the server-side latency): every INBOUND
   * record counts, and an OUTBOUND one only when no destination proxy can report the request — the
   * destination is outside the mesh (no workload), or the caller's proxy answered it itself (a
   * local-reply response flag such as UF, UH, NR, RL, FI) or dropped it.
   */
  public static boolean counted(FlowRecord flow) {
    if (flow.getDirection() == FlowDirection.INBOUND) {
      return true;
    }
    FlowEndpoint d = flow.getDestination();
    if (d == null || d.getWorkload() == null || d.getWorkload().isBlank()) {
      return true;
    }
    if (flow.getVerdict() == FlowVerdict.DROPPED) {
      return true;
    }
    for (String flag : flow.getResponseFlags()) {
      if (LOCAL_REPLY_FLAGS.contains(flag)) {
        return true;
      }
    }
    return false;
  }

  /** Istio's {@code reporter} label: {@code destination} for an INBOUND record, else {@code source}. */
  public static String reporter(FlowRecord flow) {
    return flow.getDirection() == FlowDirection.INBOUND ? "destination" : "source";
  }

  /** The source node: {@code namespace/workload}, or {@value #UNKNOWN}. */
  public static String source(FlowRecord flow) {
    FlowEndpoint s = flow.getSource();
    if (s == null || s.getWorkload() == null || s.getWorkload().isBlank()) {
      return UNKNOWN;
    }
    return (s.getNamespace() == null ? "" : s.getNamespace()) + "/" + s.getWorkload();
  }

  /** The destination node: {@code namespace/workload}, or {@code external/<host or ip:port>}. */
  public static String destination(FlowRecord flow) {
    FlowEndpoint d = flow.getDestination();
    if (d != null && d.getWorkload() != null && !d.getWorkload().isBlank()) {
      return (d.getNamespace() == null ? "" : d.getNamespace()) + "/" + d.getWorkload();
    }
    L7Flow l7 = flow.getL7();
    if (l7 != null && l7.getHost() != null && !l7.getHost().isBlank()) {
      return EXTERNAL_PREFIX + l7.getHost().toLowerCase(Locale.ROOT);
    }
    return EXTERNAL_PREFIX + (d == null ? "?" : d.getIp() + ":" + d.getPort());
  }

  /** The route name, or null when none matched or the flow has no L7 details. */
  public static String route(FlowRecord flow) {
    return flow.getL7() == null ? null : flow.getL7().getRoute();
  }

  /** HTTP status, or 0 when none (TCP, or no response). */
  public static int httpStatus(FlowRecord flow) {
    L7Flow l7 = flow.getL7();
    return l7 == null || l7.getHttpStatus() == null ? 0 : l7.getHttpStatus();
  }

  /** {@code 1xx..5xx}, {@code tcp} (no L7 details) or {@code none} (no response status). */
  public static String codeClass(FlowRecord flow) {
    if (flow.getL7() == null) {
      return "tcp";
    }
    int status = httpStatus(flow);
    if (status >= 100 && status <= 599) {
      return (status / 100) + "xx";
    }
    return "none";
  }

  /** Whether the flow is raw TCP (a connection, no L7 details). */
  public static boolean tcp(FlowRecord flow) {
    return flow.getL7() == null;
  }

  /**
   * An error by {@code EdgeMetrics.errors}' definition: verdict ERROR or DROPPED, an HTTP 5xx, or a gRPC
   * status other than OK.
   */
  public static boolean error(FlowRecord flow) {
    if (flow.getVerdict() == FlowVerdict.ERROR || flow.getVerdict() == FlowVerdict.DROPPED) {
      return true;
    }
    int status = httpStatus(flow);
    if (status >= 500 && status <= 599) {
      return true;
    }
    L7Flow l7 = flow.getL7();
    return l7 != null && l7.getGrpcStatus() != null && l7.getGrpcStatus() != 0;
  }

  /**
   * Denied by authorization: response flag {@code RBAC} or {@code UAEX}, or verdict DROPPED with a
   * deciding policy or a drop reason about authorization / policy.
   */
  public static boolean denied(FlowRecord flow) {
    List<String> flags = flow.getResponseFlags();
    if (flags.contains("RBAC") || flags.contains("UAEX")) {
      return true;
    }
    if (flow.getVerdict() != FlowVerdict.DROPPED || rateLimitReason(flow.getDropReason())) {
      return false;
    }
    String reason = flow.getDropReason() == null ? "" : flow.getDropReason().toLowerCase(Locale.ROOT);
    return flow.getPolicy() != null || reason.contains("authoriz") || reason.contains("denied")
        || reason.contains("policy") || reason.contains("rbac");
  }

  /** Refused by rate limiting (and not denied): HTTP 429, flag {@code RL}, or a rate-limit drop reason. */
  public static boolean rateLimited(FlowRecord flow) {
    if (denied(flow)) {
      return false;
    }
    return httpStatus(flow) == 429 || flow.getResponseFlags().contains("RL")
        || rateLimitReason(flow.getDropReason());
  }

  private static boolean rateLimitReason(String dropReason) {
    return dropReason != null && dropReason.toLowerCase(Locale.ROOT).replace("_", "-").contains("rate-limit");
  }

  /** The deciding policy of a denial ({@code unknown} when the record names none). */
  public static String denyingPolicy(FlowRecord flow) {
    return flow.getPolicy() == null || flow.getPolicy().isBlank() ? UNKNOWN : flow.getPolicy();
  }

  /**
   * Event time in epoch millis: when the flow completed ({@code time + latency}), which is when Istio's
   * metrics count a request too.
   */
  public static long completedAtMillis(FlowRecord flow) {
    long startMicros = flow.getTime().getEpochSecond() * 1_000_000L + flow.getTime().getNano() / 1_000;
    return Math.floorDiv(startMicros + Math.max(0, flow.getLatencyMicros()), 1_000L);
  }
}
