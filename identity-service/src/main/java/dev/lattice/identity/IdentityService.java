package dev.lattice.identity;

import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.SvidIssued;
import dev.lattice.events.TrustBundle;
import dev.lattice.identity.api.ControlPlaneSvidApi;
import dev.lattice.identity.api.IdentityApi;
import dev.lattice.identity.attestation.JoinTokenStore;
import dev.lattice.identity.attestation.KubernetesTokenAttestor;
import dev.lattice.identity.attestation.NodeAttestor;
import dev.lattice.identity.bundle.BundleEndpoint;
import dev.lattice.identity.bundle.BundlePublisher;
import dev.lattice.identity.ca.CaKeyStore;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.SignatureProvider;
import dev.lattice.identity.ca.UpstreamAuthority;
import dev.lattice.identity.entry.EntryRegistry;
import dev.lattice.identity.entry.EntryValidator;
import dev.lattice.identity.jwt.JwtSvidIssuer;
import dev.lattice.identity.signing.SigningServer;
import dev.lattice.identity.signing.SvidAudit;
import dev.lattice.identity.spiffe.TrustDomains;
import dev.lattice.kit.admin.AdminAuth;
import dev.lattice.kit.admin.AdminCredential;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.KafkaReadinessCheck;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicProvisioner;
import dev.lattice.kit.topic.TopicSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.PemKeyCertOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The identity service ({@code identity}, HTTP 7070): the trust domain's CA (keys in a local PKCS#12
 * keystore), registration entries folded from {@code lattice.entries.v1}, node attestation, the gRPC
 * signing API (7071), the SPIFFE bundle endpoint (7072) and {@code TrustBundle} events on
 * {@code lattice.bundles.v1}. Configuration keys are listed in {@code docs/identity.md}.
 *
 * <p>Created by the launcher through {@link java.util.ServiceLoader}; {@link #start} and {@link #stop}
 * run on its event-loop context and never block it (keystore, key generation and signing run on
 * workers).
 */
public final class IdentityService implements LatticeService {

  private static final Logger log = LoggerFactory.getLogger(IdentityService.class);

  private final Clock clock;
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private Vertx vertx;
  private CertificateAuthority ca;
  private JoinTokenStore tokens;
  private EventPublisher publisher;
  private EventPublisher requestPublisher;
  private DeadLetterPublisher deadLetters;
  private TopicFold<RegistrationEntry> entryFold;
  private TopicFold<TrustBundle> bundleFold;
  private EntryRegistry registry;
  private SigningServer signingServer;
  private BundleEndpoint bundleEndpoint;
  private BundlePublisher bundlePublisher;
  private Admin admin;
  /** Built off the event loop in start (fabric8's build reads kubeconfig and service-account files). */
  private KubernetesClient kubernetes;
  private PemKeyCertOptions endpointCert;
  private long rotationTimer = -1;
  private volatile int signingPort = -1;
  private volatile int bundlePort = -1;
  private io.vertx.ext.web.Router router;

  public IdentityService() {
    this(Clock.systemUTC());
  }

  /** For tests: a service on a given clock. */
  public IdentityService(Clock clock) {
    this.clock = clock;
  }

  @Override
  public String name() {
    return "identity";
  }

  @Override
  public int defaultHttpPort() {
    return 7070;
  }

  /** Every key this service reads (docs/identity.md "Running it"); {@code identity.trust-domain} is an alias. */
  public static final dev.lattice.kit.config.ConfigKeys CONFIG_KEYS = dev.lattice.kit.config.ConfigKeys.of(
          "identity.trust.domain", "identity.data.dir", "identity.topics.entries", "identity.topics.bundles",
          "identity.topics.audit", "identity.signing.host", "identity.signing.port", "identity.signing.provider",
          "identity.signing.threads", "identity.bundle.endpoint.host", "identity.bundle.endpoint.port",
          "identity.bundle.endpoint.cert", "identity.bundle.endpoint.key", "identity.bundle.refresh.hint",
          "identity.ca.ttl", "identity.ca.backdate", "identity.ca.upstream.key", "identity.ca.upstream.chain",
          "identity.ca.keystore.password", "identity.ca.rotation.check.interval", "identity.node.svid.ttl",
          "identity.server.svid.ttl", "identity.entries.allow-wildcard-dns", "identity.attestation.k8s.enabled",
          "identity.attestation.k8s.audience", "identity.attestation.k8s.service.accounts")
      .withAlias("identity.trust-domain", "identity.trust.domain");

  @Override
  public dev.lattice.kit.config.ConfigKeys configKeys() {
    return CONFIG_KEYS;
  }

  /** The CA (after start). */
  public CertificateAuthority certificateAuthority() {
    return ca;
  }

  /** The entries (after start). */
  public EntryRegistry entries() {
    return registry;
  }

  /** Bound port of the signing API (after start). */
  public int signingPort() {
    return signingPort;
  }

  /** Bound port of the bundle endpoint (after start). */
  public int bundleEndpointPort() {
    return bundlePort;
  }

  /** The routes of the HTTP endpoint (after start), e.g. for a test that every write needs the credential. */
  public List<io.vertx.ext.web.Route> httpRoutes() {
    return router == null ? List.of() : List.copyOf(router.getRoutes());
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    this.vertx = context.vertx();
    this.router = context.router();
    // Every write (entries, tokens) needs the admin credential; bundles and health stay open.
    Future<AdminCredential> adminCredential = AdminAuth.protectWrites(context);
    LatticeConfig config = context.config();
    TrustDomain trustDomain = TrustDomains.parse(config.get("identity.trust.domain", "lattice.local"));
    Path dataDir = Path.of(config.get("identity.data.dir", ".lattice/identity"));
    Topic<String, RegistrationEntry> entriesTopic =
        LatticeTopics.renamed(LatticeTopics.ENTRIES, config.get("identity.topics.entries", LatticeTopics.ENTRIES.name()));
    Topic<String, TrustBundle> bundlesTopic =
        LatticeTopics.renamed(LatticeTopics.BUNDLES, config.get("identity.topics.bundles", LatticeTopics.BUNDLES.name()));
    Topic<String, SvidIssued> auditTopic = LatticeTopics.renamed(LatticeTopics.IDENTITY_AUDIT,
        config.get("identity.topics.audit", LatticeTopics.IDENTITY_AUDIT.name()));
    KafkaClientConfig kafka = KafkaClientConfig.from(config, "identity");
    Context ctx = vertx.getOrCreateContext();
    // ports.ephemeral (lattice up --ephemeral-ports, tests): free ports unless a port is configured.
    boolean ephemeral = config.getBoolean("ports.ephemeral", false);
    String signingHost = config.get("identity.signing.host", "127.0.0.1");
    String bundleHost = config.get("identity.bundle.endpoint.host", "127.0.0.1");

    return adminCredential.compose(loaded -> vertx.executeBlocking(() -> {
      SignatureProvider signer = SignatureProvider.select(config.get("identity.signing.provider", "auto"));
      Optional<UpstreamAuthority> upstream = Optional.empty();
      String upstreamKey = config.get("identity.ca.upstream.key", "");
      if (!upstreamKey.isEmpty()) {
        upstream = Optional.of(UpstreamAuthority.load(Path.of(upstreamKey), Path.of(config.require("identity.ca.upstream.chain"))));
      }
      CertificateAuthority.Settings settings = new CertificateAuthority.Settings(trustDomain,
          config.getDuration("identity.ca.ttl", Duration.ofDays(30)),
          config.getDuration("identity.ca.backdate", Duration.ofSeconds(10)),
          config.getDuration("identity.bundle.refresh.hint", Duration.ofMinutes(5)), upstream);
      ca = CertificateAuthority.open(settings, signer,
          CaKeyStore.open(dataDir, config.get("identity.ca.keystore.password", "")), clock);
      tokens = JoinTokenStore.open(dataDir, clock);
      endpointCert = bundleEndpointCert(config, dataDir, clock);
      if (config.getBoolean("identity.attestation.k8s.enabled", false)) {
        kubernetes = new KubernetesClientBuilder().build();
      }
      // Kafka client construction resolves addresses and loads TLS material: off the loop too.
      admin = Admin.create(kafka.admin("provisioner"));
      return null;
    }, false)).compose(v -> {
      if (kubernetes != null) {
        closeables.add(kubernetes);
      }
      List<TopicSpec> specs = new ArrayList<>();
      for (Topic<String, ?> t : List.<Topic<String, ?>>of(entriesTopic, bundlesTopic, auditTopic)) {
        specs.add(t.spec());
        specs.add(t.spec().deadLetter());
      }
      return Future.fromCompletionStage(new TopicProvisioner(admin).ensure(specs), ctx);
    }).compose(report -> vertx.executeBlocking(() -> {
      deadLetters = DeadLetterPublisher.create(kafka.producer("dlq"));
      entryFold = TopicFold.builder(entriesTopic, kafka.consumer(null, "entries"), deadLetters)
          .listenerExecutor(r -> ctx.runOnContext(x -> r.run())).build();
      bundleFold = TopicFold.builder(bundlesTopic, kafka.consumer(null, "bundles"), deadLetters)
          .listenerExecutor(r -> ctx.runOnContext(x -> r.run())).build();
      return null;
    }, false)).compose(built -> {
      publisher = EventPublisher.create(vertx, kafka, "events");
      // Kafka away: /readyz says so, API writes (entries, attestation) fail at once with 503/UNAVAILABLE;
      // bundles and audit events keep the default producer, which buffers and retries.
      KafkaReadinessCheck kafkaCheck = KafkaReadinessCheck.monitor(vertx, config, kafka);
      closeables.add(kafkaCheck);
      context.readiness().register("kafka", kafkaCheck);
      requestPublisher = EventPublisher.forRequests(vertx, kafka, "requests", kafkaCheck);
      requestPublisher.connect(entriesTopic);
      closeables.add(entryFold);
      closeables.add(bundleFold);
      closeables.add(deadLetters);
      registry = new EntryRegistry(entryFold, requestPublisher, entriesTopic, trustDomain, clock,
          () -> tokens.pendingNodes(trustDomain),
          new EntryValidator(trustDomain, config.getBoolean("identity.entries.allow-wildcard-dns", false)));
      entryFold.start();
      bundleFold.start();
      bundlePublisher = new BundlePublisher(vertx, ca, publisher, bundlesTopic, bundleFold);
      context.readiness().registerCondition("entries", registry::caughtUp, "replaying " + entriesTopic.name());
      context.readiness().registerCondition("bundle", bundlePublisher::inSync, "trust bundle not yet on " + bundlesTopic.name());
      new IdentityApi(vertx, registry, tokens, ca).mount(context.router());
      SvidAudit audit = new SvidAudit(publisher, auditTopic, clock);
      Duration serverSvidTtl = config.getDuration("identity.server.svid.ttl", Duration.ofHours(1));
      new ControlPlaneSvidApi(vertx, ca, audit, serverSvidTtl).mount(context.router());
      // Where the node-facing listeners really are (they may be on ephemeral ports): a node agent next
      // to this server (the local stack) learns the signing port here instead of assuming 7071.
      context.router().get("/v1/endpoints").handler(rc -> {
        if (signingPort < 0 || bundlePort < 0) {
          rc.response().setStatusCode(503).putHeader("Content-Type", "application/json")
              .end(new io.vertx.core.json.JsonObject().put("error", "listeners not bound yet").encode());
          return;
        }
        rc.json(new io.vertx.core.json.JsonObject().put("trustDomain", trustDomain.getName())
            .put("signingHost", signingHost).put("signingPort", signingPort)
            .put("bundleEndpointHost", bundleHost).put("bundleEndpointPort", bundlePort));
      });

      KubernetesTokenAttestor k8s = null;
      if (config.getBoolean("identity.attestation.k8s.enabled", false)) {
        KubernetesClient client = kubernetes;
        Set<String> allowed = Arrays.stream(config.get("identity.attestation.k8s.service.accounts", "").split(","))
            .map(String::strip).filter(s -> !s.isEmpty()).collect(Collectors.toSet());
        k8s = new KubernetesTokenAttestor(client, config.get("identity.attestation.k8s.audience", "lattice-identity"), allowed);
      }
      signingServer = new SigningServer(vertx, ca, new JwtSvidIssuer(ca), registry, new NodeAttestor(trustDomain, tokens, k8s),
          audit, new SigningServer.Settings(
              signingHost, config.getInt("identity.signing.port", ephemeral ? 0 : 7071),
              config.getDuration("identity.node.svid.ttl", Duration.ofHours(1)),
              serverSvidTtl,
              config.getInt("identity.signing.threads", Math.max(2, Runtime.getRuntime().availableProcessors()))));
      bundleEndpoint = new BundleEndpoint(vertx, ca::bundle);
      return Future.all(bundlePublisher.start(), signingServer.listen().map(p -> signingPort = p),
          bundleEndpoint.listen(bundleHost,
              config.getInt("identity.bundle.endpoint.port", ephemeral ? 0 : 7072), endpointCert).map(p -> bundlePort = p));
    }).map(all -> {
      Duration interval = config.getDuration("identity.ca.rotation.check.interval", Duration.ofMinutes(1));
      rotationTimer = vertx.setPeriodic(interval.toMillis(), id -> vertx.executeBlocking(ca::rotateIfDue, false)
          .onFailure(e -> log.error("CA rotation check failed: {}", e.toString())));
      log.info("identity service for {} started (signing :{}, bundle endpoint :{})", trustDomain, signingPort, bundlePort);
      return null;
    });
  }

  private static PemKeyCertOptions bundleEndpointCert(LatticeConfig config, Path dataDir, Clock clock) throws Exception {
    String cert = config.get("identity.bundle.endpoint.cert", "");
    if (cert.isEmpty()) {
      return BundleEndpoint.localCertificate(dataDir, clock);
    }
    return new PemKeyCertOptions()
        .setCertValue(Buffer.buffer(Files.readAllBytes(Path.of(cert))))
        .setKeyValue(Buffer.buffer(Files.readAllBytes(Path.of(config.require("identity.bundle.endpoint.key")))));
  }

  @Override
  public Future<Void> stop() {
    if (rotationTimer >= 0) {
      vertx.cancelTimer(rotationTimer);
    }
    List<Future<?>> closing = new ArrayList<>();
    if (signingServer != null) {
      closing.add(signingServer.close());
    }
    if (bundleEndpoint != null) {
      closing.add(bundleEndpoint.close());
    }
    return Future.join(closing).eventually(() -> publisher == null ? Future.succeededFuture() : publisher.close())
        .eventually(() -> requestPublisher == null ? Future.succeededFuture() : requestPublisher.close())
        .eventually(() -> vertx.executeBlocking(() -> {
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
