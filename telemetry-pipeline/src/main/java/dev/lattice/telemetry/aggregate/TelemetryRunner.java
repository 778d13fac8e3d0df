package dev.lattice.telemetry.aggregate;

import java.time.Duration;
import java.util.Properties;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyWindowStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link TelemetryTopology} as a {@link KafkaStreams} application ({@code exactly_once_v2} and the
 * dead-letter deserialization handler come from {@code KafkaClientConfig.streams}). Several runners with
 * the same application id share the partitions; {@link #store} reads this instance's share.
 *
 * <p>Thread-safe. The creator closes it; {@link #close()} blocks up to 30 s.
 */
public final class TelemetryRunner implements AutoCloseable {

  /** Default Streams application id (names the group, stores and internal topics: keep it stable). */
  public static final String DEFAULT_APPLICATION_ID = "lattice-telemetry";

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryRunner.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaStreams streams;
  private final TelemetryOptions options;
  private final RestoringStores restoring = new RestoringStores();
  private volatile Throwable failure;

  private TelemetryRunner(KafkaStreams streams, TelemetryOptions options) {
    this.streams = streams;
    this.options = options;
  }

  /** Builds (does not start) the pipeline. */
  public static TelemetryRunner create(TelemetryTopics topics, TelemetryOptions options, Properties streamsProperties) {
    KafkaStreams streams = new KafkaStreams(TelemetryTopology.build(topics, options), streamsProperties);
    TelemetryRunner runner = new TelemetryRunner(streams, options);
    streams.setGlobalStateRestoreListener(runner.restoring);
    streams.setUncaughtExceptionHandler(e -> {
      runner.failure = e;
      LOG.error("telemetry pipeline thread failed, replacing it: {}", e.toString(), e);
      // Aggregation is a pure fold: a failed thread (e.g. a fenced producer) is replaced and resumes
      // from the last committed transaction.
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    return runner;
  }

  /** Starts Streams (returns at once). */
  public void start() {
    streams.start();
  }

  /** The windowing options. */
  public TelemetryOptions options() {
    return options;
  }

  /** Whether Streams is RUNNING. */
  public boolean running() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  /** Streams state plus the last thread failure, if any. */
  public String stateDescription() {
    return streams.state() + (failure == null ? "" : " (last failure: " + failure + ")");
  }

  /**
   * This instance's part of a window store (active tasks only).
   *
   * @throws org.apache.kafka.streams.errors.InvalidStateStoreException while rebalancing or while a partition
   *     of the store is restoring (Streams itself would let a restoring task's partial store be read)
   */
  public ReadOnlyWindowStore<String, FlowStats> store(MetricsScope scope, WindowSize window) {
    String name = TelemetryTopology.storeName(scope, window);
    if (restoring.restoring(name)) {
      throw new InvalidStateStoreException("store " + name + " has a partition restoring from its changelog");
    }
    return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.windowStore()));
  }

  /** Which stores are restoring (a reader checks it again after reading, see {@link RestoringStores}). */
  public RestoringStores restoring() {
    return restoring;
  }

  /** The Streams client (metadata for remote lookups, metrics, tests). */
  public KafkaStreams streams() {
    return streams;
  }

  /** Closes Streams and leaves the group (so the others take over at once), waiting up to 30 s. */
  @Override
  public void close() {
    streams.close(CloseOptions.timeout(CLOSE_TIMEOUT)
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
  }
}
