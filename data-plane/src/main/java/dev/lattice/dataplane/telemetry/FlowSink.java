package dev.lattice.dataplane.telemetry;

/**
 * Something that consumes finished {@link FlowObservation}s: the Kafka exporter, the Istio metrics, the
 * access log. Called on the event loop that finished the exchange: never block, never throw. The
 * observation is complete and no longer changes; a sink that keeps it past the call may only read it.
 */
@FunctionalInterface
public interface FlowSink {

  void accept(FlowObservation observation);
}
