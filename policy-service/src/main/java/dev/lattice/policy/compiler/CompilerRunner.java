package dev.lattice.policy.compiler;

import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.ServiceContext;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the compiler topology ({@link CompilerTopology}) as a {@link KafkaStreams} application with
 * {@code exactly_once_v2} (from {@link KafkaClientConfig#streams}) and the kit's dead-letter
 * deserialization handler. {@code PolicyService} starts it with {@link #start(ServiceContext)} and stops
 * it with {@link #stop(Vertx)}; tests and the local stack may use {@link #create} directly.
 *
 * <p>Config keys: {@code policy.compiler.enabled} (default true), {@code policy.compiler.application.id}
 * (default {@value #DEFAULT_APPLICATION_ID}; keep it stable: it names the group, stores and internal
 * topics), {@code policy.root.namespace} (else {@code policy.compiler.root.namespace}, default {@code lattice-system}), topic names
 * {@code policy.topics.resources}, {@code policy.topics.registry}, {@code policy.topics.config} (default
 * the catalog's).
 *
 * <p>Thread-safe. The creator closes it; {@link #close()} blocks up to 30 s, so on Vert.x call
 * {@link #stop(Vertx)} instead.
 */
public final class CompilerRunner implements AutoCloseable {

  /** Default Streams application id. */
  public static final String DEFAULT_APPLICATION_ID = "lattice-policy-compiler";

  private static final Logger LOG = LoggerFactory.getLogger(CompilerRunner.class);
  private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(30);

  private final KafkaStreams streams;
  private volatile Throwable failure;

  private CompilerRunner(KafkaStreams streams) {
    this.streams = streams;
  }

  /**
   * Builds (does not start) the compiler.
   *
   * @param streamsProperties Streams properties, normally {@link KafkaClientConfig#streams}
   */
  public static CompilerRunner create(CompilerTopics topics, CompilerOptions options,
      Properties streamsProperties) {
    KafkaStreams streams = new KafkaStreams(CompilerTopology.build(topics, options), streamsProperties);
    CompilerRunner runner = new CompilerRunner(streams);
    streams.setUncaughtExceptionHandler(e -> {
      // A processing exception is a compiler bug for a given input; replaying it would fail the same way.
      runner.failure = e;
      LOG.error("policy compiler stopped: {}", e.toString(), e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });
    return runner;
  }

  /**
   * Starts the compiler for a service: reads {@code policy.compiler.*}, counts the brokers (for the
   * internal topics' replication), starts Streams off the event loop, binds Streams metrics to the
   * service's meters and registers the readiness check {@code policy-compiler} (RUNNING). The future
   * holds the runner, or null when {@code policy.compiler.enabled=false}.
   */
  public static Future<CompilerRunner> start(ServiceContext context) {
    if (!context.config().getBoolean("policy.compiler.enabled", true)) {
      LOG.info("policy compiler disabled (policy.compiler.enabled=false)");
      return Future.succeededFuture(null);
    }
    KafkaClientConfig kafka = KafkaClientConfig.from(context.config(), "policy");
    String appId = context.config().get("policy.compiler.application.id", DEFAULT_APPLICATION_ID);
    CompilerOptions options = new CompilerOptions(MeshSettings.from(context.config()), ValidatedAdmission.INSTANCE);
    CompilerTopics standard = CompilerTopics.standard();
    CompilerTopics topics = CompilerTopics.named(
        context.config().get("policy.topics.resources", standard.resources().name()),
        context.config().get("policy.topics.registry", standard.registry().name()),
        context.config().get("policy.topics.config", standard.config().name()));
    return context.vertx().executeBlocking(() -> {
      int brokers;
      try (Admin admin = Admin.create(kafka.admin("compiler-admin"))) {
        brokers = admin.describeCluster().nodes().get().size();
      }
      CompilerRunner runner = create(topics, options, kafka.streams(appId, brokers));
      runner.bindMetrics(context.meters());
      runner.start();
      return runner;
    }).onSuccess(runner -> context.readiness().registerCondition("policy-compiler",
        runner::running, "policy compiler not running: " + runner.stateDescription()));
  }

  /** Starts Streams (returns at once; the application joins its group in the background). */
  public void start() {
    streams.start();
  }

  /** Binds the Kafka Streams client metrics to {@code meters}. */
  public void bindMetrics(MeterRegistry meters) {
    new KafkaStreamsMetrics(streams).bindTo(meters);
  }

  /** Whether Streams is RUNNING (all tasks assigned and restored). */
  public boolean running() {
    return streams.state() == KafkaStreams.State.RUNNING;
  }

  /** Streams state, plus the failure that stopped it, if any. */
  public String stateDescription() {
    return streams.state() + (failure == null ? "" : " (" + failure + ")");
  }

  /**
   * The compiler's current warnings (route conflicts, refused resources): resource key → text per
   * topic, from the {@value CompilerTopology#WARNINGS_STORE} store. Empty while the store is not
   * queryable (rebalancing). Thread-safe; reads local state only.
   */
  public Map<String, String> warnings() {
    Map<String, String> out = new TreeMap<>();
    try {
      ReadOnlyKeyValueStore<String, String> store = streams.store(StoreQueryParameters.fromNameAndType(
          CompilerTopology.WARNINGS_STORE, QueryableStoreTypes.keyValueStore()));
      try (var it = store.all()) {
        it.forEachRemaining(kv -> out.put(kv.key, kv.value));
      }
    } catch (org.apache.kafka.streams.errors.InvalidStateStoreException e) {
      LOG.debug("warnings store not queryable yet: {}", e.getMessage());
    }
    return out;
  }

  /** The underlying Streams client (for tests and diagnostics). */
  public KafkaStreams streams() {
    return streams;
  }

  /** Closes Streams on a worker thread. */
  public Future<Void> stop(Vertx vertx) {
    return vertx.executeBlocking(() -> {
      close();
      return null;
    });
  }

  /** Closes Streams, waiting up to 30 s. Blocking. */
  @Override
  public void close() {
    // Leave the group: otherwise a restarted compiler waits out the old member's session timeout
    // (~45 s) before its tasks are assigned again.
    streams.close(CloseOptions.timeout(CLOSE_TIMEOUT)
        .withGroupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP));
  }
}
