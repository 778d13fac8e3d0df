package dev.lattice.telemetry.aggregate;

import dev.lattice.events.EdgeMetrics;
import java.time.Instant;

/** Maps an aggregate to the {@code lattice.metrics.v1} event and key. Stateless. */
public final class EdgeMetricsMapping {

  private EdgeMetricsMapping() {}

  /** The topic key: {@code <MetricsKey text>|<window label>|<window start ms>}. */
  public static String topicKey(MetricsKey key, WindowSize window, long windowStartMillis) {
    return key.text() + "|" + window.label() + "|" + windowStartMillis;
  }

  /** The event for one key and window. */
  public static EdgeMetrics toEvent(MetricsKey key, long windowStartMillis, long windowEndMillis, FlowStats s) {
    boolean istio = key.scope() == MetricsScope.ISTIO;
    IstioLabels labels = istio ? key.istioLabels() : null;
    return EdgeMetrics.newBuilder()
        .setScope(key.scope().label())
        .setSource(key.source())
        .setDestination(key.destination())
        .setRoute(istio ? null : key.route())
        .setCodeClass(istio ? null : key.codeClass())
        .setReporter(istio ? key.reporter() : null)
        .setRequestProtocol(istio ? labels.protocol() : null)
        .setResponseCode(istio ? labels.responseCode() : null)
        .setWindowStart(Instant.ofEpochMilli(windowStartMillis))
        .setWindowEnd(Instant.ofEpochMilli(windowEndMillis))
        .setRequests(s.requests())
        .setErrors(s.errors())
        .setErrorRatio(s.errorRatio())
        .setErrors4xx(s.errors4xx())
        .setErrors5xx(s.errors5xx())
        .setDenied(s.denied())
        .setRateLimited(s.rateLimited())
        .setResponseFlags(s.responseFlags())
        .setDeniedBy(s.deniedBy())
        .setTcpOpened(s.tcpOpened())
        .setTcpClosed(s.tcpClosed())
        .setMtlsRequests(s.mtls())
        .setBytesIn(s.bytesIn())
        .setBytesOut(s.bytesOut())
        .setLatency(s.latency().toSketch())
        .build();
  }
}
