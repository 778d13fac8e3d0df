package dev.lattice.kit.service;

import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaAvailability;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.kafka.KafkaUnavailableException;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A readiness check that passes while the Kafka cluster answers {@code describeCluster}. Register it
 * with {@code readiness.register("kafka", check)}.
 *
 * <p>The probe is asynchronous (the Admin client's own threads; the result hops back to the Vert.x
 * context), bounded by {@code timeout}, and its outcome is cached for {@code cacheFor} so
 * frequent probes cost one request; concurrent probes share one request. The Admin client is created
 * lazily on a worker thread.
 *
 * <p>Monitoring ({@link #startMonitoring}, what {@link #monitor} does): a Vert.x timer probes every
 * interval in the background and the check answers from the last outcome, so {@code /readyz} never
 * waits for Kafka. It is also the {@link KafkaAvailability} of the service's request publishers: while
 * the broker is known to be away, writes fail at once. A failed send triggers a probe right away. Each
 * outage logs one WARN when it starts and one, with its duration, when it ends — never one per
 * attempt (Kafka's own per-connection warnings are off in the kit's logback config).
 *
 * <p>Thread-safe. The creator closes it ({@link #close()} stops the timer and releases the Admin client
 * without blocking the caller for long).
 */
public final class KafkaReadinessCheck implements Supplier<Future<String>>, KafkaAvailability, AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(KafkaReadinessCheck.class);
  /** Default probe interval of {@link #monitor} ({@code kafka.readiness.interval}). */
  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);
  /** Default bound of one probe of {@link #monitor} ({@code kafka.readiness.timeout}). */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(1500);

  /** What the last probe saw: up or not, its detail, since when (the first probe of this state). */
  private record State(boolean up, String detail, Instant since) {}

  private final Vertx vertx;
  private final Map<String, Object> adminConfig;
  private final Duration timeout;
  private final Duration cacheFor;
  private final Clock clock;

  private Admin admin;
  private Future<Admin> adminFuture;
  private Future<String> inFlight;
  private Future<String> lastResult;
  private Instant lastAt = Instant.MIN;
  private boolean closed;
  private long timer = -1;
  private Duration interval = DEFAULT_INTERVAL;
  private volatile State state;

  /**
   * @param vertx used for the worker thread that creates the Admin client
   * @param bootstrapServers {@code host:port,...}
   * @param timeout bound of one probe (also the Admin request and API timeouts)
   * @param cacheFor how long a result is reused
   * @param clock time source for the cache
   */
  public KafkaReadinessCheck(Vertx vertx, String bootstrapServers, Duration timeout, Duration cacheFor,
      Clock clock) {
    this(vertx, Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers), timeout, cacheFor, clock);
  }

  /**
   * @param adminConfig Admin client properties (must hold {@code bootstrap.servers}; security settings
   *     go here); timeouts and the client id are set by this class
   */
  public KafkaReadinessCheck(Vertx vertx, Map<String, Object> adminConfig, Duration timeout,
      Duration cacheFor, Clock clock) {
    if (!adminConfig.containsKey(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG)) {
      throw new IllegalArgumentException("adminConfig: no bootstrap.servers");
    }
    this.vertx = vertx;
    this.adminConfig = Map.copyOf(adminConfig);
    this.timeout = timeout;
    this.cacheFor = cacheFor;
    this.clock = clock;
  }

  /** A check against {@code bootstrapServers} with a 2 s timeout and a 1 s cache. */
  public static KafkaReadinessCheck of(Vertx vertx, String bootstrapServers) {
    return new KafkaReadinessCheck(vertx, bootstrapServers, Duration.ofSeconds(2), Duration.ofSeconds(1),
        Clock.systemUTC());
  }

  /**
   * A check with the service's own Admin settings ({@code kafka.admin.*} overrides, security), a 2 s
   * timeout and a 1 s cache.
   */
  public static KafkaReadinessCheck of(Vertx vertx, KafkaClientConfig kafka) {
    return new KafkaReadinessCheck(vertx, kafka.admin("readiness"), Duration.ofSeconds(2), Duration.ofSeconds(1),
        Clock.systemUTC());
  }

  /**
   * A monitoring check with the service's Admin settings: probes every {@code kafka.readiness.interval}
   * (default 1 s), each bounded by {@code kafka.readiness.timeout} (default 1.5 s). Call on the service's
   * Vert.x context (the timer runs there); register it as {@code "kafka"} and hand it to
   * {@code EventPublisher.forRequests}.
   */
  public static KafkaReadinessCheck monitor(Vertx vertx, LatticeConfig config, KafkaClientConfig kafka) {
    Duration timeout = config.getDuration("kafka.readiness.timeout", DEFAULT_TIMEOUT);
    Duration every = config.getDuration("kafka.readiness.interval", DEFAULT_INTERVAL);
    KafkaReadinessCheck check = new KafkaReadinessCheck(vertx, kafka.admin("readiness"), timeout,
        Duration.ZERO, Clock.systemUTC());
    return check.startMonitoring(every);
  }

  /**
   * Probes now and then every {@code every} on a Vert.x timer; from now on {@link #get()} answers
   * from the last outcome (and probes only until the first one is in). Idempotent.
   */
  public synchronized KafkaReadinessCheck startMonitoring(Duration every) {
    if (every.isNegative() || every.isZero()) {
      throw new IllegalArgumentException("kafka.readiness.interval: " + every + " (expected: > 0)");
    }
    if (timer >= 0 || closed) {
      return this;
    }
    interval = every;
    timer = vertx.setPeriodic(1, every.toMillis(), id -> probe());
    return this;
  }

  /**
   * Monitoring and a probe is in: succeeds with {@code "cluster <id>, <n> broker(s)"} or fails with the
   * reason and since when, at once. Otherwise runs (or reuses) a probe.
   */
  @Override
  public Future<String> get() {
    State seen = state;
    synchronized (this) {
      if (closed) {
        return Future.failedFuture("Kafka readiness check closed");
      }
      if (timer < 0 || seen == null) {
        return cachedProbe();
      }
    }
    return seen.up() ? Future.succeededFuture(seen.detail())
        : Future.failedFuture(seen.detail() + " (since " + seen.since() + ")");
  }

  /** Whether the last probe reached the cluster; empty before the first probe completed. */
  public Optional<Boolean> up() {
    State seen = state;
    return seen == null ? Optional.empty() : Optional.of(seen.up());
  }

  @Override
  public Optional<KafkaUnavailableException> unavailable() {
    State seen = state;
    if (seen == null || seen.up()) {
      return Optional.empty();
    }
    return Optional.of(new KafkaUnavailableException("not written: " + seen.detail() + " (since " + seen.since()
        + "; retry when the broker is reachable)", retryAfter(), false, null));
  }

  @Override
  public void sendFailed(Throwable cause) {
    boolean monitoring;
    synchronized (this) {
      monitoring = timer >= 0 && !closed;
    }
    if (monitoring) {
      vertx.runOnContext(v -> probe());
    }
  }

  @Override
  public Duration retryAfter() {
    return interval;
  }

  private synchronized Future<String> cachedProbe() {
    if (inFlight != null) {
      return inFlight;
    }
    Instant now = clock.instant();
    if (lastResult != null && now.isBefore(lastAt.plus(cacheFor))) {
      return lastResult;
    }
    Future<String> probe = admin().compose(this::describe);
    inFlight = probe;
    probe.onComplete(ar -> {
      synchronized (this) {
        inFlight = null;
        lastResult = probe;
        lastAt = clock.instant();
      }
      record(ar.succeeded(), ar.succeeded() ? ar.result() : String.valueOf(ar.cause().getMessage()));
    });
    return probe;
  }

  /** One background probe (skipped while one is in flight); always asks the cluster. */
  private synchronized void probe() {
    if (closed || inFlight != null) {
      return;
    }
    lastResult = null;
    cachedProbe();
  }

  /** Updates the state; logs the start and the end of an outage. */
  private void record(boolean up, String detail) {
    Instant now = clock.instant();
    State before;
    synchronized (this) {
      if (closed) return;
      before = state;
      if (before != null && before.up() == up) {
        state = new State(up, detail, before.since());
        return;
      }
      state = new State(up, detail, now);
    }
    Object bootstrap = adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG);
    if (!up) {
      LOG.atWarn().addKeyValue("kafka", bootstrap)
          .log("Kafka unreachable: {}; writes answer 503 until it returns, reads serve the last known state",
              detail);
    } else if (before != null) {
      Duration outage = Duration.between(before.since(), now);
      LOG.atWarn().addKeyValue("kafka", bootstrap).addKeyValue("outage_ms", outage.toMillis())
          .log("Kafka reachable again after {} unreachable ({})", outage, detail);
    }
  }

  private Future<String> describe(Admin client) {
    Context context = vertx.getOrCreateContext();
    DescribeClusterResult result =
        client.describeCluster(new DescribeClusterOptions().timeoutMs((int) timeout.toMillis()));
    return Future.fromCompletionStage(result.clusterId().toCompletionStage(), context)
        .compose(id -> Future.fromCompletionStage(result.nodes().toCompletionStage(), context)
            .map(nodes -> "cluster " + id + ", " + nodes.size() + " broker(s)"))
        .recover(err -> Future.failedFuture(
            "Kafka " + adminConfig.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG) + " unreachable: "
                + rootMessage(err)));
  }

  private synchronized Future<Admin> admin() {
    if (adminFuture == null) {
      int ms = (int) timeout.toMillis();
      Properties props = new Properties();
      props.putAll(adminConfig);
      props.putIfAbsent(AdminClientConfig.CLIENT_ID_CONFIG, "lattice-readiness");
      props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, ms);
      props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, ms);
      props.put(AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
      adminFuture = vertx.executeBlocking(() -> {
        Admin created = Admin.create(props);
        synchronized (this) {
          if (closed) {
            created.close(Duration.ZERO);
            throw new IllegalStateException("Kafka readiness check closed");
          }
          admin = created;
        }
        return created;
      });
      adminFuture.onFailure(err -> {
        synchronized (this) {
          adminFuture = null; // retry creation on the next probe
        }
      });
    }
    return adminFuture;
  }

  private static String rootMessage(Throwable err) {
    Throwable t = err;
    while (t.getCause() != null && t.getCause() != t) t = t.getCause();
    String msg = t.getMessage();
    return msg == null ? t.getClass().getSimpleName() : msg;
  }

  /**
   * Stops monitoring and closes the Admin client in the background (bounded to one second); never
   * blocks. Idempotent.
   */
  @Override
  public void close() {
    Admin toClose;
    synchronized (this) {
      closed = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      toClose = admin;
      admin = null;
    }
    if (toClose != null) {
      // Admin.close waits for its network thread; keep that off the caller (often an event loop).
      Thread closer = new Thread(() -> toClose.close(Duration.ofSeconds(1)), "lattice-readiness-close");
      closer.setDaemon(true);
      closer.start();
    }
  }
}
