package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.FlowStats;
import dev.lattice.telemetry.aggregate.MetricsKey;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.aggregate.TelemetryRunner;
import dev.lattice.telemetry.aggregate.TelemetryTopology;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.apache.kafka.streams.state.WindowStoreIterator;

/**
 * Reads this instance's share of the window stores. Blocking (RocksDB): call from a worker thread.
 * Thread-safe.
 */
public final class LocalStores {

  private final TelemetryRunner runner;

  public LocalStores(TelemetryRunner runner) {
    this.runner = runner;
  }

  /** Every local key of {@code scope} with its windows in {@code range} merged. */
  public Map<String, FlowStats> scan(MetricsScope scope, TimeRange range) {
    Map<String, FlowStats> out = new TreeMap<>();
    long generation = runner.restoring().generation();
    try (KeyValueIterator<Windowed<String>, FlowStats> it = store(scope, range).fetchAll(
        Instant.ofEpochMilli(range.fromMillis()), Instant.ofEpochMilli(range.toMillis() - 1))) {
      it.forEachRemaining(kv -> out.computeIfAbsent(kv.key.key(), k -> FlowStats.empty()).merge(kv.value));
    } catch (InvalidStateStoreException e) {
      throw new QueryUnavailableException("stores not queryable (rebalancing or restoring): " + e.getMessage(), e);
    }
    checkNoRestoreSince(generation, scope, range);
    return out;
  }

  // a restore that began while reading may have fed the iterator part of a partition: not an answer
  private void checkNoRestoreSince(long generation, MetricsScope scope, TimeRange range) {
    String store = TelemetryTopology.storeName(scope, range.window());
    if (runner.restoring().generation() != generation || runner.restoring().restoring(store)) {
      throw new QueryUnavailableException("stores not queryable: " + store + " began restoring while being read",
          null);
    }
  }

  /** The windows of one key in {@code range}, oldest first (empty when this instance has none). */
  public List<WindowPoint> series(MetricsKey key, TimeRange range) {
    List<WindowPoint> out = new ArrayList<>();
    long generation = runner.restoring().generation();
    try (WindowStoreIterator<FlowStats> it = store(key.scope(), range).fetch(key.text(),
        Instant.ofEpochMilli(range.fromMillis()), Instant.ofEpochMilli(range.toMillis() - 1))) {
      it.forEachRemaining(kv -> out.add(new WindowPoint(kv.key, kv.value)));
    } catch (InvalidStateStoreException e) {
      throw new QueryUnavailableException("stores not queryable (rebalancing or restoring): " + e.getMessage(), e);
    }
    checkNoRestoreSince(generation, key.scope(), range);
    return out;
  }

  private ReadOnlyWindowStore<String, FlowStats> store(MetricsScope scope, TimeRange range) {
    return runner.store(scope, range.window());
  }
}
