package dev.lattice.policy;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.admin.AdminAuth;
import dev.lattice.kit.admin.AdminCredential;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.HttpFailureHandler;
import dev.lattice.kit.service.KafkaReadinessCheck;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.policy.api.ChangePreview;
import dev.lattice.policy.api.ExplainRoutes;
import dev.lattice.policy.api.KafkaDoor;
import dev.lattice.policy.api.RecordSizeLimit;
import dev.lattice.policy.api.ResourceRoutes;
import dev.lattice.policy.api.ResourceStore;
import dev.lattice.policy.api.CompiledChangePreview;
import dev.lattice.policy.compiler.CompilerOptions;
import dev.lattice.policy.compiler.MeshSettings;
import dev.lattice.policy.compiler.CompilerRunner;
import dev.lattice.policy.compiler.ValidatedAdmission;
import dev.lattice.policy.explain.Explainer;
import dev.lattice.policy.kubernetes.KafkaSinks;
import dev.lattice.policy.kubernetes.KubernetesSource;
import dev.lattice.policy.registry.RegistryFold;
import dev.lattice.policy.registry.StaticRegistryRoutes;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.micrometer.core.instrument.FunctionCounter;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy service ({@code policy}, HTTP 7080): the three doors into {@code lattice.resources.v1}
 * (REST {@code /v1/resources}, raw Kafka checked by {@link KafkaDoor}, Kubernetes CRDs), the static
 * registry REST door, {@code /v1/explain}, and the policy compiler.
 *
 * <p>Config keys: {@code kafka.bootstrap.servers} (required); {@code policy.topics.resources},
 * {@code policy.topics.rejected}, {@code policy.topics.registry} (topic names, default the catalog's);
 * {@code policy.door.enabled} (default true), {@code policy.door.group} (default
 * {@code lattice-policy-door}); {@code policy.root.namespace} (default {@code policy.compiler.root.namespace}, else
 * {@code lattice-system});
 * {@code policy.trust.domain} (default {@code lattice.local}); {@code policy.compiler.*} (see
 * {@link CompilerRunner}); {@code policy.kubernetes.enabled} (default false).
 *
 * <p>Readiness: Kafka answers ({@code kafka}, a background probe), the resource state and the registry have replayed their topics (and the compiler runs,
 * the Kubernetes informers synced, when enabled). Created by the launcher through
 * {@code ServiceLoader}; start and stop never block the event loop.
 */
public final class PolicyService implements LatticeService {
  private static final Logger LOG = LoggerFactory.getLogger(PolicyService.class);

  private final Clock clock;
  private ChangePreview preview = ChangePreview.NONE;
  private Vertx vertx;
  private DeadLetterPublisher deadLetters;
  private EventPublisher publisher;
  private EventPublisher requestPublisher;
  private KafkaReadinessCheck kafkaCheck;
  private ResourceStore store;
  private RegistryFold registry;
  private KafkaDoor door;
  private RecordSizeLimit sizeLimit;
  private CompilerRunner compiler;
  private volatile KubernetesClient kubernetesClient;
  private volatile KubernetesSource kubernetes;

  /** For {@code ServiceLoader}. */
  public PolicyService() {
    this(Clock.systemUTC());
  }

  public PolicyService(Clock clock) {
    this.clock = clock;
  }

  /** Installs the compiled-config preview used by dry-run applies (call before start). */
  public PolicyService withChangePreview(ChangePreview preview) {
    this.preview = preview;
    return this;
  }

  @Override
  public String name() {
    return "policy";
  }

  /** Every key this service reads (registered so unknown keys can be refused; see docs/policy.md). */
  @Override
  public dev.lattice.kit.config.ConfigKeys configKeys() {
    return dev.lattice.kit.config.ConfigKeys.of("policy.compiler.application.id", "policy.compiler.enabled",
        "policy.compiler.root.namespace", "policy.door.enabled", "policy.door.group", "policy.kubernetes.enabled",
        "policy.mesh.path-normalization", "policy.mesh.trusted-proxies", "policy.root.namespace",
        "policy.topics.config", "policy.topics.registry", "policy.topics.rejected", "policy.topics.resources",
        "policy.trust.domain");
  }

  @Override
  public int defaultHttpPort() {
    return 7080;
  }

  /** The resource state (for tests and the local stack); null before start. */
  public ResourceStore store() {
    return store;
  }

  /** The Kafka door (for tests); null when disabled or before start. */
  public KafkaDoor door() {
    return door;
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    this.vertx = context.vertx();
    // Every write needs the admin credential (docs/operations.md#admin-credential); explain only reads.
    Future<AdminCredential> admin = AdminAuth.protectWrites(context, AdminAuth.openWrite(HttpMethod.POST, "/v1/explain"));
    LatticeConfig config = context.config();
    KafkaClientConfig kafka = KafkaClientConfig.from(config, "policy");
    Topic<String, ResourceEvent> resources = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        config.get("policy.topics.resources", LatticeTopics.RESOURCES.name()));
    Topic<String, ResourceRejected> rejected = LatticeTopics.renamed(LatticeTopics.RESOURCES_REJECTED,
        config.get("policy.topics.rejected", LatticeTopics.RESOURCES_REJECTED.name()));
    Topic<String, WorkloadEndpoint> registryTopic = LatticeTopics.renamed(LatticeTopics.REGISTRY,
        config.get("policy.topics.registry", LatticeTopics.REGISTRY.name()));
    MeshSettings mesh = MeshSettings.from(config);
    String trustDomain = config.get("policy.trust.domain", "lattice.local");

    // Creating Kafka clients does no network I/O; folds and the door run on their own threads.
    deadLetters = DeadLetterPublisher.create(kafka.producer("dlq"));
    publisher = EventPublisher.create(vertx, kafka, "resources");
    // Kafka away: /readyz says so and REST writes fail at once with 503 + Retry-After; reads serve the
    // folds. The Kubernetes source keeps the default producer (it buffers and its informers resync).
    kafkaCheck = KafkaReadinessCheck.monitor(vertx, config, kafka);
    context.readiness().register("kafka", kafkaCheck);
    requestPublisher = EventPublisher.forRequests(vertx, kafka, "requests", kafkaCheck);
    requestPublisher.connect(resources, registryTopic);
    store = ResourceStore.start(resources, kafka.consumer(null, "resources-fold"), deadLetters);
    registry = RegistryFold.start(registryTopic, kafka.consumer(null, "registry-fold"), deadLetters);
    context.readiness().registerCondition("policy-resources", store::caughtUp,
        "resource state is replaying " + resources.name());
    context.readiness().registerCondition("policy-registry", registry::caughtUp,
        "registry is replaying " + registryTopic.name());
    if (config.getBoolean("policy.door.enabled", true)) {
      door = new KafkaDoor(resources, rejected,
          kafka.consumer(config.get("policy.door.group", "lattice-policy-door"), "door"),
          kafka.producer("rejected"), deadLetters, clock).start();
      KafkaDoor d = door;
      FunctionCounter.builder("lattice.policy.door.checked", d, KafkaDoor::checkedCount)
          .description("Records on the resources topic checked by the Kafka door").register(context.meters());
      FunctionCounter.builder("lattice.policy.door.rejected", d, KafkaDoor::rejectedCount)
          .description("Invalid resource events recorded on the rejected topic").register(context.meters());
      FunctionCounter.builder("lattice.policy.door.dead.lettered", d, KafkaDoor::deadLetteredCount)
          .description("Undecodable records sent to the dead-letter topic").register(context.meters());
    }

    if (preview == ChangePreview.NONE) {
      // dry-run applies show the compiled-config diff, computed by the compiler's own code
      ResourceStore current = store;
      preview = new CompiledChangePreview(vertx,
          () -> current.list(null, null).stream().map(ResourceStore.Entry::event).toList(),
          registry.index(), new CompilerOptions(mesh, ValidatedAdmission.INSTANCE), clock);
    }
    // Bodies it cannot read, unknown routes under /v1, handler bugs: the same JSON error shape as the API's own errors.
    context.router().route("/v1/*").failureHandler(new HttpFailureHandler(ResourceRoutes::respondError));
    // Oversized resources are refused at admission against the topic's limit (read from the broker).
    sizeLimit = new RecordSizeLimit(Admin.create(kafka.admin("size-limit")), resources.name(),
        kafka.requestProducer("requests"), clock, Duration.ofMinutes(1));
    sizeLimit.current(vertx);
    new ResourceRoutes(store, registry.index(), requestPublisher, resources, sizeLimit, preview, clock).mount(context.router());
    new ExplainRoutes(store, registry.index(), new Explainer(mesh)).mount(context.router());
    new StaticRegistryRoutes(KafkaSinks.registry(requestPublisher, registryTopic), registry.index(), trustDomain, clock)
        .mount(context.router());
    // After every route: an unknown /v1 path fails 404 into this service's failure handler (not the kit's shape).
    context.router().route("/v1/*").handler(rc -> rc.fail(404));

    Future<Void> kubernetesStarted = Future.succeededFuture();
    if (config.getBoolean("policy.kubernetes.enabled", false)) {
      context.readiness().registerCondition("policy-kubernetes", () -> {
        KubernetesSource k = kubernetes;
        return k != null && k.synced();
      }, "Kubernetes informers are listing");
      // fabric8's build reads kubeconfig files and inform(...) blocks for the initial list: off the loop.
      kubernetesStarted = vertx.executeBlocking(() -> {
        kubernetesClient = new KubernetesClientBuilder().build();
        kubernetes = new KubernetesSource(kubernetesClient, KafkaSinks.resources(publisher, resources),
            KafkaSinks.registry(publisher, registryTopic), trustDomain, clock).start();
        return null;
      }, false);
    }
    return kubernetesStarted.compose(k -> admin).compose(loaded -> CompilerRunner.start(context)).map(runner -> {
      compiler = runner;
      LOG.info("policy service started (resources={}, door={}, compiler={}, kubernetes={})", resources.name(),
          door != null, runner != null, kubernetes != null);
      return null;
    });
  }

  @Override
  public Future<Void> stop() {
    if (vertx == null) return Future.succeededFuture();
    Future<Void> compilerStopped = compiler == null ? Future.succeededFuture() : compiler.stop(vertx);
    return compilerStopped
        .eventually(() -> vertx.executeBlocking(() -> {
          // Each close is bounded; run them off the event loop.
          Optional.ofNullable(kubernetes).ifPresent(KubernetesSource::close);
          Optional.ofNullable(kubernetesClient).ifPresent(KubernetesClient::close);
          Optional.ofNullable(door).ifPresent(KafkaDoor::close);
          Optional.ofNullable(sizeLimit).ifPresent(RecordSizeLimit::close);
          Optional.ofNullable(store).ifPresent(ResourceStore::close);
          Optional.ofNullable(registry).ifPresent(RegistryFold::close);
          return null;
        }))
        .eventually(() -> publisher == null ? Future.succeededFuture() : publisher.close())
        .eventually(() -> requestPublisher == null ? Future.succeededFuture() : requestPublisher.close())
        .eventually(() -> vertx.executeBlocking(() -> {
          Optional.ofNullable(deadLetters).ifPresent(DeadLetterPublisher::close);
          Optional.ofNullable(kafkaCheck).ifPresent(KafkaReadinessCheck::close);
          return null;
        }))
        .mapEmpty();
  }

}
