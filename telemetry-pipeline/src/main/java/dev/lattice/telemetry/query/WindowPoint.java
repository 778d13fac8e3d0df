package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.FlowStats;

/**
 * One window of one key's time series.
 *
 * @param startMillis window start
 * @param stats the window's aggregate
 */
public record WindowPoint(long startMillis, FlowStats stats) {}
