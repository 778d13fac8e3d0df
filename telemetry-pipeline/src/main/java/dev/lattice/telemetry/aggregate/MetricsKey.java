package dev.lattice.telemetry.aggregate;

import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowSignals;
import java.util.Objects;

/**
 * The grouping key of one aggregate: {@code <scope>|<source>|<destination>|<route>|<codeClass>}, with
 * {@code -} for a part the scope leaves out. It is the key of the window stores; {@code lattice.metrics.v1}
 * appends {@code |<window>|<windowStart ms>}. Node names never contain {@code |}.
 *
 * @param scope what is grouped
 * @param source source node ({@code *} for the service scope)
 * @param destination destination node
 * @param route route name (route scope; may be null); the reporter for the istio scope
 * @param codeClass response code class (route scope; else null); the {@link IstioLabels} text for the istio
 *     scope
 */
public record MetricsKey(MetricsScope scope, String source, String destination, String route, String codeClass) {

  /** Source of every service-scope key. */
  public static final String ANY_SOURCE = "*";
  private static final String ABSENT = "-";

  public MetricsKey {
    Objects.requireNonNull(scope, "scope");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(destination, "destination");
  }

  /** The key a flow counts under in {@code scope}. */
  public static MetricsKey of(MetricsScope scope, FlowRecord flow) {
    return switch (scope) {
      case EDGE -> new MetricsKey(scope, FlowSignals.source(flow), FlowSignals.destination(flow), null, null);
      case ROUTE -> new MetricsKey(scope, FlowSignals.source(flow), FlowSignals.destination(flow),
          FlowSignals.route(flow), FlowSignals.codeClass(flow));
      case SERVICE -> new MetricsKey(scope, ANY_SOURCE, FlowSignals.destination(flow), null, null);
      case ISTIO -> new MetricsKey(scope, FlowSignals.source(flow), FlowSignals.destination(flow),
          FlowSignals.reporter(flow), IstioLabels.of(flow).text());
    };
  }

  /** An edge key. */
  public static MetricsKey edge(String source, String destination) {
    return new MetricsKey(MetricsScope.EDGE, source, destination, null, null);
  }

  /** A service key. */
  public static MetricsKey service(String destination) {
    return new MetricsKey(MetricsScope.SERVICE, ANY_SOURCE, destination, null, null);
  }

  /** Istio's {@code reporter} of an istio-scope key ({@code source} or {@code destination}). */
  public String reporter() {
    requireIstio();
    return route;
  }

  /** The Istio labels of an istio-scope key. */
  public IstioLabels istioLabels() {
    requireIstio();
    return IstioLabels.parse(codeClass);
  }

  private void requireIstio() {
    if (scope != MetricsScope.ISTIO) {
      throw new IllegalStateException("not an istio-scope key: " + text());
    }
  }

  /** The text form. */
  public String text() {
    return scope.label() + "|" + source + "|" + destination + "|" + part(route) + "|" + part(codeClass);
  }

  /**
   * Parses {@link #text()}.
   *
   * @throws IllegalArgumentException when it is not five {@code |}-separated parts with a known scope
   */
  public static MetricsKey parse(String text) {
    String[] parts = text.split("\\|", -1);
    if (parts.length != 5) {
      throw new IllegalArgumentException("metrics key: '" + text
          + "' (expected: scope|source|destination|route|codeClass)");
    }
    return new MetricsKey(MetricsScope.parse(parts[0]), parts[1], parts[2], absent(parts[3]), absent(parts[4]));
  }

  private static String part(String s) {
    return s == null || s.isEmpty() ? ABSENT : s;
  }

  private static String absent(String s) {
    return ABSENT.equals(s) ? null : s;
  }
}
