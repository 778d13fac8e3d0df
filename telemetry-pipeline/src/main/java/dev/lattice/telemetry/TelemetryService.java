package dev.lattice.telemetry;

import dev.lattice.events.FlowRecord;
import dev.lattice.kit.config.ConfigKeys;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.service.ServiceMain;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.telemetry.aggregate.TelemetryOptions;
import dev.lattice.telemetry.aggregate.TelemetryRunner;
import dev.lattice.telemetry.aggregate.TelemetryTopics;
import dev.lattice.telemetry.aggregate.WindowSize;
import dev.lattice.telemetry.dashboard.Dashboard;
import dev.lattice.telemetry.live.FlowStreamHub;
import dev.lattice.telemetry.live.FlowTail;
import dev.lattice.telemetry.metrics.MeshMetrics;
import dev.lattice.telemetry.metrics.MetricsFeed;
import dev.lattice.telemetry.query.DistributedQueries;
import dev.lattice.telemetry.query.TelemetryApi;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.state.HostInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The telemetry pipeline as a Lattice service (HTTP port 7100): the aggregation topology
 * ({@link TelemetryRunner}, Kafka Streams, exactly-once) from {@code lattice.flows.v1} to
 * {@code lattice.metrics.v1}, the query API over every instance ({@link TelemetryApi}), and the live flow
 * view ({@link FlowStreamHub} fed by a {@link FlowTail}). Several instances with the same application id
 * share the work; each answers every query.
 *
 * <p>Ready once Streams is RUNNING (its tasks assigned and restored) and the flow tail has its
 * partitions. Config keys: see {@link #configKeys()} and docs/telemetry.md.
 */
public final class TelemetryService implements LatticeService {

  private static final Logger LOG = LoggerFactory.getLogger(TelemetryService.class);

  private final Clock clock;
  private Vertx vertx;
  private Admin admin;
  private TelemetryRunner runner;
  private FlowTail tail;
  private FlowStreamHub hub;
  private WebClient client;
  private MeshMetrics meshMetrics;
  private MetricsFeed metricsFeed;
  private Dashboard dashboard;

  /** Where the dashboard links denials to unless {@code telemetry.dashboard.policy-url} says otherwise. */
  public static final String DEFAULT_POLICY_URL = "http://127.0.0.1:7080";

  public TelemetryService() {
    this(Clock.systemUTC());
  }

  /** @param clock "now" of the query API's default ranges */
  public TelemetryService(Clock clock) {
    this.clock = clock;
  }

  public static void main(String[] args) {
    ServiceMain.run(args, new TelemetryService());
  }

  @Override
  public String name() {
    return "telemetry";
  }

  @Override
  public int defaultHttpPort() {
    return 7100;
  }

  @Override
  public ConfigKeys configKeys() {
    return ConfigKeys.of("telemetry.application.id", "telemetry.topics.flows", "telemetry.topics.metrics",
        "telemetry.windows.grace", "telemetry.windows.retention", "telemetry.advertised.host",
        "telemetry.flows.recent", "telemetry.flows.client-buffer", "telemetry.flows.max-clients",
        "telemetry.flows.keep-alive", "telemetry.istio-metrics.max-label-sets", "telemetry.dashboard.policy-url");
  }

  /** The aggregation runner (null before start). */
  public TelemetryRunner runner() {
    return runner;
  }

  /** The live flow view (null before start). */
  public FlowStreamHub flows() {
    return hub;
  }

  /** Istio's metrics as {@code /metrics} exports them (null before start). */
  public MeshMetrics meshMetrics() {
    return meshMetrics;
  }

  /** The feed of closed windows into {@link #meshMetrics()} (null before start). */
  public MetricsFeed metricsFeed() {
    return metricsFeed;
  }

  /** The flow tail (null before start). */
  public FlowTail tail() {
    return tail;
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    LatticeConfig config = context.config();
    KafkaClientConfig kafka = KafkaClientConfig.from(config, "telemetry");
    TelemetryTopics standard = TelemetryTopics.standard();
    TelemetryTopics topics = TelemetryTopics.named(
        config.get("telemetry.topics.flows", standard.flows().name()),
        config.get("telemetry.topics.metrics", standard.metrics().name()));
    TelemetryOptions defaults = TelemetryOptions.defaults();
    TelemetryOptions options;
    FlowStreamHub.Settings flowSettings;
    String advertisedHost;
    String policyUrl;
    int maxLabelSets;
    try {
      maxLabelSets = config.getInt("telemetry.istio-metrics.max-label-sets", 10_000);
      options = new TelemetryOptions(defaults.windows(),
          config.getDuration("telemetry.windows.grace", defaults.grace()),
          config.getDuration("telemetry.windows.retention", defaults.retention()));
      FlowStreamHub.Settings d = FlowStreamHub.Settings.defaults();
      flowSettings = new FlowStreamHub.Settings(config.getInt("telemetry.flows.recent", d.recent()),
          config.getInt("telemetry.flows.client-buffer", d.clientBuffer()),
          config.getInt("telemetry.flows.max-clients", d.maxClients()),
          config.getDuration("telemetry.flows.keep-alive", Duration.ofMillis(d.keepAliveMillis())).toMillis());
      advertisedHost = config.get("telemetry.advertised.host", advertised(context.httpHost()));
      policyUrl = Dashboard.checkedPolicyUrl(config.get("telemetry.dashboard.policy-url", DEFAULT_POLICY_URL));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    if (context.httpPort() <= 0) {
      return Future.failedFuture(new IllegalStateException(
          "telemetry needs its bound HTTP port (instances query each other on it); got " + context.httpPort()));
    }
    HostInfo self = new HostInfo(advertisedHost, context.httpPort());
    String appId = config.get("telemetry.application.id", TelemetryRunner.DEFAULT_APPLICATION_ID);
    Path dataDir = Path.of(config.get("telemetry.data.dir", Path.of(config.get("data.dir", ".lattice"))
        .resolve("telemetry").toString()));
    client = WebClient.create(vertx);
    hub = new FlowStreamHub(vertx, flowSettings, context.meters());
    hub.mount(context.router());
    return vertx.executeBlocking(() -> {
      admin = Admin.create(kafka.admin("provisioner"));
      var report = new TopicProvisioner(admin).ensure(List.of(topics.flows().spec(), topics.flows().spec().deadLetter(),
          topics.metrics().spec())).toCompletableFuture().get();
      Properties props = kafka.streams(appId, report.brokers());
      if (config.find("kafka.streams.state.dir").isEmpty() && config.find("kafka.state.dir").isEmpty()) {
        props.put(StreamsConfig.STATE_DIR_CONFIG, dataDir.resolve("streams").toString());
      }
      props.put(StreamsConfig.APPLICATION_SERVER_CONFIG, self.host() + ":" + self.port());
      // Task idling orders records across a task's input partitions; every task here reads one partition
      // (TelemetryTopologyTest checks it), so it buys nothing — and Kafka Streams 4.4 formats log strings
      // (String.format) for each idle partition on every process loop: ~19 % of the stream threads (JFR).
      props.putIfAbsent(StreamsConfig.MAX_TASK_IDLE_MS_CONFIG, StreamsConfig.MAX_TASK_IDLE_MS_DISABLED);
      dashboard = Dashboard.load(policyUrl, options.windows().stream().map(WindowSize::label).toList());
      TelemetryRunner r = TelemetryRunner.create(topics, options, props);
      new KafkaStreamsMetrics(r.streams()).bindTo(context.meters());
      r.start();
      return r;
    }, false).map(r -> {
      runner = r;
      DistributedQueries queries = new DistributedQueries(vertx, r, self, client);
      new TelemetryApi(queries, options, clock).mount(context.router());
      dashboard.mount(context.router());
      tail = FlowTail.start(topics.flows(), kafka.consumer(null, "flow-tail"), hub::publish);
      FunctionCounter.builder("lattice_telemetry_flows_undecodable_total", tail, FlowTail::undecodable)
          .description("Flow records the live view could not decode (the topology dead-letters them)")
          .register(context.meters());
      meshMetrics = new MeshMetrics(maxLabelSets);
      if (context.meters() instanceof PrometheusMeterRegistry prometheus) {
        prometheus.getPrometheusRegistry().register(meshMetrics);
      } else {
        LOG.warn("meter registry is {}, not Prometheus: Istio metrics are not exported",
            context.meters().getClass().getName());
      }
      metricsFeed = MetricsFeed.start(topics.metrics(), kafka.consumer(appId + "-istio-metrics", "istio-metrics"),
          meshMetrics);
      FunctionCounter.builder("lattice_telemetry_istio_windows_total", meshMetrics, MeshMetrics::windows)
          .description("Closed istio-scope windows counted into the Istio metrics").register(context.meters());
      FunctionCounter.builder("lattice_telemetry_istio_windows_overflowed_total", meshMetrics, MeshMetrics::overflowed)
          .description("Closed windows not exported: their label set is over telemetry.istio-metrics.max-label-sets")
          .register(context.meters());
      context.readiness().registerCondition("streams", r::running, "aggregation not running yet");
      context.readiness().registerCondition("istio-metrics", metricsFeed::assigned,
          "Istio metrics feed has no partitions of " + topics.metrics().name() + " yet");
      context.readiness().registerCondition("flow-tail", tail::assigned,
          "live flow view has not got the partitions of " + topics.flows().name());
      LOG.info("telemetry pipeline started: {} → {} (application {}, queries at {}:{})", topics.flows().name(),
          topics.metrics().name(), appId, self.host(), self.port());
      return null;
    });
  }

  private static String advertised(String bindHost) {
    if (bindHost.equals("0.0.0.0") || bindHost.equals("::")) {
      try {
        return java.net.InetAddress.getLocalHost().getHostName();
      } catch (java.net.UnknownHostException e) {
        return "localhost";
      }
    }
    return bindHost;
  }

  @Override
  public Future<Void> stop() {
    if (vertx == null) {
      return Future.succeededFuture();
    }
    if (hub != null) {
      hub.close();
    }
    return vertx.executeBlocking(() -> {
      if (tail != null) {
        tail.close();
      }
      if (metricsFeed != null) {
        metricsFeed.close();
      }
      if (runner != null) {
        runner.close();
      }
      if (admin != null) {
        admin.close(Duration.ofSeconds(5));
      }
      return null;
    }, false).eventually(() -> {
      if (client != null) {
        client.close();
      }
      return Future.succeededFuture();
    }).mapEmpty();
  }
}
