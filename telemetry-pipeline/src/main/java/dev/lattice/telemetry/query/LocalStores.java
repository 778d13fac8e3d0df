package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.FlowStats;
import dev.lattice.telemetry.aggregate.MetricsKey;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.aggregate.TelemetryRunner;
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
    try (KeyValueIterator<Windowed<String>, FlowStats> it = store(scope, range).fetchAll(
        Instant.ofEpochMilli(range.fromMillis()), Instant.ofEpochMilli(range.toMillis() - 1))) {
      it.forEachRemaining(kv -> out.computeIfAbsent(kv.key.key(), k -> FlowStats.empty()).merge(kv.value));
    } catch (InvalidStateStoreException e) {
      throw new QueryUnavailableException("stores not queryable (rebalancing or restoring): " + e.getMessage(), e);
    }
    return out;
  }

  /** The windows of one key in {@code range}, oldest first (empty when this instance has none). */
  public List<WindowPoint> series(MetricsKey key, TimeRange range) {
    List<WindowPoint> out = new ArrayList<>();
    try (WindowStoreIterator<FlowStats> it = store(key.scope(), range).fetch(key.text(),
        Instant.ofEpochMilli(range.fromMillis()), Instant.ofEpochMilli(range.toMillis() - 1))) {
      it.forEachRemaining(kv -> out.add(new WindowPoint(kv.key, kv.value)));
    } catch (InvalidStateStoreException e) {
      throw new QueryUnavailableException("stores not queryable (rebalancing or restoring): " + e.getMessage(), e);
    }
    return out;
  }

  private ReadOnlyWindowStore<String, FlowStats> store(MetricsScope scope, TimeRange range) {
    return runner.store(scope, range.window());
  }
}
