package dev.lattice.distributor;

import dev.lattice.distributor.identity.DistributorSvidSource;
import dev.lattice.distributor.ingest.ConfigFold;
import dev.lattice.kit.config.ConfigException;
import dev.lattice.distributor.server.ConfigStreamServer;
import dev.lattice.distributor.status.ConfigStatusReporter;
import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.events.ConfigStatus;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.distributor.server.StreamTls;
import dev.lattice.distributor.server.StreamTlsFiles;
import dev.lattice.distributor.snapshot.NodeSnapshot;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.distributor.snapshot.VersionedResource;
import dev.lattice.events.ConfigResource;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.service.ServiceMain;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.kit.topic.TopicSpec;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The config distributor: folds {@code lattice.config.v1} into per-node snapshots ({@link SnapshotCache})
 * and serves them. Ready once the fold has caught up with the topic. HTTP API (port 7090):
 * {@code GET /v1/nodes} (nodes and their snapshot versions) and {@code GET /v1/nodes/<node>} (what the node is
 * served, with held-back changes). gRPC {@code ConfigDiscovery.StreamConfig} on port 7091 with mTLS (node SVIDs;
 * {@link StreamTlsFiles} says which keys configure it; {@code distributor.grpc.plaintext=true} for local
 * development only). Created once per run; start/stop on a Vert.x context.
 */
public final class ConfigDistributorService implements LatticeService {

  private static final Logger log = LoggerFactory.getLogger(ConfigDistributorService.class);

  private final Clock clock;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Vertx vertx;
  private SnapshotCache cache;
  private ConfigFold fold;
  private Admin admin;
  private ConfigStreamServer streams;
  private ConfigStatusReporter status;
  private EventPublisher statusPublisher;
  private volatile int grpcPort;
  private DistributorSvidSource svid;
  private volatile boolean streamsTls;
  private volatile String grpcHost;

  public ConfigDistributorService() {
    this(Clock.systemUTC());
  }

  public ConfigDistributorService(Clock clock) {
    this.clock = clock;
  }

  public static void main(String[] args) {
    ServiceMain.run(args, new ConfigDistributorService());
  }

  @Override
  public String name() {
    return "distributor";
  }

  /** Every key this service reads (registered so unknown keys can be refused). */
  @Override
  public dev.lattice.kit.config.ConfigKeys configKeys() {
    return dev.lattice.kit.config.ConfigKeys.of("distributor.debounce", "distributor.grpc.host",
        "distributor.grpc.plaintext", "distributor.grpc.port", "distributor.identity.url",
        "distributor.identity.bundle.refresh", "distributor.instance", "distributor.tls.bundle",
        "distributor.tls.cert", "distributor.tls.key", "distributor.tls.trust-domain", "distributor.topics.config",
        "distributor.topics.status");
  }

  @Override
  public int defaultHttpPort() {
    return 7090;
  }

  /** The folded snapshots (null before start). */
  public SnapshotCache cache() {
    return cache;
  }

  /** The fold (null before start). */
  public ConfigFold fold() {
    return fold;
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    vertx = context.vertx();
    LatticeConfig config = context.config();
    Topic<String, ConfigResource> configTopic = LatticeTopics.renamed(LatticeTopics.CONFIG,
        config.get("distributor.topics.config", LatticeTopics.CONFIG.name()));
    KafkaClientConfig kafka = KafkaClientConfig.from(config, "distributor");
    Context ctx = vertx.getOrCreateContext();
    cache = new SnapshotCache(clock);
    admin = Admin.create(kafka.admin("provisioner"));
    Topic<String, ConfigStatus> statusTopic = LatticeTopics.renamed(LatticeTopics.CONFIG_STATUS,
        config.get("distributor.topics.status", LatticeTopics.CONFIG_STATUS.name()));
    List<TopicSpec> specs = List.of(configTopic.spec(), configTopic.spec().deadLetter(), statusTopic.spec());
    return Future.fromCompletionStage(new TopicProvisioner(admin).ensure(specs), ctx).map(report -> {
      DeadLetterPublisher deadLetters = DeadLetterPublisher.create(kafka.producer("dlq"));
      closeables.add(deadLetters);
      fold = ConfigFold.start(configTopic, kafka.consumer(null, "config"), deadLetters, cache);
      closeables.add(0, fold);
      context.readiness().registerCondition("config", fold::caughtUp, "replaying " + configTopic.name());
      Gauge.builder("lattice_distributor_dead_lettered_records", fold, ConfigFold::deadLettered)
          .description("lattice.config.v1 records sent to the dead-letter topic").register(context.meters());
      Gauge.builder("lattice_distributor_nodes", cache, c -> c.nodes().size())
          .description("Nodes with config on lattice.config.v1").register(context.meters());
      mountApi(context);
      statusPublisher = EventPublisher.create(vertx, kafka, "status");
      String instance = config.get("distributor.instance", defaultInstance());
      status = new ConfigStatusReporter(instance, clock, (node, st) -> statusPublisher.publish(statusTopic, node, st)
          .onFailure(e -> log.debug("status of {} not published: {}", node, e.toString())), cache, context.meters());
      log.info("folding {} into per-node snapshots; node status on {}", configTopic.name(), statusTopic.name());
      return instance;
    }).compose(instance -> startStreams(config, instance)).mapEmpty();
  }

