package dev.lattice.kit.service;

import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.topic.LatticeTopics;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs {@link LatticeService}s on one Vert.x instance, each behind its own HTTP server with
 * {@code /healthz}, {@code /readyz} and {@code /metrics}.
 *
 * <p>Per service {@code <name>}: the server binds {@code <name>.http.host} (default {@code 127.0.0.1})
 * and {@code <name>.http.port} (default {@link LatticeService#defaultHttpPort()}; 0 picks a free port,
 * reported by {@link RunningService#port()}). Each service runs in its own verticle, so its
 * {@code start}/{@code stop} are called on its own event-loop context. Until {@code start} completes the
 * built-in {@code started} readiness check fails.
 *
 * <p>Metrics: one process-wide Prometheus registry holds the Vert.x metrics (vertx-micrometer-metrics)
 * and the JVM binders; each service gets its own registry (common tag {@code service=<name>}) as
 * {@link ServiceContext#meters()}; a service's {@code /metrics} shows both.
 *
 * <p>Every router answers failures in JSON through {@link HttpFailureHandler} (default shape
 * {@link ErrorResponder#DEFAULT}).
 *
 * <p>Config keys: {@code shutdown.timeout} (default 10s) bounds {@link #stop()};
 * {@code readiness.check.timeout} (default 2s) bounds each readiness check of a probe.
 *
 * <p>Thread-safe. The creator owns the launcher and must {@link #stop()} or {@link #close()} it; that
 * stops the services, then their servers, then Vert.x.
 */
public final class ServiceLauncher implements AutoCloseable {

  /** The system property Avro 1.12 reads to decide which generated classes it may instantiate. */
  public static final String AVRO_TRUSTED_PACKAGES_PROPERTY = "org.apache.avro.SERIALIZABLE_PACKAGES";
  /** The packages every Lattice JVM trusts for Avro. */
  public static final String AVRO_TRUSTED_PACKAGES = "dev.lattice,java.lang,java.util,java.math";

  private static final Logger LOG = LoggerFactory.getLogger(ServiceLauncher.class);
  private static final AtomicInteger LAUNCHERS = new AtomicInteger();

  private final LatticeConfig config;
  private final Vertx vertx;
  private final PrometheusMeterRegistry processMeters;
  private final JvmGcMetrics gcMetrics;
  private final Duration shutdownTimeout;
  private final Duration checkTimeout;
  private final List<Deployed> deployed = new CopyOnWriteArrayList<>();
  private final AtomicBoolean stopping = new AtomicBoolean();
  private Future<Void> topicsLoaded;
  private final Promise<Void> stopped = Promise.promise();

  private ServiceLauncher(LatticeConfig config) {
    this.config = config;
    this.shutdownTimeout = config.getDuration("shutdown.timeout", Duration.ofSeconds(10));
    this.checkTimeout = config.getDuration("readiness.check.timeout", Duration.ofSeconds(2));
    this.processMeters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    new ClassLoaderMetrics().bindTo(processMeters);
    new JvmMemoryMetrics().bindTo(processMeters);
    this.gcMetrics = new JvmGcMetrics();
    gcMetrics.bindTo(processMeters);
    new JvmThreadMetrics().bindTo(processMeters);
    new ProcessorMetrics().bindTo(processMeters);
    new UptimeMetrics().bindTo(processMeters);
    this.vertx = Vertx.builder()
        // LOCAL (the server's bound address) tells apart the HTTP servers of services sharing this JVM.
        // Native transport (epoll) where available: the node agent needs it for peer credentials and would
        // otherwise start a second Vert.x of its own.
        // A registry name of its own: Vert.x keeps backends per name JVM-wide, so a second launcher (the local stack
        // runs three) would otherwise report its Vert.x meters into the first one's registry (and warn about it).
        .with(new VertxOptions().setPreferNativeTransport(true).setMetricsOptions(
            new MicrometerMetricsOptions().setEnabled(true).addLabels(Label.LOCAL)
                .setRegistryName("lattice-launcher-" + LAUNCHERS.incrementAndGet())))
        .withMetrics(new MicrometerMetricsFactory(processMeters))
        .build();
  }

  /**
   * Creates a launcher with its own Vert.x instance (Vert.x metrics enabled). Also sets the Avro
   * trusted-packages system property when it is unset.
   *
   * @throws ConfigException if {@code shutdown.timeout} or {@code readiness.check.timeout} is malformed
   */
  public static ServiceLauncher create(LatticeConfig config) {
    ensureAvroTrustedPackages();
    return new ServiceLauncher(config);
  }

  /** Sets {@value #AVRO_TRUSTED_PACKAGES_PROPERTY} to {@value #AVRO_TRUSTED_PACKAGES} unless already set. */
  public static void ensureAvroTrustedPackages() {
    if (System.getProperty(AVRO_TRUSTED_PACKAGES_PROPERTY) == null) {
      System.setProperty(AVRO_TRUSTED_PACKAGES_PROPERTY, AVRO_TRUSTED_PACKAGES);
    }
  }

  /** The Vert.x instance the services run on; closed by {@link #stop()}. */
  public Vertx vertx() {
    return vertx;
  }

  /** The process-wide registry (Vert.x and JVM meters). */
  public PrometheusMeterRegistry processMeters() {
    return processMeters;
  }

  /** The services started so far, in start order. */
  public List<RunningService> running() {
    return deployed.stream().map(Deployed::running).toList();
  }

  /** A future completed once {@link #stop()} has finished. */
  public Future<Void> whenStopped() {
    return stopped.future();
  }

  /**
   * Starts the services one after another, in list order.
   *
   * @return the running services; failed with the first failure (services started before it stay
   *     running until {@link #stop()})
   */
  public Future<List<RunningService>> start(List<? extends LatticeService> services) {
    Future<List<RunningService>> chain = Future.succeededFuture(new ArrayList<>());
    for (LatticeService service : services) {
      chain = chain.compose(list -> start(service).map(r -> {
        list.add(r);
        return list;
      }));
    }
    return chain.map(List::copyOf);
  }

  /** Starts one service: binds its HTTP server, then calls {@link LatticeService#start}. */
  public Future<RunningService> start(LatticeService service) {
    if (stopping.get()) {
      return Future.failedFuture(new IllegalStateException("launcher is stopping"));
    }
    String name = service.name();
    String host;
    int port;
    try {
      host = config.get(name + ".http.host", "127.0.0.1");
      port = config.getInt(name + ".http.port", service.defaultHttpPort());
    } catch (ConfigException e) {
      return Future.failedFuture(e);
    }
    if (port < 0 || port > 65535) {
      return Future.failedFuture(new ConfigException(
          name + ".http.port: " + port + " (expected: 0..65535, 0 = any free port)"));
    }
    ServiceVerticle verticle = new ServiceVerticle(service, host, port);
    return topicsLoaded().compose(v -> vertx.deployVerticle(verticle))
        .map(id -> {
          RunningService running = new RunningService(name, host, verticle.server.actualPort(),
              verticle.readiness);
          deployed.add(new Deployed(id, service, running));
          LOG.atInfo().addKeyValue("service", name).addKeyValue("url", running.baseUrl())
              .log("service started");
          return running;
        })
        .recover(err -> Future.failedFuture(new IllegalStateException(
            "service " + name + " failed to start on " + host + ":" + port + ": " + err.getMessage(), err)));
  }

  /**
   * The topic catalog parses every bundled Avro schema in {@code LatticeTopics}' static initialiser
   * (seconds on a busy machine); the first service touching it in {@code start} would do that on its
   * event loop. Done once, on a worker, before the first service starts.
   */
  private synchronized Future<Void> topicsLoaded() {
    if (topicsLoaded == null) {
      topicsLoaded = vertx.executeBlocking(() -> {
        LatticeTopics.RESOURCES.name();
        return null;
      }, false);
    }
    return topicsLoaded;
  }

  /**
   * Stops every service (reverse start order, each through its verticle: {@link LatticeService#stop},
   * then its HTTP server), then Vert.x. Bounded by {@code shutdown.timeout}: whatever has not stopped
   * by then is abandoned with a warning. Idempotent.
   */
  public Future<Void> stop() {
    if (!stopping.compareAndSet(false, true)) {
      return stopped.future();
    }
    long began = System.nanoTime();
    long budgetMs = shutdownTimeout.toMillis();
    // Services get most of the budget; Vert.x itself closes quickly once they are gone.
    long servicesBudgetMs = Math.max(1, budgetMs * 7 / 10);
    List<Deployed> reversed = new ArrayList<>(deployed);
    java.util.Collections.reverse(reversed);
    Future<Void> chain = Future.succeededFuture();
    for (Deployed d : reversed) {
      chain = chain.eventually(() -> vertx.undeploy(d.deploymentId())
          .onFailure(err -> LOG.atWarn().addKeyValue("service", d.running().name())
              .log("service stop failed: {}", err.getMessage())));
    }
    Promise<Void> servicesDone = Promise.promise();
    long timer = vertx.setTimer(servicesBudgetMs, id -> {
      if (!servicesDone.future().isComplete()) {
        LOG.warn("services did not stop within {} ms; closing Vert.x anyway", servicesBudgetMs);
        servicesDone.tryComplete();
      }
    });
    chain.onComplete(ar -> {
      vertx.cancelTimer(timer);
      servicesDone.tryComplete();
    });
    servicesDone.future()
        .eventually(vertx::close)
        .onComplete(ar -> {
          gcMetrics.close();
          processMeters.close();
          deployed.clear();
          LOG.atInfo().addKeyValue("elapsed_ms", TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - began))
              .log("launcher stopped");
          stopped.tryComplete();
        });
    return stopped.future();
  }

  /**
   * Blocking {@link #stop()} for shutdown hooks and tests: waits at most {@code shutdown.timeout} plus
   * a second. Must not be called on a Vert.x thread.
   */
  @Override
  public void close() {
    if (Vertx.currentContext() != null) {
      throw new IllegalStateException("ServiceLauncher.close() blocks; call stop() on a Vert.x thread");
    }
    try {
      stop().toCompletionStage().toCompletableFuture()
          .get(shutdownTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      LOG.warn("launcher did not stop cleanly within {}: {}", shutdownTimeout, e.toString());
    }
  }

  private record Deployed(String deploymentId, LatticeService service, RunningService running) {}

  /** One service's verticle: owns its router, HTTP server, readiness and meter registry. */
  private final class ServiceVerticle extends VerticleBase {
    private final LatticeService service;
    private final String host;
    private final int port;
    private final Readiness readiness = new Readiness();
    private final PrometheusMeterRegistry meters = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile boolean started;
    private HttpServer server;

    ServiceVerticle(LatticeService service, String host, int port) {
      this.service = service;
      this.host = host;
      this.port = port;
      meters.config().commonTags("service", service.name());
    }

    @Override
    public Future<?> start() {
      Router router = Router.router(vertx);
      // Failures (oversized or undecodable bodies, unknown routes, handlers that threw) answer JSON, not
      // Vert.x's plain-text defaults; a service may add its own shape on its paths.
      HttpFailureHandler.installDefault(router, ErrorResponder.DEFAULT);
      readiness.registerCondition("started", () -> started, "service is starting");
      new HealthEndpoints(service.name(), readiness, vertx, checkTimeout, List.of(processMeters, meters))
          .mount(router);
      return vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port))
          .requestHandler(router)
          .listen()
          .compose(bound -> {
            server = bound;
            return startService(new ServiceContext(vertx, config, router, readiness, meters, host,
                bound.actualPort()));
          })
          .onSuccess(v -> started = true);
    }

    private Future<Void> startService(ServiceContext context) {
      try {
        Future<Void> f = service.start(context);
        return f == null ? Future.failedFuture("start() returned null") : f;
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }

    @Override
    public Future<?> stop() {
      started = false;
      Future<Void> stoppedService;
      try {
        Future<Void> f = service.stop();
        stoppedService = f == null ? Future.succeededFuture() : f;
      } catch (RuntimeException e) {
        stoppedService = Future.failedFuture(e);
      }
      return stoppedService
          .onFailure(err -> LOG.atWarn().addKeyValue("service", service.name())
              .log("stop failed: {}", err.getMessage()))
          .eventually(() -> server == null ? Future.succeededFuture() : server.close())
          .onComplete(ar -> meters.close());
    }
  }
}
