package dev.lattice.kit.service;

import io.vertx.core.Context;
import io.vertx.core.Future;
import dev.lattice.kit.kafka.KafkaClientConfig;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeClusterResult;

/**
 * A readiness check that passes while the Kafka cluster answers {@code describeCluster}. Register it
 * with {@code readiness.register("kafka", check)}.
 *
 * <p>The probe is asynchronous (the Admin client's own threads; the result hops back to the Vert.x
 * context), bounded by {@code timeout}, and its outcome is cached for {@code cacheFor} so
 * frequent probes cost one request; concurrent probes share one request. The Admin client is created
 * lazily on a worker thread. Thread-safe. The creator closes it ({@link #close()} releases the Admin
 * client without blocking the caller for long).
 */
public final class KafkaReadinessCheck implements Supplier<Future<String>>, AutoCloseable {

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

  /** Runs (or reuses) a probe: succeeds with {@code "cluster <id>, <n> broker(s)"}, fails with the reason. */
  @Override
  public synchronized Future<String> get() {
    if (closed) {
      return Future.failedFuture("Kafka readiness check closed");
    }
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
    });
    return probe;
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

  /** Closes the Admin client in the background (bounded to one second); never blocks. Idempotent. */
  @Override
  public void close() {
    Admin toClose;
    synchronized (this) {
      closed = true;
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
