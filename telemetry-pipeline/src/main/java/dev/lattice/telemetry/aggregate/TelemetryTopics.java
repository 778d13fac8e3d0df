package dev.lattice.telemetry.aggregate;

import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;

/**
 * The topics the telemetry topology reads and writes.
 *
 * @param flows flow records in ({@code lattice.flows.v1})
 * @param metrics aggregated metrics out ({@code lattice.metrics.v1})
 */
public record TelemetryTopics(Topic<String, FlowRecord> flows, Topic<String, EdgeMetrics> metrics) {

  /** The catalog topics. */
  public static TelemetryTopics standard() {
    return new TelemetryTopics(LatticeTopics.FLOWS, LatticeTopics.METRICS);
  }

  /** The catalog's types under other names (tests, renamed deployments). */
  public static TelemetryTopics named(String flows, String metrics) {
    return new TelemetryTopics(LatticeTopics.renamed(LatticeTopics.FLOWS, flows),
        LatticeTopics.renamed(LatticeTopics.METRICS, metrics));
  }
}
