package dev.lattice.telemetry.aggregate;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowSignals;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KGroupedStream;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.state.WindowStore;
import java.util.List;

/**
 * The aggregation topology: {@code lattice.flows.v1} → golden signals per {@link MetricsScope} and
 * {@link WindowSize} in named window stores ({@link #storeName}) → {@code lattice.metrics.v1}.
 *
 * <p>Only records {@link FlowSignals#counted} count in the edge, route and service scopes: a request both
 * proxies report counts once. The {@link MetricsScope#ISTIO} scope keeps every record (per reporter, as
 * Istio's metrics do) and uses the first (smallest) window only.
 *
 * <p>Flows are keyed by source workload on the input; each scope re-keys explicitly (a named repartition
 * topic per scope, {@code <application.id>-telemetry-<scope>-stats-repartition}, carrying each flow as its own
 * {@link FlowStats}), so every key's flows meet in
 * one task however the producer partitioned them. Event time is when a flow completed
 * ({@link FlowTimestampExtractor}). Windows are tumbling with {@link TelemetryOptions#grace()}: a flow
 * that arrives later than that (by stream time) is dropped and counted in Streams'
 * {@code dropped-records-total}. The stores always hold the running aggregate (what the query API reads);
 * the topic gets one final record per key and window when the window closes, so a consumer of
 * {@code lattice.metrics.v1} can sum records without double counting. Run it with
 * {@code exactly_once_v2} and the kit's dead-letter deserialization handler (undecodable flows go to
 * {@code lattice.flows.v1.dlq}).
 *
 * <p>Pure: builds a {@link Topology}, starts nothing.
 */
public final class TelemetryTopology {

  private static final Serde<String> KEYS = Serdes.String();
  private static final FlowStatsSerde STATS = new FlowStatsSerde();

  private TelemetryTopology() {}

  /** The window store holding {@code scope} aggregates in {@code window}s, e.g. {@code telemetry-edge-10s}. */
  public static String storeName(MetricsScope scope, WindowSize window) {
    return "telemetry-" + scope.label() + "-" + window.label();
  }

  /** Builds the topology. */
  public static Topology build(TelemetryTopics topics, TelemetryOptions options) {
    StreamsBuilder builder = new StreamsBuilder();
    KStream<String, FlowRecord> flows = builder.stream(topics.flows().name(),
        Consumed.with(topics.flows().keySerde(), topics.flows().valueSerde())
            .withTimestampExtractor(new FlowTimestampExtractor())
            .withName("telemetry-flows"))
        // A tombstone carries no flow; nothing to count.
        .filter((key, flow) -> flow != null, Named.as("telemetry-flows-present"));
    // A request between two proxies is reported by both: count it once (before repartitioning, which
    // also halves what goes through the repartition topics).
    KStream<String, FlowRecord> counted = flows.filter((key, flow) -> FlowSignals.counted(flow),
        Named.as("telemetry-flows-counted"));
    for (MetricsScope scope : MetricsScope.values()) {
      // The istio scope keeps both reports of a request (Istio's reporter label tells them apart) and is
      // only exported by /metrics, which needs one window size.
      boolean istio = scope == MetricsScope.ISTIO;
      // What crosses the repartition topic is the flow's own FlowStats (~30 B), not the FlowRecord (~300 B of
      // Avro): the Avro encode + decode per scope was ~30 % of the stream thread (benchmark, JFR).
      KGroupedStream<String, FlowStats> grouped = (istio ? flows : counted)
          .map((key, flow) -> KeyValue.pair(MetricsKey.of(scope, flow).text(), FlowStats.empty().add(flow)),
              Named.as("telemetry-" + scope.label() + "-stats"))
          .groupByKey(Grouped.with("telemetry-" + scope.label() + "-stats", KEYS, STATS));
      for (WindowSize window : istio ? List.of(options.windows().get(0)) : options.windows()) {
        aggregate(grouped, scope, window, options, topics);
      }
    }
    return builder.build();
  }

  private static void aggregate(KGroupedStream<String, FlowStats> grouped, MetricsScope scope, WindowSize window,
      TelemetryOptions options, TelemetryTopics topics) {
    String store = storeName(scope, window);
    // Final results through suppress, not EmitStrategy.onWindowClose(): the latter's first emit per task
    // scans its cached store from epoch 0 one segment (retention / 2) at a time — ~500,000 cache range
    // lookups per store and task, seconds of a stream thread on a fresh start, long enough on a loaded
    // machine to time out the transaction and fence the producer (docs/decisions.md).
    grouped.windowedBy(TimeWindows.ofSizeAndGrace(window.size(), options.grace()))
        .aggregate(FlowStats::empty, (key, one, stats) -> stats.merge(one), Named.as(store + "-aggregate"),
            Materialized.<String, FlowStats, WindowStore<Bytes, byte[]>>as(store)
                .withKeySerde(KEYS).withValueSerde(STATS).withRetention(options.retention()))
        .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded())
            .withName(store + "-final"))
        .toStream(Named.as(store + "-closed"))
        .map((windowed, stats) -> {
          MetricsKey key = MetricsKey.parse(windowed.key());
          EdgeMetrics event = EdgeMetricsMapping.toEvent(key, windowed.window().start(), windowed.window().end(),
              stats);
          return KeyValue.pair(EdgeMetricsMapping.topicKey(key, window, windowed.window().start()), event);
        }, Named.as(store + "-event"))
        .to(topics.metrics().name(), Produced.with(topics.metrics().keySerde(), topics.metrics().valueSerde())
            .withName(store + "-out"));
  }
}
