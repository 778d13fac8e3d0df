package dev.lattice.telemetry.flow;

import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;

/**
 * Which flows a live view shows, like {@code hubble observe}'s flags: {@code from} / {@code to} (a node
 * name, {@code ns/workload}, or a namespace prefix {@code ns/}), {@code namespace} (either side),
 * {@code workload} (a node on either side), {@code verdict}, {@code status} (an HTTP code or class: {@code 503}, {@code 5xx}; {@code tcp} for raw
 * connections), {@code denied} ({@code true}/{@code false}). Every given criterion must hold.
 *
 * @param from source node or namespace prefix, null for any
 * @param to destination node or namespace prefix, null for any
 * @param namespace namespace of either side, null for any
 * @param workload node on either side ({@code ns/workload}, {@code external/<host>}, {@code unknown}), null for any
 * @param verdict the verdict, null for any
 * @param status HTTP status code or class, null for any
 * @param denied denied by authorization (true) or not (false), null for either
 */
public record FlowFilter(String from, String to, String namespace, String workload, FlowVerdict verdict,
    String status, Boolean denied) {

  /** Accepts every flow. */
  public static final FlowFilter ALL = new FlowFilter(null, null, null, null, null, null, null);

  /**
   * Parses query parameters ({@code from}, {@code to}, {@code namespace}, {@code workload}, {@code verdict},
   * {@code status},
   * {@code denied}); missing or empty means any.
   *
   * @throws IllegalArgumentException naming the parameter, the value and what was expected
   */
  public static FlowFilter parse(Function<String, String> params) {
    String verdictText = blankToNull(params.apply("verdict"));
    FlowVerdict verdict = null;
    if (verdictText != null) {
      try {
        verdict = FlowVerdict.valueOf(verdictText.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("verdict: '" + verdictText + "' (expected one of "
            + Arrays.toString(FlowVerdict.values()) + ")");
      }
    }
    String status = blankToNull(params.apply("status"));
    if (status != null && !status.matches("[1-5]([0-9][0-9]|xx)|tcp")) {
      throw new IllegalArgumentException("status: '" + status + "' (expected an HTTP status 100..599, a class "
          + "1xx..5xx, or tcp)");
    }
    String deniedText = blankToNull(params.apply("denied"));
    Boolean denied = null;
    if (deniedText != null) {
      if (!deniedText.equals("true") && !deniedText.equals("false")) {
        throw new IllegalArgumentException("denied: '" + deniedText + "' (expected: true or false)");
      }
      denied = Boolean.valueOf(deniedText);
    }
    return new FlowFilter(blankToNull(params.apply("from")), blankToNull(params.apply("to")),
        blankToNull(params.apply("namespace")), workload(blankToNull(params.apply("workload"))), verdict, status == null ? null : status.toLowerCase(Locale.ROOT),
        denied);
  }

  private static String workload(String w) {
    if (w != null && !w.equals(FlowSignals.UNKNOWN) && (w.indexOf('/') <= 0 || w.endsWith("/"))) {
      throw new IllegalArgumentException("workload: '" + w
          + "' (expected: namespace/workload, external/<host> or unknown)");
    }
    return w;
  }

  /** Parses a map of parameters (see {@link #parse(Function)}). */
  public static FlowFilter parse(Map<String, String> params) {
    return parse(params::get);
  }

  /** Whether {@code flow} passes every criterion. */
  public boolean test(FlowRecord flow) {
    String src = FlowSignals.source(flow);
    String dst = FlowSignals.destination(flow);
    if (from != null && !nodeMatches(from, src)) {
      return false;
    }
    if (to != null && !nodeMatches(to, dst)) {
      return false;
    }
    if (namespace != null && !src.startsWith(namespace + "/") && !dst.startsWith(namespace + "/")) {
      return false;
    }
    if (workload != null && !workload.equals(src) && !workload.equals(dst)) {
      return false;
    }
    if (verdict != null && flow.getVerdict() != verdict) {
      return false;
    }
    if (status != null) {
      String actual = status.endsWith("xx") || status.equals("tcp") ? FlowSignals.codeClass(flow)
          : Integer.toString(FlowSignals.httpStatus(flow));
      if (!status.equals(actual)) {
        return false;
      }
    }
    return denied == null || denied == FlowSignals.denied(flow);
  }

  private static boolean nodeMatches(String wanted, String node) {
    return wanted.endsWith("/") ? node.startsWith(wanted) : node.equals(wanted);
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