  /** The gRPC port (0 before start). */
  public int grpcPort() {
    return grpcPort;
  }

  /** The stream server (null before start). */
  public ConfigStreamServer streams() {
    return streams;
  }

  /** The status reporter (null before start). */
  public ConfigStatusReporter status() {
    return status;
  }

  private Future<Integer> startStreams(LatticeConfig config, String instance) {
    ConfigStreamServer.Settings settings = new ConfigStreamServer.Settings(
        config.get("distributor.grpc.host", "127.0.0.1"),
        config.getInt("distributor.grpc.port", config.getBoolean("ports.ephemeral", false) ? 0 : 7091),
        config.getDuration("distributor.debounce", Duration.ofMillis(50)),
        instance);
    return streamTls(config).compose(tls -> {
      streamsTls = tls != null;
      streams = new ConfigStreamServer(vertx, cache, settings, tls, status, clock);
      return streams.listen();
    }).onSuccess(p -> {
      grpcHost = settings.host();
      grpcPort = p;
      log.info("config stream (gRPC, {}) on {}:{}", streamsTls ? "mTLS" : "PLAINTEXT", settings.host(), p);
    });
  }

  /**
   * The stream's mTLS: none with {@code distributor.grpc.plaintext}; the SVID minted by the identity service
   * at {@code distributor.identity.url} (renewed in place) when that is set; else the PEM files of
   * {@link StreamTlsFiles}.
   */
  private Future<StreamTls> streamTls(LatticeConfig config) {
    if (config.getBoolean("distributor.grpc.plaintext", false)) {
      return Future.succeededFuture(null);
    }
    java.util.Optional<String> identity = config.find("distributor.identity.url");
    if (identity.isEmpty()) {
      return Future.succeededFuture(StreamTlsFiles.load(config));
    }
    String token;
    try {
      token = dev.lattice.kit.admin.AdminTokenFile.of(config).clientToken().orElseThrow(() -> new ConfigException(
          "distributor.identity.url is set but no admin credential is readable (admin.token.file: "
              + dev.lattice.kit.admin.AdminTokenFile.of(config).path() + ")"));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
    io.spiffe.spiffeid.TrustDomain td = io.spiffe.spiffeid.TrustDomain.parse(
        config.get("distributor.tls.trust-domain", "lattice.local"));
    DistributorSvidSource.Settings s = new DistributorSvidSource.Settings(java.net.URI.create(identity.get()), token,
        config.getDuration("distributor.identity.bundle.refresh", Duration.ofMinutes(1)));
    return DistributorSvidSource.start(vertx, s, clock, 10).map(source -> {
      svid = source;
      closeables.add(source);
      return new StreamTls(td, source.keyCertOptions(), source::anchors);
    });
  }

  private static String svidId(java.security.cert.X509Certificate leaf) {
    try {
      return leaf.getSubjectAlternativeNames().stream().filter(san -> Integer.valueOf(6).equals(san.get(0)))
          .map(san -> String.valueOf(san.get(1))).findFirst().orElse(null);
    } catch (java.security.cert.CertificateParsingException e) {
      return null;
    }
  }

  /** The distributor's own SVID when minted by the identity service (null otherwise). */
  public DistributorSvidSource svid() {
    return svid;
  }

  private static String defaultInstance() {
    String host = System.getenv().getOrDefault("HOSTNAME", "distributor");
    return host + "-" + ProcessHandle.current().pid();
  }

  private void mountApi(ServiceContext context) {
    // Where the config stream really listens (it may be an ephemeral port) and how it is secured.
    context.router().get("/v1/endpoints").handler(rc -> {
      if (grpcPort == 0) {
        rc.response().setStatusCode(503).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("error", "config stream not listening yet").encode());
        return;
      }
      rc.json(new JsonObject().put("grpcHost", grpcHost).put("grpcPort", grpcPort)
          .put("transport", streamsTls ? "mtls" : "plaintext")
          .put("spiffeId", svid == null || svid.leaf() == null ? null : svidId(svid.leaf())));
    });
    context.router().get("/v1/nodes").handler(rc -> {
      JsonArray nodes = new JsonArray();
      cache.nodes().stream().sorted().forEach(n -> nodes.add(summary(cache.snapshot(n))));
      rc.json(new JsonObject().put("nodes", nodes));
    });
    context.router().get("/v1/proxies").handler(rc -> {
      JsonArray proxies = new JsonArray();
      status.nodes().stream().sorted().forEach(n -> proxies.add(proxyStatus(n)));
      rc.json(new JsonObject().put("instance", status.instance()).put("proxies", proxies));
    });
    context.router().get("/v1/nodes/:node").handler(rc -> {
      String node = rc.pathParam("node");
      if (!cache.nodes().contains(node)) {
        rc.response().setStatusCode(404).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("error", "node '" + node + "' has no config on lattice.config.v1 (nodes with config: "
                + String.join(", ", cache.nodes().stream().sorted().limit(20).toList()) + ")").encode());
        return;
      }
      NodeSnapshot s = cache.snapshot(node);
      JsonObject body = summary(s);
      JsonObject resources = new JsonObject();
      s.all().forEach((type, byName) -> {
        JsonObject named = new JsonObject();
        byName.forEach((name, r) -> named.put(name, describe(r)));
        resources.put(type.name(), named);
      });
      rc.json(body.put("resources", resources));
    });
  }

  /** Like istioctl proxy-status: per type SYNCED / STALE / NACKED with the acked and served versions. */
  private JsonObject proxyStatus(String node) {
    ConfigStatus st = status.status(node);
    NodeSnapshot served = cache.snapshot(node);
    JsonObject types = new JsonObject();
    for (ConfigType type : ConfigTypeUrls.TYPES) {
      String acked = st.getAckedVersions().getOrDefault(type.name(), "");
      String want = served.version(type);
      String state = st.getNack() != null && st.getNack().getType() == type ? "NACKED"
          : acked.equals(want) ? "SYNCED" : "STALE";
      types.put(type.name(), new JsonObject().put("state", state).put("acked", acked).put("served", want));
    }
    JsonObject out = new JsonObject().put("node", node).put("connected", st.getConnected())
        .put("connected_since", st.getConnectedSince() == null ? null : st.getConnectedSince().toString())
        .put("updated_at", st.getUpdatedAt() == null ? null : st.getUpdatedAt().toString())
        .put("types", types);
    ConfigStatusReporter.PresentedSvid svid = status.presentedSvid(node);
    if (svid != null) {
      out.put("svid", new JsonObject().put("serial", svid.serial()).put("expires_at", svid.notAfter().toString()));
    }
    if (st.getNack() != null) {
      out.put("last_nack", new JsonObject().put("type", st.getNack().getType().name()).put("name", st.getNack().getName())
          .put("version", st.getNack().getVersion()).put("error", st.getNack().getError()));
    }
    return out;
  }

  private static JsonObject summary(NodeSnapshot s) {
    JsonObject versions = new JsonObject();
    s.all().keySet().forEach(t -> versions.put(t.name(), s.version(t)));
    JsonArray held = new JsonArray();
    s.heldBack().forEach(h -> held.add(new JsonObject().put("key", h.key()).put("change", h.change().name())
        .put("reason", h.reason())));
    return new JsonObject().put("node", s.node()).put("revision", s.revision()).put("versions", versions)
        .put("resources_count", s.size()).put("held_back", held);
  }

  private static JsonObject describe(VersionedResource r) {
    return new JsonObject().put("version", r.version())
        .put("payload", new JsonObject(r.resource().getPayload().toString()))
        .put("sources", new JsonArray(r.resource().getSourceResources()));
  }

  @Override
  public Future<Void> stop() {
    if (vertx == null) {
      return Future.succeededFuture();
    }
    Future<Void> streamsClosed = (streams == null ? Future.<Void>succeededFuture() : streams.close())
        .eventually(() -> statusPublisher == null ? Future.succeededFuture() : statusPublisher.close());
    return streamsClosed.eventually(() -> vertx.executeBlocking(() -> {
      for (AutoCloseable c : closeables) {
        try {
          c.close();
        } catch (Exception e) {
          log.warn("closing {} failed: {}", c.getClass().getSimpleName(), e.toString());
        }
      }
      if (admin != null) {
        admin.close(Duration.ofSeconds(5));
      }
      return null;
    }, false)).mapEmpty();
  }
}
