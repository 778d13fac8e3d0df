package dev.lattice.local;

import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.cli.support.TableWriter;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.ConfigKeys;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.files.AtomicFiles;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.kit.topic.ProvisioningReport;
import dev.lattice.kit.topic.TopicProvisioner;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The one-command local stack ({@code ./lattice up}): the embedded KRaft broker (or an external one),
 * every topic of the catalog, and every {@link LatticeService} found by {@link ServiceLoader}, in one
 * JVM.
 *
 * <p>{@link #start} runs on the caller's thread (never an event loop): it takes the data-dir lock,
 * starts the broker (its log under {@code <data-dir>/kafka} is kept across restarts), provisions the
 * topics, then starts the services with {@code kafka.bootstrap.servers}, {@code data.dir} and
 * {@code <name>.data.dir} ({@code <data-dir>/<name>}) set.
 * When both the identity service and the node agent are on the class path (and no agent attestation
 * is configured), the agent starts last: the stack asks identity's REST API for a join token for node
 * {@code local}, the CA roots and the signing port, writes the first two under {@code <data-dir>/agent/}
 * and points the agent at them (on a launcher of its own, because its configuration depends on
 * identity's bound ports). Likewise the config distributor (unless its TLS is configured) starts after
 * identity with {@code distributor.identity.url} set: it makes its own key and gets its SVID
 * {@code spiffe://<td>/lattice/distributor} from identity's {@code POST /v1/control-plane/svids}. {@link #awaitReady} polls every service's {@code /readyz} until all answer 200. {@link #close} stops
 * services, then the broker, within about ten seconds.
 *
 * <p>Thread-safe for one starter and one closer (the shutdown hook). The creator closes it.
 */
public final class LocalStack implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(LocalStack.class);
  private static final Duration BROKER_SHUTDOWN = Duration.ofSeconds(4);
  private static final String SERVICE_SHUTDOWN = "5s";
  private static final String IDENTITY = "identity";
  private static final String AGENT = "agent";
  /** The node id the local agent attests as, on every start. */
  static final String LOCAL_NODE_ID = "local";
  private static final String DISTRIBUTOR = "distributor";
  /** Configured, these say the distributor has its own TLS setup: the stack then leaves it alone. */
  private static final List<String> DISTRIBUTOR_TLS_KEYS =
      List.of("distributor.identity.url", "distributor.tls.cert", "distributor.grpc.plaintext");
  private static final List<String> AGENT_ATTESTATION_KEYS =
      List.of("agent.join.token", "agent.join.token.file", "agent.k8s.psat.file");

  private final LocalStackOptions options;
  private final PrintStream out;
  private final long beganNanos = System.nanoTime();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  private DataDirLock lock;
  private EmbeddedKafkaBroker broker;
  private String bootstrapServers;
  private ServiceLauncher launcher;
  private ServiceLauncher agentLauncher;
  private ServiceLauncher distributorLauncher;
  private List<RunningService> services = List.of();
  private LatticeConfig stackConfig;
  private LocalMesh mesh;
  private boolean closed;

  /** The --set values after the key check (aliases resolved). */
  private Map<String, String> settings = Map.of();

  private LocalStack(LocalStackOptions options, PrintStream out) {
    this.options = options;
    this.out = out;
  }

  /**
   * Starts the stack (blocking; typically a few seconds). On failure everything already started is
   * stopped again and the exception says what failed.
   *
   * @param options data dir, ports, Kafka choice
   * @param base configuration for the services (environment/YAML), before the stack's own keys
   * @param out where the endpoint table and progress lines go
   */
  public static LocalStack start(LocalStackOptions options, LatticeConfig base, PrintStream out) throws Exception {
    ServiceLauncher.ensureAvroTrustedPackages();
    LocalStack stack = new LocalStack(options, out);
    try {
      stack.startAll(base);
      stack.startSamples();
      return stack;
    } catch (Exception | Error e) {
      stack.close();
      throw e;
    }
  }

  private void startAll(LatticeConfig base) throws Exception {
    Path dataDir = options.dataDir().toAbsolutePath();
    // Unknown keys are refused before anything is touched (no lock, no wipe, no broker).
    List<LatticeService> found = discoverServices();
    settings = checkedSettings(found, options.config(), base);
    lock = DataDirLock.acquire(dataDir);
    if (options.clean()) {
      wipeExceptLock(dataDir);
      out.println("Wiped " + dataDir);
    }
    if (options.externalKafka().isPresent()) {
      bootstrapServers = options.externalKafka().get();
      out.println("Using external Kafka at " + bootstrapServers);
    } else {
      Path kafkaDir = dataDir.resolve("kafka");
      boolean existing = Files.exists(kafkaDir.resolve("meta.properties"));
      out.println((existing ? "Starting Kafka (keeping the data in " : "Starting Kafka (new data dir ")
          + kafkaDir + ")");
      broker = EmbeddedKafkaBroker.builder()
          .dataDir(kafkaDir)
          .brokerPort(options.kafkaPort())
          .controllerPort(options.controllerPort())
          .shutdownTimeout(BROKER_SHUTDOWN)
          .build();
      try {
        broker.start();
      } catch (IllegalStateException e) {
        throw new IllegalStateException(e.getMessage() + (options.kafkaPort() == LocalStackOptions.KAFKA_PORT
            ? " (is another Kafka or 'lattice up' running? use --kafka=host:port to use it)" : ""), e);
      }
      bootstrapServers = broker.bootstrapServers();
    }
    ProvisioningReport report = provisionTopics();
    out.println("Topics: " + report.created().size() + " created, " + report.verified().size()
        + " already there (replication factor " + report.replicationFactor() + ")");

    LatticeConfig config = stackConfig = serviceConfig(base, dataDir, found);
    AdminTokenFile adminToken = AdminTokenFile.of(config);
    if (adminToken.createIfMissing()) {
      out.println("Admin credential created in " + adminToken.path() + " (mode 600; the lattice CLI uses it)");
    }
    launcher = ServiceLauncher.create(config);
    if (found.isEmpty()) {
      out.println("No services on the classpath (ServiceLoader found no " + LatticeService.class.getName()
          + "): running Kafka and the topics only");
    }
    Optional<LatticeService> agent = found.stream().filter(s -> s.name().equals(AGENT)).findFirst();
    boolean identityHere = found.stream().anyMatch(s -> s.name().equals(IDENTITY));
    boolean bootstrapAgent = agent.isPresent() && identityHere
        && AGENT_ATTESTATION_KEYS.stream().noneMatch(k -> config.find(k).isPresent());
    Optional<LatticeService> distributor = found.stream().filter(s -> s.name().equals(DISTRIBUTOR)).findFirst();
    boolean bootstrapDistributor = distributor.isPresent() && identityHere
        && DISTRIBUTOR_TLS_KEYS.stream().noneMatch(k -> config.find(k).isPresent());
    if (!bootstrapAgent && !bootstrapDistributor) {
      services = launcher.start(found).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
      return;
    }
    // The node agent and the distributor need identity's (maybe ephemeral) ports, the agent a join token and
    // the CA roots: start everything else first, ask identity over its REST API, then start them.
    List<LatticeService> first = found.stream()
        .filter(s -> !(bootstrapAgent && s == agent.get()) && !(bootstrapDistributor && s == distributor.get())).toList();
    List<RunningService> started = new ArrayList<>(
        launcher.start(first).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS));
    RunningService identity = started.stream().filter(s -> s.name().equals(IDENTITY)).findFirst().orElseThrow();
    if (bootstrapDistributor) {
      // its SVID spiffe://<td>/lattice/distributor: minted by identity for the distributor's own key (CSR)
      io.vertx.core.json.JsonObject endpoints = new io.vertx.core.json.JsonObject(
          call(identity, HttpRequest.newBuilder(identity.url("/v1/endpoints")).GET()));
      distributorLauncher = ServiceLauncher.create(config.with("distributor.identity.url", identity.baseUrl().toString())
          .withDefaults(Map.of("distributor.tls.trust-domain", endpoints.getString("trustDomain"))));
      started.add(distributorLauncher.start(distributor.get()).toCompletionStage().toCompletableFuture()
          .get(60, TimeUnit.SECONDS));
    }
    if (bootstrapAgent) {
      LatticeConfig agentConfig = bootstrapAgent(identity, dataDir, config);
      agentLauncher = ServiceLauncher.create(agentConfig);
      started.add(agentLauncher.start(agent.get()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS));
    }
    services = List.copyOf(started);
  }

  /**
   * Local bootstrap of the node agent through the identity service's API only: a join token for the
   * fixed node id ({@code local.agent.node.id}, default {@value #LOCAL_NODE_ID}, so a restart re-attests as
   * the same node), the CA roots as PEM, and where the signing API listens. The token and roots go to
   * {@code <data-dir>/agent/} (token file mode 600); returns the agent's configuration.
   */
  private LatticeConfig bootstrapAgent(RunningService identity, Path dataDir, LatticeConfig config) throws Exception {
    Path agentDir = dataDir.resolve(AGENT);
    Files.createDirectories(agentDir);
    String nodeId = config.get("local.agent.node.id", LOCAL_NODE_ID);
    io.vertx.core.json.JsonObject endpoints = new io.vertx.core.json.JsonObject(
        call(identity, HttpRequest.newBuilder(identity.url("/v1/endpoints")).GET()));
    String rootsPem = call(identity, HttpRequest.newBuilder(identity.url("/v1/bundle.pem")).GET());
    String body = new io.vertx.core.json.JsonObject().put("ttl", "10m").put("nodeId", nodeId).encode();
    io.vertx.core.json.JsonObject token = new io.vertx.core.json.JsonObject(call(identity,
        HttpRequest.newBuilder(identity.url("/v1/tokens")).header("Content-Type", "application/json")
            .header("Authorization", "Bearer " + AdminTokenFile.of(config).tokens().get(0))
            .POST(HttpRequest.BodyPublishers.ofString(body))));
    Path bundleFile = agentDir.resolve("bundle.pem");
    Path tokenFile = agentDir.resolve("join-token");
    AtomicFiles.writePrivate(bundleFile, rootsPem);
    AtomicFiles.writePrivate(tokenFile, token.getString("token") + "\n");
    out.println("Node agent: join token for " + token.getString("spiffeId") + " written to " + tokenFile);
    Map<String, String> agentDefaults = new LinkedHashMap<>();
    agentDefaults.put("agent.socket", agentDir.resolve("workload.sock").toString());
    agentDefaults.put("agent.trust.domain", endpoints.getString("trustDomain"));
    // the node proxy of the local stack runs as this user: it alone may use the Delegated Identity API
    agentDefaults.put("agent.delegated.socket", agentDir.resolve("admin.sock").toString());
    currentUid().ifPresent(uid -> agentDefaults.put("agent.delegated.authorized.uids", Integer.toString(uid)));
    return config.with("agent.join.token.file", tokenFile.toString())
        .with("agent.trust.bundle.file", bundleFile.toString())
        .with("agent.server.host", endpoints.getString("signingHost"))
        .with("agent.server.port", String.valueOf(endpoints.getInteger("signingPort")))
        .withDefaults(agentDefaults);
  }

  /** This process's uid as the kernel reports it (empty where /proc is not Linux's). */
  private static java.util.Optional<Integer> currentUid() {
    try {
      return java.util.Optional.of((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return java.util.Optional.empty();
    }
  }

  private String call(RunningService service, HttpRequest.Builder request) throws IOException, InterruptedException {
    HttpResponse<String> r = http.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() / 100 != 2) {
      throw new IllegalStateException("bootstrap: " + service.name() + " answered " + r.statusCode()
          + " to " + r.request().method() + " " + r.uri().getPath() + ": " + r.body());
    }
    return r.body();
  }


  private ProvisioningReport provisionTopics() throws Exception {
    Properties props = new Properties();
    props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    props.put(AdminClientConfig.CLIENT_ID_CONFIG, "lattice-local-provisioner");
    int apiTimeoutMs = (int) Math.min(30_000, options.readyTimeout().toMillis());
    props.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(10_000, apiTimeoutMs));
    props.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, apiTimeoutMs);
    try (Admin admin = Admin.create(props)) {
      return new TopicProvisioner(admin).ensureCatalog().toCompletableFuture()
          .get(apiTimeoutMs + 10_000L, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("could not provision topics on Kafka " + bootstrapServers + ": "
          + e.getCause().getMessage(), e.getCause());
    }
  }

  /**
   * {@code --samples} ({@code local.samples=true}): the node proxy of node {@code local} with the sample workloads
   * behind it and steady traffic ({@code local.samples.rate} requests per second, default 2), after the services.
   */
  private void startSamples() throws Exception {
    if (!stackConfig.getBoolean(SAMPLES_KEY, false)) {
      return;
    }
    LocalMesh.Settings settings = new LocalMesh.Settings(KafkaClientConfig.from(stackConfig, "data-plane"),
        AdminTokenFile.of(stackConfig), options.dataDir().toAbsolutePath(), options.ephemeralPorts(),
        stackConfig.getInt(SAMPLES_RATE_KEY, 2));
    mesh = LocalMesh.start(settings, out);
    out.println("Samples: frontend → catalog → ratings v1/v2 through the node proxy (frontend at " + mesh.frontend()
        + ", Istio metrics on " + mesh.adminUrl() + "/stats/prometheus, a FlowRecord per hop on lattice.flows.v1)");
  }

  /** The meshed samples ({@code --samples}), or empty. */
  Optional<LocalMesh> mesh() {
    return Optional.ofNullable(mesh);
  }

  static final String SAMPLES_KEY = "local.samples";
  static final String SAMPLES_RATE_KEY = "local.samples.rate";

  /** The keys the stack itself reads (besides the kit's and the services'). */
  static final ConfigKeys LOCAL_KEYS = ConfigKeys.of("local.agent.node.id", SAMPLES_KEY, SAMPLES_RATE_KEY);

  /** Every key the stack and {@code services} read. */
  static ConfigKeys knownKeys(List<LatticeService> services) {
    ConfigKeys known = ConfigKeys.kit(services.stream().map(LatticeService::name).toList()).and(LOCAL_KEYS);
    for (LatticeService s : services) {
      known = known.and(s.configKeys());
    }
    return known;
  }

  /** The keys that ship with Lattice (every service on the classpath), for docs and tests. */
  static ConfigKeys knownKeys() {
    return knownKeys(discoverServices());
  }

  /**
   * {@code --set} values with aliases replaced by their keys; a key no service reads — in {@code --set}
   * or in the YAML file of {@code base} — is a {@link ConfigException} naming the nearest known key.
   * (Environment variables are not checked: {@code LATTICE_*} also holds the CLI's own settings.)
   */
  static Map<String, String> checkedSettings(List<LatticeService> services, Map<String, String> set, LatticeConfig base) {
    ConfigKeys known = knownKeys(services);
    Map<String, String> fromFile = new LinkedHashMap<>();
    base.asMap().forEach((k, v) -> {
      if (base.sourceOf(k).startsWith("file ")) {
        fromFile.put(k, v);
      }
    });
    List<String> problems = new ArrayList<>();
    Map<String, String> checked = new LinkedHashMap<>();
    try {
      checked = known.check(set, "--set");
    } catch (ConfigException e) {
      problems.add(e.getMessage());
    }
    try {
      known.check(fromFile, "config file");
    } catch (ConfigException e) {
      problems.add(e.getMessage());
    }
    if (!problems.isEmpty()) {
      throw new ConfigException(String.join("; ", problems));
    }
    return checked;
  }

  private static List<LatticeService> discoverServices() {
    List<LatticeService> found = new ArrayList<>();
    try {
      ServiceLoader.load(LatticeService.class).forEach(found::add);
    } catch (ServiceConfigurationError e) {
      throw new IllegalStateException("a service on the classpath cannot be loaded: " + e.getMessage(), e);
    }
    found.sort(Comparator.comparingInt(LatticeService::defaultHttpPort).thenComparing(LatticeService::name));
    return found;
  }

  private LatticeConfig serviceConfig(LatticeConfig base, Path dataDir, List<LatticeService> found) {
    LatticeConfig config = base;
    for (Map.Entry<String, String> e : settings.entrySet()) {
      config = config.with(e.getKey(), e.getValue());
    }
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("data.dir", dataDir.toString());
    // The admin credential every service's writes require; the CLI finds it there by itself.
    defaults.put(AdminTokenFile.CONFIG_KEY, AdminTokenFile.inDataDir(dataDir).path().toString());
    defaults.put("shutdown.timeout", SERVICE_SHUTDOWN);
    // Kafka Streams state (RocksDB) belongs to this data dir too, not to the working directory: two
    // stacks started from one directory would otherwise share (and corrupt) it.
    defaults.put("kafka.streams.state.dir", dataDir.resolve("streams").toString());
    // Each service keeps its files under <data-dir>/<name> unless configured otherwise.
    found.forEach(s -> defaults.put(s.name() + ".data.dir", dataDir.resolve(s.name()).toString()));
    config = config.with("kafka.bootstrap.servers", bootstrapServers).withDefaults(defaults);
    if (options.ephemeralPorts()) {
      config = config.with("ports.ephemeral", "true");
      for (LatticeService s : found) {
        config = config.with(s.name() + ".http.port", "0");
      }
    }
    return config;
  }

  /**
   * Polls every service's {@code /readyz} until all answer 200, then prints the table and a line with
   * {@code ready} and the elapsed seconds.
   *
   * @return time since {@link #start} began
   * @throws TimeoutException after the options' ready timeout, naming what is not ready
   */
  public Duration awaitReady() throws TimeoutException, InterruptedException {
    long waitBegan = System.nanoTime();
    long deadline = waitBegan + options.readyTimeout().toNanos();
    long progressAt = waitBegan + TimeUnit.SECONDS.toNanos(5);
    Map<RunningService, String> state = readinessOf(services);
    while (!allReady(state)) {
      long now = System.nanoTime();
      if (now > deadline) {
        printTable(state);
        throw new TimeoutException("not ready after " + options.readyTimeout().toSeconds() + " s: "
            + String.join("; ", notReady(state)));
      }
      if (now > progressAt) {
        // A slow start: show what is still pending once, then keep waiting.
        printTable(state);
        progressAt = Long.MAX_VALUE;
      }
      Thread.sleep(200);
      state = readinessOf(services);
    }
    Duration elapsed = Duration.ofNanos(System.nanoTime() - beganNanos);
    printTable(state);
    writeEndpoints();
    return elapsed;
  }

  /** Kafka's {@code host:port}. */
  public String bootstrapServers() {
    return bootstrapServers;
  }

  /** The running services with their bound ports. */
  public List<RunningService> services() {
    return services;
  }

  private Map<RunningService, String> readinessOf(List<RunningService> running) {
    Map<RunningService, String> state = new LinkedHashMap<>();
    for (RunningService s : running) {
      state.put(s, probe(s.url("/readyz")));
    }
    return state;
  }

  /** "ready", or why not. */
  private String probe(URI readyz) {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(readyz).timeout(Duration.ofSeconds(3)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 200) return "ready";
      return "not ready: " + failingChecks(r.body());
    } catch (IOException e) {
      return "down: " + e;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  private static String failingChecks(String body) {
    try {
      io.vertx.core.json.JsonObject json = new io.vertx.core.json.JsonObject(body);
      io.vertx.core.json.JsonArray failing = json.getJsonArray("failing");
      if (failing != null) {
        List<String> reasons = new ArrayList<>();
        failing.forEach(f -> reasons.add(String.valueOf(f)));
        return String.join("; ", reasons);
      }
    } catch (RuntimeException notJson) {
      // fall through to the raw body
    }
    return body.length() > 200 ? body.substring(0, 200) : body;
  }

  private static boolean allReady(Map<RunningService, String> state) {
    return state.values().stream().allMatch("ready"::equals);
  }

  private static List<String> notReady(Map<RunningService, String> state) {
    List<String> out = new ArrayList<>();
    state.forEach((s, v) -> {
      if (!"ready".equals(v)) out.add(s.name() + " " + v);
    });
    return out;
  }

  private void printTable(Map<RunningService, String> state) {
    TableWriter table = new TableWriter("service", "url", "readiness");
    table.row("kafka", bootstrapServers, broker != null ? "up (embedded)" : "external");
    state.forEach((s, readiness) -> {
      table.row(s.name(), s.baseUrl(), readiness);
      if (s.name().equals("telemetry")) {
        // the page users open first; served by the telemetry pipeline itself
        table.row("dashboard", s.baseUrl().resolve("/dashboard/"), readiness);
      }
    });
    if (mesh != null) {
      table.row("proxy (node local)", mesh.adminUrl(), probe(mesh.adminUrl().resolve("/ready")));
    }
    PrintWriter writer = new PrintWriter(out, true);
    table.print(writer);
  }

  private void writeEndpoints() {
    Map<String, URI> urls = new LinkedHashMap<>();
    services.forEach(s -> urls.put(s.name(), s.baseUrl()));
    try {
      new ServiceEndpoints(urls, bootstrapServers, "lattice up")
          .write(options.dataDir().resolve(ServiceEndpoints.FILE_NAME));
    } catch (IOException e) {
      LOG.warn("could not write {}: {}", ServiceEndpoints.FILE_NAME, e.getMessage());
    }
  }

  /**
   * Stops the services (bounded by {@code shutdown.timeout}, 5 s here), then the broker (4 s), then
   * releases the data-dir lock. Idempotent; blocking.
   */
  @Override
  public synchronized void close() {
    if (closed) return;
    closed = true;
    if (lock == null) {
      // This stack never owned the data dir (another 'lattice up' holds it): touch nothing in it.
      return;
    }
    try {
      Files.deleteIfExists(options.dataDir().resolve(ServiceEndpoints.FILE_NAME));
    } catch (IOException e) {
      LOG.warn("could not delete {}: {}", ServiceEndpoints.FILE_NAME, e.getMessage());
    }
    if (mesh != null) mesh.close();
    if (agentLauncher != null) agentLauncher.close();
    if (distributorLauncher != null) distributorLauncher.close();
    if (launcher != null) launcher.close();
    if (broker != null) broker.close();
    try {
      lock.close();
    } catch (IOException e) {
      LOG.warn("could not release the data-dir lock: {}", e.getMessage());
    }
  }

  /**
   * Wipes a data dir Lattice created (it holds {@link DataDirLock#MARKER}); refuses, deleting nothing,
   * a dir without the marker that holds anything besides the lock, naming what it holds.
   */
  private static void wipeExceptLock(Path dataDir) throws IOException {
    Path lockFile = dataDir.resolve(DataDirLock.FILE_NAME);
    Path marker = dataDir.resolve(DataDirLock.MARKER);
    if (!Files.exists(marker)) {
      List<String> foreign;
      try (java.util.stream.Stream<Path> entries = Files.list(dataDir)) {
        foreign = entries.filter(p -> !p.equals(lockFile)).map(p -> p.getFileName().toString()).sorted().toList();
      }
      if (!foreign.isEmpty()) {
        throw new IllegalStateException("refusing to wipe " + dataDir + ": it has no Lattice marker file ("
            + DataDirLock.MARKER + "), so these may not be Lattice's: " + String.join(", ", foreign)
            + " (delete them yourself, or pass --data-dir=<a new or empty dir>)");
      }
    }
    Files.walkFileTree(dataDir, new SimpleFileVisitor<>() {
      @Override
      public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
        if (!file.equals(lockFile) && !file.equals(marker)) Files.delete(file);
        return FileVisitResult.CONTINUE;
      }

      @Override
      public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
        if (!dir.equals(dataDir)) Files.delete(dir);
        return FileVisitResult.CONTINUE;
      }
    });
  }

  /** {@code ./lattice up …}: starts the stack, waits for ready, runs until Ctrl-C. */
  public static void main(String[] args) {
    ServiceLauncher.ensureAvroTrustedPackages();
    CommandLine cli = new CommandLine(new Root()).addSubcommand(new Up());
    cli.setParameterExceptionHandler((ex, a) -> {
      ex.getCommandLine().getErr().println("error: " + ex.getMessage());
      ex.getCommandLine().getErr().println("Run 'lattice up --help' for usage.");
      return 2;
    });
    int code = cli.execute(args);
    if (code != 0) System.exit(code);
  }

  @Command(name = "lattice", description = "Runs the local stack: lattice up.")
  static final class Root implements java.util.concurrent.Callable<Integer> {
    @Override
    public Integer call() {
      new CommandLine(this).addSubcommand(new Up()).usage(System.err);
      return 2;
    }
  }

  @Command(name = "up",
      description = {"Run Kafka, the topics and every Lattice service in this JVM until Ctrl-C.",
          "Kafka on 127.0.0.1:9092 (controller 9093), services on their fixed ports (see README)."})
  static final class Up implements java.util.concurrent.Callable<Integer> {
    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    boolean help;

    @Option(names = "--clean", description = "Wipe the data dir first (all events are lost).")
    boolean clean;

    @Option(names = "--kafka", paramLabel = "host:port", description = "Use this Kafka instead of the embedded broker.")
    String kafka;

    @Option(names = "--data-dir", defaultValue = ".lattice", description = "State directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--ephemeral-ports", description = "Bind Kafka and the services to free ports instead of the fixed ones.")
    boolean ephemeralPorts;

    @Option(names = "--samples", description = "Also run the node proxy with the sample workloads behind it and steady traffic (docs/samples.md).")
    boolean samples;

    @Option(names = "--set", paramLabel = "key=value", description = "Extra service configuration, repeatable, e.g. --set identity.trust.domain=example.org (an unknown key is refused, naming the nearest known one).")
    Map<String, String> set = new LinkedHashMap<>();

    @Override
    public Integer call() throws Exception {
      if (kafka != null && !kafka.matches("[^:,\\s]+:\\d+(,[^:,\\s]+:\\d+)*")) {
        System.err.println("error: --kafka '" + kafka + "' (expected: host:port[,host:port…])");
        return 2;
      }
      LocalStackOptions options = new LocalStackOptions(dataDir, clean, java.util.Optional.ofNullable(kafka),
          ephemeralPorts ? 0 : LocalStackOptions.KAFKA_PORT, ephemeralPorts ? 0 : LocalStackOptions.CONTROLLER_PORT,
          ephemeralPorts, samples ? withSamples(set) : set, Duration.ofSeconds(90));
      LatticeConfig base;
      try {
        base = LatticeConfig.load(List.of(), System.getenv());
      } catch (dev.lattice.kit.config.ConfigException e) {
        System.err.println("error: " + e.getMessage());
        return 2;
      }
      LocalStack stack;
      try {
        stack = LocalStack.start(options, base, System.out);
      } catch (ConfigException e) {
        System.err.println("error: " + e.getMessage());
        return 2;
      } catch (Exception e) {
        System.err.println("error: " + rootMessage(e));
        LOG.debug("start failed", e);
        return 1;
      }
      java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        long began = System.nanoTime();
        System.out.println("Stopping Lattice…");
        stack.close();
        System.out.printf("Lattice stopped in %.1f s%n", (System.nanoTime() - began) / 1e9);
        System.out.flush();
        stopped.countDown();
      }, "lattice-stop"));
      try {
        stack.awaitReady();
        double sinceJvmStart = java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime() / 1000.0;
        System.out.printf("Lattice is ready in %.1f s: Kafka at %s, %d service(s). Ctrl-C to stop.%n",
            sinceJvmStart, stack.bootstrapServers(), stack.services().size());
      } catch (TimeoutException e) {
        System.out.println("Not ready yet: " + e.getMessage() + " (still running; check 'lattice status')");
      }
      System.out.flush();
      stopped.await();
      return 0;
    }
  }

  private static Map<String, String> withSamples(Map<String, String> set) {
    Map<String, String> m = new LinkedHashMap<>(set);
    m.put(SAMPLES_KEY, "true");
    return m;
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while ((t instanceof java.util.concurrent.ExecutionException || t.getMessage() == null) && t.getCause() != null) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
