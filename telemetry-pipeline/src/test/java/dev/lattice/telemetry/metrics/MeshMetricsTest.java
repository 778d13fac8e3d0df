package dev.lattice.telemetry.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.aggregate.LatencyHistogram;
import dev.lattice.telemetry.aggregate.TelemetryDriver;
import dev.lattice.telemetry.aggregate.TelemetryOptions;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;

class MeshMetricsTest {

  static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");

  /** Generated flows through the real topology; every closed istio window fed to a scraped MeshMetrics. */
  static List<PromText.Sample> exported(List<FlowRecord> flows, MeshMetrics metrics) {
    Map<String, EdgeMetrics> emitted;
    try (TelemetryDriver d = new TelemetryDriver(TelemetryOptions.defaults().withGrace(Duration.ofMinutes(2)))) {
      flows.forEach(d::pipe);
      FlowRecord last = flows.get(flows.size() - 1);
      d.pipe(FlowRecord.newBuilder(last).setTime(T0.plus(Duration.ofHours(1))).build()); // closes every window
      emitted = d.drainMetrics();
    }
    emitted.values().forEach(metrics::add);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.getPrometheusRegistry().register(metrics);
    return PromText.parse(registry.scrape());
  }

  static List<FlowRecord> generated(long seed, int count) {
    FlowGenerator generator = new FlowGenerator(seed);
    List<FlowRecord> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(generator.next(T0.plusMillis(i * 120_000L / count)));
    }
    return out;
  }

  @Test
  void istioMetricsMatchABruteForceCountPerReporterAndExactResponseCode() {
    List<FlowRecord> flows = generated(21, 3000);
    MeshMetrics metrics = new MeshMetrics(10_000);
    List<PromText.Sample> samples = exported(flows, metrics);
    assertThat(metrics.overflowed()).isZero();

    // every family is there and no label outside Istio's set
    assertThat(samples).extracting(PromText.Sample::family).contains("istio_requests_total",
        "istio_request_duration_milliseconds_bucket", "istio_request_duration_milliseconds_sum",
        "istio_request_duration_milliseconds_count", "istio_request_bytes_sum", "istio_response_bytes_count",
        "istio_tcp_connections_opened_total", "istio_tcp_sent_bytes_total");
    samples.stream().filter(s -> s.family().startsWith("istio_"))
        .forEach(s -> assertThat(MeshMetrics.LABELS).containsAll(s.labels().keySet().stream()
            .filter(l -> !l.equals("le")).toList()));

    // requests per reporter, destination and exact response code, with the brute force over the records
    for (String reporter : List.of("source", "destination")) {
      FlowDirection direction = reporter.equals("source") ? FlowDirection.OUTBOUND : FlowDirection.INBOUND;
      for (int code : new int[] {200, 403, 429, 500, 503, 404}) {
        long expected = flows.stream().filter(f -> f.getDirection() == direction && !FlowSignals.tcp(f)
            && FlowSignals.destination(f).equals("shop/payments") && FlowSignals.httpStatus(f) == code).count();
        double got = PromText.sum(samples, "istio_requests_total", Map.of("reporter", reporter,
            "destination_workload", "payments", "destination_workload_namespace", "shop",
            "response_code", Integer.toString(code)));
        assertThat(got).as("%s %d", reporter, code).isEqualTo(expected);
      }
    }
    // the denial: 403 with RBAC on the destination's report, the caller's report sees a plain 403
    assertThat(PromText.sum(samples, "istio_requests_total", Map.of("reporter", "destination",
        "source_workload", "batch", "response_code", "403", "response_flags", "RBAC"))).isPositive();
    assertThat(PromText.sum(samples, "istio_requests_total", Map.of("reporter", "source",
        "source_workload", "batch", "response_code", "403", "response_flags", "-"))).isPositive();
    // connection security: known on the destination side only, as in Istio
    assertThat(samples).filteredOn(s -> s.labels().get("reporter") != null)
        .allMatch(s -> s.labels().get("reporter").equals("destination")
            ? List.of("mutual_tls", "none").contains(s.labels().get("connection_security_policy"))
            : s.labels().get("connection_security_policy").equals("unknown"));
    // the external API: only the caller reports it, destination_service is its host
    assertThat(PromText.sum(samples, "istio_requests_total", Map.of("reporter", "destination",
        "destination_service", "api.payments.example"))).isZero();
    assertThat(PromText.sum(samples, "istio_requests_total", Map.of("reporter", "source",
        "destination_service", "api.payments.example", "destination_workload", "unknown"))).isPositive();
    assertThat(PromText.sum(samples, "istio_requests_total", Map.of("destination_service",
        "catalog.shop.svc.cluster.local", "destination_service_name", "catalog",
        "destination_service_namespace", "shop"))).isPositive();

    // TCP: one connection per record, bytes both ways
    Predicate<FlowRecord> redisIn = f -> FlowSignals.tcp(f) && f.getDirection() == FlowDirection.INBOUND;
    Map<String, String> redisLabels = Map.of("reporter", "destination", "destination_workload", "redis");
    assertThat(PromText.sum(samples, "istio_tcp_connections_opened_total", redisLabels))
        .isEqualTo(flows.stream().filter(redisIn).count());
    assertThat(PromText.sum(samples, "istio_tcp_connections_closed_total", redisLabels))
        .isEqualTo(flows.stream().filter(redisIn).count());
    assertThat(PromText.sum(samples, "istio_tcp_sent_bytes_total", redisLabels))
        .isEqualTo(flows.stream().filter(redisIn).mapToLong(FlowRecord::getBytesOut).sum());
    assertThat(PromText.sum(samples, "istio_tcp_received_bytes_total", redisLabels))
        .isEqualTo(flows.stream().filter(redisIn).mapToLong(FlowRecord::getBytesIn).sum());
    assertThat(PromText.sum(samples, "istio_requests_total", redisLabels)).isZero();

    // duration histogram of the frontend → catalog destination reports: count and sum exact, each bucket
    // within the sketch's bucket width of the exact count
    Predicate<FlowRecord> catalogIn = f -> f.getDirection() == FlowDirection.INBOUND
        && FlowSignals.destination(f).equals("shop/catalog");
    Map<String, String> catalog = Map.of("reporter", "destination", "destination_workload", "catalog");
    long[] latencies = flows.stream().filter(catalogIn).mapToLong(FlowRecord::getLatencyMicros).toArray();
    assertThat(latencies.length).isGreaterThan(300);
    assertThat(PromText.sum(samples, "istio_request_duration_milliseconds_count", catalog))
        .isEqualTo(latencies.length);
    assertThat(PromText.sum(samples, "istio_request_duration_milliseconds_sum", catalog))
        .isCloseTo(java.util.Arrays.stream(latencies).sum() / 1000.0, org.assertj.core.api.Assertions.within(1e-6));
    assertThat(PromText.sum(samples, "istio_request_bytes_sum", catalog))
        .isEqualTo(flows.stream().filter(catalogIn).mapToLong(FlowRecord::getBytesIn).sum());
    for (double le : MeshMetrics.DURATION_BUCKETS_MS) {
      Map<String, String> bucket = new java.util.HashMap<>(catalog);
      bucket.put("le", PromText.le(le));
      double got = PromText.sum(samples, "istio_request_duration_milliseconds_bucket", bucket);
      double slack = LatencyHistogram.GROWTH;
      long atMost = java.util.Arrays.stream(latencies).filter(v -> v <= le * 1000 * slack).count();
      long atLeast = java.util.Arrays.stream(latencies).filter(v -> v <= le * 1000 / slack).count();
      assertThat(got).as("le=%s", le).isBetween((double) atLeast, (double) atMost);
    }
    Map<String, String> inf = new java.util.HashMap<>(catalog);
    inf.put("le", "+Inf");
    assertThat(PromText.sum(samples, "istio_request_duration_milliseconds_bucket", inf)).isEqualTo(latencies.length);
  }

  @Test
  void otherScopesAreIgnoredAndLabelSetsAreBounded() {
    List<FlowRecord> flows = generated(5, 500);
    MeshMetrics bounded = new MeshMetrics(2);
    exported(flows, bounded);
    assertThat(bounded.overflowed()).isPositive();
    assertThat(bounded.windows()).isPositive();
    MeshMetrics m = new MeshMetrics(10);
    EdgeMetrics edge = EdgeMetrics.newBuilder().setScope("edge").setSource("a/b").setDestination("c/d")
        .setWindowStart(T0).setWindowEnd(T0.plusSeconds(10)).setRequests(3).setErrors(0).setErrorRatio(0)
        .setLatency(LatencyHistogram.empty().toSketch()).build();
    assertThat(m.add(edge)).isFalse();
    assertThat(m.windows()).isZero();
  }
}
