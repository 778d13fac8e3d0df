package dev.lattice.telemetry.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import dev.lattice.telemetry.flow.FlowSignals;
import dev.lattice.telemetry.generator.FlowGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.state.WindowStore;
import org.junit.jupiter.api.Test;

class TelemetryTopologyTest {

  static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");
  /** Grace long enough that no generated flow is late: the brute force then counts every flow. */
  static final TelemetryOptions NO_LATE = TelemetryOptions.defaults().withGrace(Duration.ofMinutes(2));

  /** Flows starting over ~3 minutes, in start order (completion order differs: latencies vary). */
  static List<FlowRecord> generated(long seed, int count) {
    FlowGenerator generator = new FlowGenerator(seed);
    List<FlowRecord> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(generator.next(T0.plusMillis(i * 180_000L / count)));
    }
    return out;
  }

  /** A flow far in the future whose stream time closes every earlier window. */
  static FlowRecord closer(Instant at) {
    return flow("shop", "closer", "shop", "sink", at, 200, 1000);
  }

  @Test
  void everyTaskReadsOnePartitionSoTaskIdlingIsOff() {
    // TelemetryService disables max.task.idle.ms: it only orders records across a task's input
    // partitions, and a subtopology with one source topic gives each task one partition.
    var subtopologies = TelemetryTopology.build(TelemetryTopics.standard(), TelemetryOptions.defaults()).describe()
        .subtopologies();
    assertThat(subtopologies).hasSize(1 + MetricsScope.values().length);
    for (var sub : subtopologies) {
      List<String> sources = sub.nodes().stream()
          .filter(n -> n instanceof org.apache.kafka.streams.TopologyDescription.Source)
          .flatMap(n -> ((org.apache.kafka.streams.TopologyDescription.Source) n).topicSet().stream()).toList();
      assertThat(sources).as("subtopology %d", sub.id()).hasSize(1);
    }
  }

  @Test
  void countsErrorClassesAndPercentilesMatchABruteForceComputation() {
    List<FlowRecord> flows = generated(7, 2000);
    Map<String, EdgeMetrics> emitted;
    try (TelemetryDriver d = new TelemetryDriver(NO_LATE)) {
      flows.forEach(d::pipe);
      d.pipe(closer(T0.plus(Duration.ofHours(1))));
      emitted = d.drainMetrics();
    }
    Map<String, List<FlowRecord>> expected = bruteForce(flows, NO_LATE.windows());
    assertThat(emitted.keySet()).containsExactlyInAnyOrderElementsOf(expected.keySet());
    for (Map.Entry<String, List<FlowRecord>> e : expected.entrySet()) {
      assertMatches(e.getKey(), emitted.get(e.getKey()), e.getValue());
    }
    // Every scope and both windows are there, and the mesh's signals show up.
    assertThat(emitted.values()).extracting(EdgeMetrics::getScope).contains("edge", "route", "service", "istio");
    // the istio scope keeps both reports, with exact codes
    assertThat(emitted.values()).anyMatch(m -> m.getScope().equals("istio") && "source".equals(m.getReporter())
        && m.getDestination().equals("shop/payments") && Integer.valueOf(403).equals(m.getResponseCode()));
    assertThat(emitted.values()).anyMatch(m -> m.getScope().equals("istio") && "destination".equals(m.getReporter())
        && m.getDenied() == m.getRequests() && Integer.valueOf(403).equals(m.getResponseCode()));
    assertThat(emitted.values()).anyMatch(m -> "tcp".equals(m.getRequestProtocol()) && m.getTcpOpened() > 0);
    assertThat(emitted.values()).filteredOn(m -> !m.getScope().equals("istio"))
        .allMatch(m -> m.getReporter() == null && m.getResponseCode() == null);
    EdgeMetrics denied = emitted.values().stream()
        .filter(m -> m.getScope().equals("edge") && m.getSource().equals("legacy/batch")).findFirst().orElseThrow();
    assertThat(denied.getDenied()).isEqualTo(denied.getRequests()).isPositive();
    assertThat(denied.getDeniedBy()).containsOnlyKeys(FlowGenerator.DENYING_POLICY);
    assertThat(emitted.values()).anyMatch(m -> m.getRateLimited() > 0);
    assertThat(emitted.values()).anyMatch(m -> m.getTcpOpened() > 0 && m.getCodeClass() == null);
    assertThat(emitted.values()).anyMatch(m -> m.getResponseFlags().containsKey("UF"));
  }

  @Test
  void tenSecondWindowsMergeIntoTheMinuteExactly() {
    List<FlowRecord> flows = generated(11, 1000);
    Map<String, EdgeMetrics> emitted;
    try (TelemetryDriver d = new TelemetryDriver(NO_LATE)) {
      flows.forEach(d::pipe);
      d.pipe(closer(T0.plus(Duration.ofHours(1))));
      emitted = d.drainMetrics();
    }
    Map<String, FlowStats> merged = new TreeMap<>();
    Map<String, EdgeMetrics> minutes = new TreeMap<>();
    emitted.forEach((key, m) -> {
      if (m.getScope().equals("istio")) {
        return; // aggregated in 10 s windows only
      }
      String[] parts = key.split("\\|");
      long start = m.getWindowStart().toEpochMilli();
      String base = String.join("|", List.of(parts).subList(0, 5));
      long minute = start - Math.floorMod(start, 60_000L);
      if (parts[5].equals("10s")) {
        merged.computeIfAbsent(base + "|" + minute, k -> FlowStats.empty()).merge(stats(m));
      } else {
        minutes.put(base + "|" + start, m);
      }
    });
    assertThat(merged.keySet()).isEqualTo(minutes.keySet());
    merged.forEach((k, stats) -> {
      EdgeMetrics minute = minutes.get(k);
      assertThat(stats.requests()).as(k).isEqualTo(minute.getRequests());
      assertThat(stats.latency()).as(k).isEqualTo(LatencyHistogram.fromSketch(minute.getLatency()));
      assertThat(stats.responseFlags()).as(k).isEqualTo(minute.getResponseFlags());
      assertThat(stats.bytesOut()).as(k).isEqualTo(minute.getBytesOut());
    });
  }

  @Test
  void lateWithinGraceIsCountedAfterGraceDroppedAndCounted() {
    TelemetryOptions options = TelemetryOptions.defaults(); // 10 s and 1 min windows, 5 s grace
    try (TelemetryDriver d = new TelemetryDriver(options)) {
      Instant w10 = T0.plusSeconds(10); // window [10 s, 20 s) of the 10 s windows; [0, 60 s) of the minute
      d.pipe(flow("shop", "a", "shop", "b", w10.plusSeconds(2), 200, 1_000));
      d.pipe(flow("shop", "a", "shop", "b", w10.plusSeconds(11), 200, 1_000)); // stream time 21 s
      d.pipe(flow("shop", "a", "shop", "b", w10.plusSeconds(5), 500, 1_000)); // late, within grace (closes at 25 s)
      d.pipe(flow("shop", "a", "shop", "b", w10.plusSeconds(20), 200, 1_000)); // stream time 30 s: [10, 20) closes
      assertThat(d.droppedRecords()).isZero();
      d.pipe(flow("shop", "a", "shop", "b", w10.plusSeconds(6), 500, 1_000)); // after grace for the 10 s windows

      Map<String, EdgeMetrics> emitted = d.drainMetrics();
      String edgeKey = "edge|shop/a|shop/b|-|-|10s|" + w10.toEpochMilli();
      assertThat(emitted).containsKey(edgeKey);
      assertThat(emitted.get(edgeKey).getRequests()).isEqualTo(2);
      assertThat(emitted.get(edgeKey).getErrors5xx()).isEqualTo(1);
      // Dropped once by each 10 s aggregate (edge, route, service, istio); the minute is still open and counts it.
      assertThat(d.droppedRecords()).isEqualTo(4);
      WindowStore<String, FlowStats> minutes = d.driver.getWindowStore(
          TelemetryTopology.storeName(MetricsScope.EDGE, WindowSize.ONE_MINUTE));
      assertThat(minutes.fetch(MetricsKey.edge("shop/a", "shop/b").text(), T0.toEpochMilli()).requests())
          .isEqualTo(5);
      WindowStore<String, FlowStats> tens = d.driver.getWindowStore(
          TelemetryTopology.storeName(MetricsScope.EDGE, WindowSize.TEN_SECONDS));
      assertThat(tens.fetch(MetricsKey.edge("shop/a", "shop/b").text(), w10.toEpochMilli()).requests())
          .isEqualTo(2);
    }
  }

  @Test
  void storesHoldTheRunningAggregateBeforeTheWindowCloses() {
    try (TelemetryDriver d = new TelemetryDriver(TelemetryOptions.defaults())) {
      d.pipe(flow("shop", "a", "shop", "b", T0.plusSeconds(1), 200, 2_000));
      d.pipe(flow("shop", "c", "shop", "b", T0.plusSeconds(2), 503, 4_000));
      assertThat(d.drainMetrics()).isEmpty(); // nothing closed yet
      WindowStore<String, FlowStats> services = d.driver.getWindowStore(
          TelemetryTopology.storeName(MetricsScope.SERVICE, WindowSize.TEN_SECONDS));
      FlowStats b = services.fetch(MetricsKey.service("shop/b").text(), T0.toEpochMilli());
      assertThat(b.requests()).isEqualTo(2);
      assertThat(b.errors5xx()).isEqualTo(1);
      assertThat(b.latency().maxMicros()).isEqualTo(4_000);
    }
  }

  @Test
  void aRequestReportedByBothProxiesCountsOnce() {
    try (TelemetryDriver d = new TelemetryDriver(TelemetryOptions.defaults())) {
      FlowRecord inbound = flow("shop", "a", "shop", "b", T0.plusSeconds(1), 200, 2_000);
      FlowRecord outbound = FlowRecord.newBuilder(inbound).setDirection(dev.lattice.events.FlowDirection.OUTBOUND)
          .setLatencyMicros(2_500).build();
      FlowRecord failed = FlowRecord.newBuilder(outbound).setL7(L7Flow.newBuilder(outbound.getL7())
          .setHttpStatus(503).build()).setResponseFlags(List.of("UF")).setVerdict(FlowVerdict.ERROR).build();
      d.pipe(outbound);
      d.pipe(inbound);
      d.pipe(failed); // the caller's proxy could not connect: only it reports
      WindowStore<String, FlowStats> edges = d.driver.getWindowStore(
          TelemetryTopology.storeName(MetricsScope.EDGE, WindowSize.TEN_SECONDS));
      FlowStats ab = edges.fetch(MetricsKey.edge("shop/a", "shop/b").text(), T0.toEpochMilli());
      assertThat(ab.requests()).isEqualTo(2);
      assertThat(ab.errors5xx()).isEqualTo(1);
      assertThat(ab.latency().maxMicros()).isEqualTo(2_500); // the failed one; the pair counted its inbound 2 ms
      WindowStore<String, FlowStats> services = d.driver.getWindowStore(
          TelemetryTopology.storeName(MetricsScope.SERVICE, WindowSize.TEN_SECONDS));
      assertThat(services.fetch(MetricsKey.service("shop/b").text(), T0.toEpochMilli()).requests()).isEqualTo(2);
    }
  }

  // --- brute force -------------------------------------------------------------------------------

  static Map<String, List<FlowRecord>> bruteForce(List<FlowRecord> flows, List<WindowSize> windows) {
    Map<String, List<FlowRecord>> out = new TreeMap<>();
    for (FlowRecord f : flows) {
      long t = FlowSignals.completedAtMillis(f);
      for (MetricsScope scope : MetricsScope.values()) {
        boolean istio = scope == MetricsScope.ISTIO;
        if (!istio && !FlowSignals.counted(f)) {
          continue; // the other proxy's report of a request counted from its own
        }
        for (WindowSize w : istio ? windows.subList(0, 1) : windows) {
          long start = t - Math.floorMod(t, w.millis());
          out.computeIfAbsent(EdgeMetricsMapping.topicKey(MetricsKey.of(scope, f), w, start), k -> new ArrayList<>())
              .add(f);
        }
      }
    }
    return out;
  }

  private static void assertMatches(String key, EdgeMetrics m, List<FlowRecord> flows) {
    assertThat(m).as(key).isNotNull();
    assertThat(m.getRequests()).as(key).isEqualTo(flows.size());
    assertThat(m.getErrors()).as(key).isEqualTo(flows.stream().filter(FlowSignals::error).count());
    assertThat(m.getErrors4xx()).as(key).isEqualTo(flows.stream()
        .filter(f -> FlowSignals.httpStatus(f) / 100 == 4).count());
    assertThat(m.getErrors5xx()).as(key).isEqualTo(flows.stream()
        .filter(f -> FlowSignals.httpStatus(f) / 100 == 5).count());
    assertThat(m.getDenied()).as(key).isEqualTo(flows.stream().filter(FlowSignals::denied).count());
    assertThat(m.getRateLimited()).as(key).isEqualTo(flows.stream().filter(FlowSignals::rateLimited).count());
    Map<String, Long> flags = new TreeMap<>();
    flows.forEach(f -> f.getResponseFlags().forEach(fl -> flags.merge(fl, 1L, Long::sum)));
    assertThat(m.getResponseFlags()).as(key).isEqualTo(flags);
    assertThat(m.getBytesIn()).as(key).isEqualTo(flows.stream().mapToLong(FlowRecord::getBytesIn).sum());
    assertThat(m.getBytesOut()).as(key).isEqualTo(flows.stream().mapToLong(FlowRecord::getBytesOut).sum());
    assertThat(m.getTcpOpened()).as(key).isEqualTo(flows.stream().filter(FlowSignals::tcp).count());
    assertThat(m.getMtlsRequests()).as(key).isEqualTo(flows.stream().filter(FlowRecord::getMtls).count());
    long[] sorted = flows.stream().mapToLong(FlowRecord::getLatencyMicros).sorted().toArray();
    LatencyHistogram h = LatencyHistogram.fromSketch(m.getLatency());
    assertThat(h.maxMicros()).as(key).isEqualTo(sorted[sorted.length - 1]);
    for (double q : new double[] {0.5, 0.9, 0.99}) {
      long exact = sorted[(int) Math.max(0, Math.ceil(q * sorted.length) - 1)];
      double bound = exact >= LatencyHistogram.BASE_MICROS
          ? exact * LatencyHistogram.RELATIVE_ERROR * (1 + 1e-9) : LatencyHistogram.BASE_MICROS;
      assertThat(h.quantile(q)).as(key + " p" + (int) (q * 100)).isCloseTo(exact, within(bound));
    }
  }

  private static FlowStats stats(EdgeMetrics m) {
    return FlowStats.fromEvent(m);
  }

  static FlowRecord flow(String srcNs, String src, String dstNs, String dst, Instant completedAt, int status,
      long latencyMicros) {
    return FlowRecord.newBuilder()
        .setTime(completedAt.minusNanos(latencyMicros * 1000))
        .setDirection(dev.lattice.events.FlowDirection.INBOUND)
        .setSource(FlowEndpoint.newBuilder().setNamespace(srcNs).setWorkload(src).setIp("10.0.0.1").setPort(40000)
            .build())
        .setDestination(FlowEndpoint.newBuilder().setNamespace(dstNs).setWorkload(dst).setIp("10.0.0.2")
            .setPort(8080).build())
        .setL4Protocol(L4Protocol.TCP)
        .setL7(L7Flow.newBuilder().setHttpMethod("GET").setPath("/").setHttpStatus(status).setRoute("r").build())
        .setVerdict(status >= 500 ? FlowVerdict.ERROR : FlowVerdict.FORWARDED)
        .setLatencyMicros(latencyMicros)
        .setMtls(true)
        .build();
  }
}
