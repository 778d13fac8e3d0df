package dev.lattice.local;

import dev.lattice.dataplane.NodeProxy;
import dev.lattice.dataplane.config.ConfigFileException;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.telemetry.AccessLog;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.samples.SampleApp;
import dev.lattice.samples.SampleWorkload;
import dev.lattice.samples.TrafficGenerator;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The meshed demo of {@code ./lattice up --samples}: the node proxy of node {@code local} serving the samples'
 * compiled config ({@code docs/examples/samples-proxy.yaml}: one outbound listener per service, ratings split
 * 50/50 between v1 and v2), the four sample workloads calling each other through it, and a steady traffic
 * generator against the frontend's listener, so every hop is a real proxied request: Istio metrics on the
 * proxy's admin API, a JSON access-log line in {@code <data-dir>/proxy/access.log}, and a {@code FlowRecord} on
 * {@code lattice.flows.v1} of the stack's Kafka.
 *
 * <p>Fixed ports: admin 127.0.0.1:15000, listeners 15011 (frontend) 15012 (catalog) 15013 (ratings), workloads
 * on 127.0.0.11–14:9080. With ephemeral ports every one of them is free-picked: the proxy binds first, the
 * workloads then start behind its listeners, and the proxy is re-pointed at the workloads' bound ports.
 *
 * <p>Traffic runs in bounded rounds ({@link TrafficGenerator}: count, deadline, outstanding requests) one after
 * the other until {@link #close}. Runs on a Vert.x of its own (two event loops). {@link #start} and {@link #close}
 * block: call them from the stack's thread, never an event loop. The stack closes it.
 */
final class LocalMesh implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LocalMesh.class);
  /** The samples' compiled config, copied from docs/examples into this module's resources by the build. */
  static final String CONFIG_RESOURCE = "/dev/lattice/local/samples-proxy.yaml";
  static final int ADMIN_PORT = 15000;
  static final int SAMPLE_PORT = 9080;
  static final String FRONTEND_LISTENER = "outbound|9080|frontend.shop";
  static final String CATALOG_LISTENER = "outbound|9080|catalog.shop";
  static final String RATINGS_LISTENER = "outbound|9080|ratings.shop";
  /** Requests per traffic round (then the next round starts). */
  private static final long ROUND_REQUESTS = 600;

  private final Vertx vertx;
  private final NodeProxy proxy;
  private final SampleApp app;
  private final int rate;
  private final PrintStream out;
  private final io.vertx.core.Promise<Void> stopTraffic = io.vertx.core.Promise.promise();
  private volatile Future<TrafficGenerator.Report> round = Future.succeededFuture();
  private volatile boolean closed;
  private long rounds;

  private LocalMesh(Vertx vertx, NodeProxy proxy, SampleApp app, int rate, PrintStream out) {
    this.vertx = vertx;
    this.proxy = proxy;
    this.app = app;
    this.rate = rate;
    this.out = out;
  }

  /**
   * How to run it.
   *
   * @param kafka the stack's Kafka (flow records)
   * @param adminToken the stack's admin credential (the proxy's admin writes need it)
   * @param dataDir the stack's data dir (the access log goes to {@code proxy/access.log} in it)
   * @param ephemeralPorts free-picked ports instead of the fixed ones
   * @param ratePerSecond requests per second the generator sends to the frontend (0 = none)
   */
  record Settings(KafkaClientConfig kafka, AdminTokenFile adminToken, Path dataDir, boolean ephemeralPorts, int ratePerSecond) {
    Settings {
      if (ratePerSecond < 0 || ratePerSecond > 1_000) {
        throw new IllegalArgumentException("local.samples.rate: " + ratePerSecond + " (expected: 0..1000 requests per second)");
      }
    }
  }

  /** Starts the proxy, the workloads behind it and the traffic; on failure whatever started is closed again. */
  static LocalMesh start(Settings settings, PrintStream out) throws Exception {
    Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
    NodeProxy proxy = null;
    try {
      ProxyConfig config = withPorts(samplesConfig(), settings.ephemeralPorts() ? 0 : -1, Map.of());
      NodeProxy.Options options = NodeProxy.Options.admin(settings.ephemeralPorts() ? 0 : ADMIN_PORT, settings.adminToken())
          .withKafka(settings.kafka())
          .withAccessLog(AccessLog.toFile(settings.dataDir().resolve("proxy").resolve("access.log")));
      try {
        proxy = NodeProxy.start(vertx, config, options).await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("node proxy: " + e.getMessage()
            + (settings.ephemeralPorts() ? "" : " (is another 'lattice up --samples' or 'lattice proxy' running?)"), e);
      }
      InetSocketAddress catalog = proxy.server().address(CATALOG_LISTENER);
      InetSocketAddress ratings = proxy.server().address(RATINGS_LISTENER);
      List<SampleWorkload.Spec> specs = SampleApp.specs(settings.ephemeralPorts() ? 0 : SAMPLE_PORT,
          hostPort(catalog), hostPort(ratings));
      SampleApp app;
      try {
        app = SampleApp.start(vertx, specs).await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("samples: " + e.getMessage(), e);
      }
      if (settings.ephemeralPorts()) {
        // the workloads' free-picked ports, by address: the clusters' endpoints point there now
        Map<String, Integer> bound = new HashMap<>();
        app.workloads().forEach(w -> bound.put(w.spec().host(), w.port()));
        ProxyConfig repointed = withPorts(proxy.server().config(), 0, bound);
        try {
          proxy.server().apply(repointed).await(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          app.close().await(10, TimeUnit.SECONDS);
          throw new IllegalStateException("node proxy: re-pointing at the samples failed: " + e.getMessage(), e);
        }
      }
      LocalMesh mesh = new LocalMesh(vertx, proxy, app, settings.ratePerSecond(), out);
      mesh.nextRound();
      return mesh;
    } catch (Exception | Error e) {
      if (proxy != null) {
        try {
          proxy.close().await(15, TimeUnit.SECONDS);
        } catch (Exception ignored) {
          // failing anyway
        }
      }
      vertx.close();
      throw e;
    }
  }

  /** The samples' compiled config from the classpath. */
  static ProxyConfig samplesConfig() throws IOException {
    try (InputStream in = LocalMesh.class.getResourceAsStream(CONFIG_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException(CONFIG_RESOURCE + " is not on the classpath (rebuild services/local)");
      }
      return ProxyConfigFile.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
    } catch (ConfigFileException e) {
      throw new IllegalStateException(CONFIG_RESOURCE + ": " + e.getMessage(), e);
    }
  }

  /**
   * {@code config} with every listener on {@code listenerPort} (-1 keeps the file's) and every cluster endpoint
   * whose address is in {@code endpointPorts} on that port.
   */
  static ProxyConfig withPorts(ProxyConfig config, int listenerPort, Map<String, Integer> endpointPorts) {
    List<ListenerConfig> listeners = new ArrayList<>();
    for (ListenerConfig l : config.listeners().values()) {
      listeners.add(listenerPort < 0 ? l : ListenerConfig.newBuilder(l).setPort(listenerPort).build());
    }
    List<ClusterConfig> clusters = new ArrayList<>();
    for (ClusterConfig c : config.clusters().values()) {
      List<ClusterEndpoint> endpoints = new ArrayList<>();
      for (ClusterEndpoint e : c.getEndpoints()) {
        Integer port = endpointPorts.get(e.getAddress());
        endpoints.add(port == null ? e : ClusterEndpoint.newBuilder(e).setPort(port).build());
      }
      clusters.add(ClusterConfig.newBuilder(c).setEndpoints(endpoints).build());
    }
    String version = endpointPorts.isEmpty() ? config.version() : config.version() + "+local";
    return ProxyConfig.of(version, config.settings(), listeners, List.copyOf(config.routes().values()), clusters,
        List.copyOf(config.authorizations().values()), List.copyOf(config.peerAuthentications().values()));
  }

  private static String[] hostPort(InetSocketAddress a) {
    return new String[] {a.getAddress().getHostAddress(), Integer.toString(a.getPort())};
  }

  private void nextRound() {
    if (closed || rate == 0) {
      return;
    }
    InetSocketAddress frontend = proxy.server().address(FRONTEND_LISTENER);
    long seconds = ROUND_REQUESTS / rate;
    TrafficGenerator.Plan plan = new TrafficGenerator.Plan(frontend.getAddress().getHostAddress(), frontend.getPort(),
        "frontend.shop:9080", "/", ROUND_REQUESTS, rate, 16, Duration.ofSeconds(seconds * 2 + 10));
    round = TrafficGenerator.run(vertx, plan, stopTraffic.future()).onComplete(ar -> {
      if (closed) {
        return;
      }
      rounds++;
      if (ar.succeeded()) {
        TrafficGenerator.Report r = ar.result();
        out.println("samples: traffic round " + rounds + ": " + r.sent() + " sent, by status " + r.byStatus()
            + (r.failures().isEmpty() ? "" : ", failures " + r.failures()) + (r.skipped() == 0 ? "" : ", skipped " + r.skipped()));
      } else {
        LOG.warn("samples: traffic round {} failed: {}", rounds, ar.cause().toString());
      }
      nextRound();
    });
  }

  /** The proxy's admin API ({@code /stats/prometheus}, {@code /config_dump}, …). */
  URI adminUrl() {
    return URI.create("http://127.0.0.1:" + proxy.admin().port());
  }

  /** Where the frontend's listener is (what a user curls). */
  InetSocketAddress frontend() {
    return proxy.server().address(FRONTEND_LISTENER);
  }

  NodeProxy proxy() {
    return proxy;
  }

  /** Stops the traffic, the workloads, then the proxy (flushing its flow records), within about 20 s. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      stopTraffic.tryComplete();
      // the generator's last requests finish (each is bounded by a 5 s idle timeout) before the workloads go
      round.transform(x -> app.close()).eventually(proxy::close).await(20, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("samples: stopping took too long: {}", e.toString());
    }
    try {
      vertx.close().await(5, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.warn("samples: closing their Vert.x took too long: {}", e.toString());
    }
  }
}
