package dev.lattice.telemetry.aggregate;

import java.util.Locale;

/** What one aggregate key groups: an edge, an edge's route and code class, or a destination service. */
public enum MetricsScope {
  /** Source workload → destination. */
  EDGE,
  /** Source workload → destination × route × response-code class. */
  ROUTE,
  /** Destination over every caller (source {@code *}). */
  SERVICE,
  /**
   * Source workload → destination × one proxy's report (Istio's {@code reporter}) × Istio's labels
   * (protocol, exact response code, response flags, mTLS): what {@code /metrics} exports with Istio's names.
   * Unlike the other scopes it keeps both proxies' reports of a request, as Istio's metrics do; it is
   * aggregated in the smallest window only.
   */
  ISTIO;

  /** The lower-case label used in keys, store names and {@code EdgeMetrics.scope}. */
  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The scope of a label. */
  public static MetricsScope parse(String label) {
    for (MetricsScope s : values()) {
      if (s.label().equals(label)) {
        return s;
      }
    }
    throw new IllegalArgumentException("scope: '" + label + "' (expected: edge, route, service or istio)");
  }
}
