package dev.lattice.dataplane.telemetry;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowVerdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Istio's standard metrics, with Istio's names, labels and buckets, so Istio's Grafana dashboards and
 * Kiali's queries work unchanged: {@code istio_requests_total}, {@code istio_request_duration_milliseconds},
 * {@code istio_request_bytes}, {@code istio_response_bytes} per HTTP request, and
 * {@code istio_tcp_connections_opened_total}, {@code istio_tcp_connections_closed_total},
 * {@code istio_tcp_sent_bytes_total}, {@code istio_tcp_received_bytes_total} per TCP connection.
 *
 * <p>Low allocation on the hot path: the meters of one label set are resolved once and cached by a key of
 * the label values the observation already holds; a request then costs one key lookup and four meter
 * updates. Label sets are bounded ({@code maxLabelSets}); beyond it new combinations are counted in
 * {@link #overflowed()} rather than creating series (a cardinality guard Prometheus servers thank you for).
 *
 * <p>Thread-safe. Owns its {@link PrometheusMeterRegistry} ({@link #registry()}, for the admin API).
 */
public final class IstioMetrics implements FlowSink {

  /** Istio's default duration buckets (ms). */
  static final double[] DURATION_BUCKETS_MS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
      60000, 300000, 600000, 1800000, 3600000};
  /** Istio's size buckets: exponential, 1 B to 10^8 B. */
  static final double[] SIZE_BUCKETS = {1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000};
  private static final String UNKNOWN = "unknown";

  /** The values of one label set (what the cache is keyed by; all non-null). */
  record LabelSet(String reporter, String sourceWorkload, String sourceNamespace, String sourcePrincipal,
      String sourceVersion, String destinationWorkload, String destinationNamespace, String destinationPrincipal,
      String destinationVersion, String destinationService, String requestProtocol, int responseCode,
      int responseFlags, boolean mtls) {

    Tags tags() {
      String[] svc = serviceParts(destinationService);
      return Tags.of(
          "reporter", reporter,
          "source_workload", sourceWorkload,
          "source_workload_namespace", sourceNamespace,
          "source_principal", sourcePrincipal,
          "source_app", sourceWorkload,
          "source_version", sourceVersion,
          "source_canonical_service", sourceWorkload,
          "source_canonical_revision", sourceVersion.equals(UNKNOWN) ? "latest" : sourceVersion,
          "destination_workload", destinationWorkload,
          "destination_workload_namespace", destinationNamespace,
          "destination_principal", destinationPrincipal,
          "destination_app", destinationWorkload,
          "destination_version", destinationVersion,
          "destination_service", destinationService,
          "destination_service_name", svc[0],
          "destination_service_namespace", svc[1],
          "destination_canonical_service", destinationWorkload,
          "destination_canonical_revision", destinationVersion.equals(UNKNOWN) ? "latest" : destinationVersion,
          "request_protocol", requestProtocol,
          "response_code", Integer.toString(responseCode),
          "grpc_response_status", "",
          "response_flags", ResponseFlag.format(responseFlags),
          "connection_security_policy", reporter.equals("destination") ? (mtls ? "mutual_tls" : "none") : UNKNOWN);
    }

    /** Istio's destination_service_name / _namespace from {@code name.namespace[.svc.cluster.local]}. */
    private static String[] serviceParts(String service) {
      int dot = service.indexOf('.');
      if (dot < 0) {
        return new String[] {service, UNKNOWN};
      }
      int end = service.indexOf('.', dot + 1);
      return new String[] {service.substring(0, dot), service.substring(dot + 1, end < 0 ? service.length() : end)};
    }
  }

  /** The meters of one HTTP label set. */
  private record HttpMeters(Counter requests, DistributionSummary duration, DistributionSummary requestBytes,
      DistributionSummary responseBytes) {}

  /** The meters of one TCP label set. */
  private record TcpMeters(Counter opened, Counter closed, Counter sent, Counter received) {}

  private final PrometheusMeterRegistry registry;
  private final int maxLabelSets;
  private final ConcurrentHashMap<LabelSet, HttpMeters> http = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<LabelSet, TcpMeters> tcp = new ConcurrentHashMap<>();
  private final LongAdder overflowed = new LongAdder();
  /** Requests by status class: index 0 = no response, 1..5 = 1xx..5xx. */
  private final LongAdder[] byClass = {new LongAdder(), new LongAdder(), new LongAdder(), new LongAdder(),
      new LongAdder(), new LongAdder()};

  /** A registry of its own, at most {@code maxLabelSets} label sets per metric family. */
  public IstioMetrics(int maxLabelSets) {
    if (maxLabelSets < 1) {
      throw new IllegalArgumentException("maxLabelSets: " + maxLabelSets + " (expected: >= 1)");
    }
    this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    this.maxLabelSets = maxLabelSets;
  }

  /** 10,000 label sets per family. */
  public IstioMetrics() {
    this(10_000);
  }

  /** The registry the metrics live in (scrape it for {@code /stats/prometheus}). */
  public PrometheusMeterRegistry registry() {
    return registry;
  }

  /** Prometheus text exposition of every Istio metric. */
  public String scrape() {
    return registry.scrape();
  }

  /** Observations not counted because their label set would have exceeded the bound. */
  public long overflowed() {
    return overflowed.sum();
  }

  /** HTTP requests seen with a status of class {@code n}xx (1..5), or without a response ({@code 0}). */
  public long requests(int statusClass) {
    return byClass[statusClass].sum();
  }

  @Override
  public void accept(FlowObservation o) {
    if (o.http) {
      int c = o.status / 100;
      byClass[c >= 1 && c <= 5 ? c : 0].increment();
    }
    LabelSet key = labels(o);
    if (o.http) {
      HttpMeters m = http.get(key);
      if (m == null) {
        if (http.size() >= maxLabelSets) {
          overflowed.increment();
          return;
        }
        m = http.computeIfAbsent(key, this::httpMeters);
      }
      m.requests.increment();
      m.duration.record(o.latencyMicros / 1000.0);
      m.requestBytes.record(o.bytesIn);
      m.responseBytes.record(o.bytesOut);
    } else {
      TcpMeters m = tcp.get(key);
      if (m == null) {
        if (tcp.size() >= maxLabelSets) {
          overflowed.increment();
          return;
        }
        m = tcp.computeIfAbsent(key, this::tcpMeters);
      }
      // one observation per finished connection: it was opened and is now closed
      m.opened.increment();
      m.closed.increment();
      m.sent.increment(o.bytesOut);
      m.received.increment(o.bytesIn);
    }
  }

  private static LabelSet labels(FlowObservation o) {
    boolean inbound = o.direction == FlowDirection.INBOUND;
    int code = o.http ? (o.status == 0 ? 0 : o.status) : 0;
    // a denied TCP connection carries Envoy's flag, not a status
    int flags = o.responseFlags;
    if (!o.http && o.verdict == FlowVerdict.DROPPED && flags == 0) {
      flags = ResponseFlag.RBAC_ACCESS_DENIED.bit();
    }
    return new LabelSet(
        inbound ? "destination" : "source",
        orUnknown(o.source.workload), orUnknown(o.source.namespace), orUnknown(o.source.spiffeId),
        orUnknown(o.sourceVersion),
        orUnknown(o.destination.workload), orUnknown(o.destination.namespace), orUnknown(o.destination.spiffeId),
        orUnknown(o.destinationVersion), orUnknown(o.destinationService),
        o.http ? (o.grpcStatus >= 0 ? "grpc" : "http") : "tcp",
        code, flags, o.mtls);
  }

  private static String orUnknown(String s) {
    return s == null || s.isEmpty() ? UNKNOWN : s;
  }

  private HttpMeters httpMeters(LabelSet k) {
    Tags tags = k.tags();
    return new HttpMeters(
        Counter.builder("istio_requests").description("Requests, by Istio's standard labels").tags(tags).register(registry),
        histogram("istio_request_duration_milliseconds", "Request duration (ms)", DURATION_BUCKETS_MS, tags),
        histogram("istio_request_bytes", "Request body size (bytes)", SIZE_BUCKETS, tags),
        histogram("istio_response_bytes", "Response body size (bytes)", SIZE_BUCKETS, tags));
  }

  private TcpMeters tcpMeters(LabelSet k) {
    Tags tags = k.tags().and("response_code", "0");
    return new TcpMeters(
        Counter.builder("istio_tcp_connections_opened").description("TCP connections opened").tags(tags).register(registry),
        Counter.builder("istio_tcp_connections_closed").description("TCP connections closed").tags(tags).register(registry),
        Counter.builder("istio_tcp_sent_bytes").description("Bytes sent to the downstream on TCP connections").tags(tags)
            .register(registry),
        Counter.builder("istio_tcp_received_bytes").description("Bytes received from the downstream on TCP connections")
            .tags(tags).register(registry));
  }

  private DistributionSummary histogram(String name, String help, double[] buckets, Tags tags) {
    return DistributionSummary.builder(name).description(help).serviceLevelObjectives(buckets).tags(tags)
        .register(registry);
  }

  @Override
  public String toString() {
    return "IstioMetrics[" + http.size() + " http, " + tcp.size() + " tcp label sets]";
  }
}
