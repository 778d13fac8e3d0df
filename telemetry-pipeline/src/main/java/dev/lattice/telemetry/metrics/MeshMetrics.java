package dev.lattice.telemetry.metrics;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.telemetry.aggregate.LatencyHistogram;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.flow.FlowSignals;
import io.prometheus.metrics.model.registry.MultiCollector;
import io.prometheus.metrics.model.snapshots.ClassicHistogramBuckets;
import io.prometheus.metrics.model.snapshots.CounterSnapshot;
import io.prometheus.metrics.model.snapshots.HistogramSnapshot;
import io.prometheus.metrics.model.snapshots.Labels;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Istio's standard metrics, computed from closed windows of the {@code istio} scope on
 * {@code lattice.metrics.v1}, with Istio's names, labels and duration buckets, so Istio's Grafana
 * dashboards and Kiali's queries work against the pipeline's {@code /metrics}:
 * {@code istio_requests_total}, {@code istio_request_duration_milliseconds} (histogram),
 * {@code istio_request_bytes} / {@code istio_response_bytes} (sum and count; the flow record has no
 * per-request size distribution, so their only bucket is {@code +Inf}), and
 * {@code istio_tcp_connections_opened_total}, {@code istio_tcp_connections_closed_total},
 * {@code istio_tcp_sent_bytes_total}, {@code istio_tcp_received_bytes_total}.
 *
 * <p>Counters are cumulative over the windows this instance has consumed (each instance consumes a share of
 * the topic's partitions, so sum over instances — as over Istio's proxies). Labels the flow record does not
 * carry (principals, versions) are {@code unknown} (revisions {@code latest}), as Istio reports a missing
 * value. Duration buckets are filled from the window's latency sketch: a value within 4 % of a bucket bound
 * may be counted in the neighbouring bucket ({@link LatencyHistogram#countsByUpperBound}); counts and sums
 * are exact. At most {@code maxLabelSets} label sets per family; windows of more are counted in
 * {@link #overflowed()} instead of creating series.
 *
 * <p>Thread-safe: {@link #add} from the feed's thread, {@link #collect} from the scrape.
 */
public final class MeshMetrics implements MultiCollector {

  /** Istio's default duration buckets (ms). */
  public static final double[] DURATION_BUCKETS_MS = {0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
      30000, 60000, 300000, 600000, 1800000, 3600000};
  /** Every label of every series, in Istio's names. */
  public static final List<String> LABELS = List.of("reporter", "source_workload", "source_workload_namespace",
      "source_principal", "source_app", "source_version", "source_canonical_service", "source_canonical_revision",
      "destination_workload", "destination_workload_namespace", "destination_principal", "destination_app",
      "destination_version", "destination_service", "destination_service_name", "destination_service_namespace",
      "destination_canonical_service", "destination_canonical_revision", "request_protocol", "response_code",
      "response_flags", "connection_security_policy");
  /** Metric families as they appear in the exposition (counters with {@code _total}). */
  public static final List<String> FAMILIES = List.of("istio_requests_total", "istio_request_duration_milliseconds",
      "istio_request_bytes", "istio_response_bytes", "istio_tcp_connections_opened_total",
      "istio_tcp_connections_closed_total", "istio_tcp_sent_bytes_total", "istio_tcp_received_bytes_total");

  private static final String UNKNOWN = "unknown";
  private static final double[] DURATION_BOUNDS_MICROS = new double[DURATION_BUCKETS_MS.length];
  private static final double[] DURATION_UPPER_BOUNDS = new double[DURATION_BUCKETS_MS.length + 1];
  private static final double[] INF_ONLY = {Double.POSITIVE_INFINITY};

  static {
    for (int i = 0; i < DURATION_BUCKETS_MS.length; i++) {
      DURATION_BOUNDS_MICROS[i] = DURATION_BUCKETS_MS[i] * 1000;
      DURATION_UPPER_BOUNDS[i] = DURATION_BUCKETS_MS[i];
    }
    DURATION_UPPER_BOUNDS[DURATION_BUCKETS_MS.length] = Double.POSITIVE_INFINITY;
  }

  /** What one HTTP label set accumulated. Guarded by its own monitor. */
  private static final class Http {
    long requests;
    final long[] duration = new long[DURATION_BUCKETS_MS.length + 1];
    double durationSumMs;
    long requestBytes;
    long responseBytes;
  }

  /** What one TCP label set accumulated. Guarded by its own monitor. */
  private static final class Tcp {
    long opened;
    long closed;
    long sent;
    long received;
  }

  private final int maxLabelSets;
  private final Map<Labels, Http> http = new ConcurrentHashMap<>();
  private final Map<Labels, Tcp> tcp = new ConcurrentHashMap<>();
  private final LongAdder windows = new LongAdder();
  private final LongAdder overflowed = new LongAdder();

  /** At most {@code maxLabelSets} label sets per family (HTTP, TCP). */
  public MeshMetrics(int maxLabelSets) {
    if (maxLabelSets < 1) {
      throw new IllegalArgumentException("maxLabelSets: " + maxLabelSets + " (expected: >= 1)");
    }
    this.maxLabelSets = maxLabelSets;
  }

  /** Closed windows counted. */
  public long windows() {
    return windows.sum();
  }

  /** Closed windows not counted because their label set would have exceeded the bound. */
  public long overflowed() {
    return overflowed.sum();
  }

  /**
   * Adds one closed window. Records of other scopes are ignored (they count requests once, not per
   * reporter).
   *
   * @return whether it was counted
   */
  public boolean add(EdgeMetrics m) {
    if (!MetricsScope.ISTIO.label().equals(m.getScope()) || m.getReporter() == null) {
      return false;
    }
    Labels labels = labels(m);
    if ("tcp".equals(m.getRequestProtocol())) {
      Tcp t = tcp.get(labels);
      if (t == null) {
        if (tcp.size() >= maxLabelSets) {
          overflowed.increment();
          return false;
        }
        t = tcp.computeIfAbsent(labels, k -> new Tcp());
      }
      synchronized (t) {
        t.opened += m.getTcpOpened();
        t.closed += m.getTcpClosed();
        t.sent += m.getBytesOut();
        t.received += m.getBytesIn();
      }
    } else {
      Http h = http.get(labels);
      if (h == null) {
        if (http.size() >= maxLabelSets) {
          overflowed.increment();
          return false;
        }
        h = http.computeIfAbsent(labels, k -> new Http());
      }
      LatencyHistogram latency = LatencyHistogram.fromSketch(m.getLatency());
      long[] buckets = latency.countsByUpperBound(DURATION_BOUNDS_MICROS);
      synchronized (h) {
        h.requests += m.getRequests();
        for (int i = 0; i < buckets.length; i++) {
          h.duration[i] += buckets[i];
        }
        h.durationSumMs += latency.sumMicros() / 1000.0;
        h.requestBytes += m.getBytesIn();
        h.responseBytes += m.getBytesOut();
      }
    }
    windows.increment();
    return true;
  }

  /** Istio's labels of one istio-scope window. */
  static Labels labels(EdgeMetrics m) {
    String[] src = split(m.getSource());
    String[] dst = split(m.getDestination());
    boolean external = m.getDestination().startsWith(FlowSignals.EXTERNAL_PREFIX);
    String service = external ? m.getDestination().substring(FlowSignals.EXTERNAL_PREFIX.length())
        : dst[1].equals(UNKNOWN) ? UNKNOWN : dst[1] + "." + dst[0] + ".svc.cluster.local";
    String flags = m.getResponseFlags().isEmpty() ? "-" : String.join(",", m.getResponseFlags().keySet());
    boolean destinationReporter = "destination".equals(m.getReporter());
    String security = !destinationReporter ? UNKNOWN : m.getMtlsRequests() > 0 ? "mutual_tls" : "none";
    String code = Integer.toString(m.getResponseCode() == null ? 0 : m.getResponseCode());
    return Labels.of(
        "reporter", m.getReporter(),
        "source_workload", src[1],
        "source_workload_namespace", src[0],
        "source_principal", UNKNOWN,
        "source_app", src[1],
        "source_version", UNKNOWN,
        "source_canonical_service", src[1],
        "source_canonical_revision", "latest",
        "destination_workload", external ? UNKNOWN : dst[1],
        "destination_workload_namespace", external ? UNKNOWN : dst[0],
        "destination_principal", UNKNOWN,
        "destination_app", external ? UNKNOWN : dst[1],
        "destination_version", UNKNOWN,
        "destination_service", service,
        "destination_service_name", external ? service : dst[1],
        "destination_service_namespace", external ? UNKNOWN : dst[0],
        "destination_canonical_service", external ? UNKNOWN : dst[1],
        "destination_canonical_revision", "latest",
        "request_protocol", m.getRequestProtocol() == null ? "http" : m.getRequestProtocol(),
        "response_code", code,
        "response_flags", flags,
        "connection_security_policy", security);
  }

  /** {@code ns/name} → {ns, name}; {@code unknown} (and anything without a slash) → unknown/unknown. */
  private static String[] split(String node) {
    int slash = node.indexOf('/');
    if (slash <= 0 || slash == node.length() - 1) {
      return new String[] {UNKNOWN, UNKNOWN};
    }
    return new String[] {node.substring(0, slash), node.substring(slash + 1)};
  }

  @Override
  public MetricSnapshots collect() {
    CounterSnapshot.Builder requests = CounterSnapshot.builder().name("istio_requests")
        .help("Requests, by Istio's standard labels (from closed pipeline windows)");
    HistogramSnapshot.Builder duration = HistogramSnapshot.builder().name("istio_request_duration_milliseconds")
        .help("Request duration (ms)");
    HistogramSnapshot.Builder requestBytes = HistogramSnapshot.builder().name("istio_request_bytes")
        .help("Request sizes (bytes; sum and count only)");
    HistogramSnapshot.Builder responseBytes = HistogramSnapshot.builder().name("istio_response_bytes")
        .help("Response sizes (bytes; sum and count only)");
    http.forEach((labels, h) -> {
      synchronized (h) {
        requests.dataPoint(CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(h.requests).build());
        duration.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(labels)
            .classicHistogramBuckets(ClassicHistogramBuckets.of(DURATION_UPPER_BOUNDS, h.duration.clone()))
            .sum(h.durationSumMs).build());
        requestBytes.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(labels)
            .classicHistogramBuckets(ClassicHistogramBuckets.of(INF_ONLY, new long[] {h.requests}))
            .sum(h.requestBytes).build());
        responseBytes.dataPoint(HistogramSnapshot.HistogramDataPointSnapshot.builder().labels(labels)
            .classicHistogramBuckets(ClassicHistogramBuckets.of(INF_ONLY, new long[] {h.requests}))
            .sum(h.responseBytes).build());
      }
    });
    CounterSnapshot.Builder opened = CounterSnapshot.builder().name("istio_tcp_connections_opened")
        .help("TCP connections opened");
    CounterSnapshot.Builder closed = CounterSnapshot.builder().name("istio_tcp_connections_closed")
        .help("TCP connections closed");
    CounterSnapshot.Builder sent = CounterSnapshot.builder().name("istio_tcp_sent_bytes")
        .help("Bytes sent to the caller on TCP connections");
    CounterSnapshot.Builder received = CounterSnapshot.builder().name("istio_tcp_received_bytes")
        .help("Bytes received from the caller on TCP connections");
    tcp.forEach((labels, t) -> {
      synchronized (t) {
        opened.dataPoint(counter(labels, t.opened));
        closed.dataPoint(counter(labels, t.closed));
        sent.dataPoint(counter(labels, t.sent));
        received.dataPoint(counter(labels, t.received));
      }
    });
    List<io.prometheus.metrics.model.snapshots.MetricSnapshot> out = new ArrayList<>();
    out.add(requests.build());
    out.add(duration.build());
    out.add(requestBytes.build());
    out.add(responseBytes.build());
    out.add(opened.build());
    out.add(closed.build());
    out.add(sent.build());
    out.add(received.build());
    return new MetricSnapshots(out);
  }

  private static CounterSnapshot.CounterDataPointSnapshot counter(Labels labels, long value) {
    return CounterSnapshot.CounterDataPointSnapshot.builder().labels(labels).value(value).build();
  }

  @Override
  public List<String> getPrometheusNames() {
    return List.of("istio_requests", "istio_request_duration_milliseconds", "istio_request_bytes",
        "istio_response_bytes", "istio_tcp_connections_opened", "istio_tcp_connections_closed", "istio_tcp_sent_bytes",
        "istio_tcp_received_bytes");
  }
}
