package dev.lattice.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.events.ConfigStatus;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.topic.TopicCatalog;
import dev.lattice.schemas.serde.AvroSerde;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole local stack in-process on a real embedded broker: ready, an event published, stopped,
 * started again on the same data dir, the event still there; {@code clean} wipes it.
 */
class LocalStackTest {

  private static final String TOPIC = TopicCatalog.CONFIG_STATUS.name();
  private static final int TOPICS = TopicCatalog.allTopics().size();

  @TempDir Path tmp;

  private final ByteArrayOutputStream output = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(output, true, StandardCharsets.UTF_8);
  private final HttpClient http = HttpClient.newHttpClient();

  private static ConfigStatus status(String node) {
    return ConfigStatus.newBuilder().setNode(node).setAckedVersions(Map.of("CLUSTER", "v1"))
        .setConnected(true).setUpdatedAt(Instant.now().truncatedTo(ChronoUnit.MILLIS)).build();
  }

  @Test
  void eventsSurviveARestartOnTheSameDataDirAndCleanWipesThem() throws Exception {
    LocalStackOptions options = LocalStackOptions.ephemeral(tmp.resolve(".lattice"));
    String node = "node-" + UUID.randomUUID();
    ConfigStatus published = status(node);

    try (LocalStack stack = LocalStack.start(options, LatticeConfig.empty(), out)) {
      Duration elapsed = stack.awaitReady();
      // readiness is bounded by the stack's own ready timeout; this only reports it (a loaded machine takes 90 s+)
      assertThat(elapsed).isPositive();
      assertThat(output.toString(StandardCharsets.UTF_8)).contains("Topics: " + TOPICS + " created");
      for (RunningService s : stack.services()) {
        assertThat(get(s.url("/readyz")).statusCode()).as(s.name()).isEqualTo(200);
      }
      // the endpoint table names the telemetry pipeline's dashboard, and it is served there
      RunningService telemetry = service(stack, "telemetry");
      assertThat(output.toString(StandardCharsets.UTF_8)).containsPattern(
          "dashboard +" + java.util.regex.Pattern.quote(telemetry.baseUrl().resolve("/dashboard/").toString()));
      assertThat(get(telemetry.url("/dashboard/")).statusCode()).isEqualTo(200);
      ServiceEndpoints recorded = ServiceEndpoints.read(options.dataDir().resolve(ServiceEndpoints.FILE_NAME))
          .orElseThrow();
      assertThat(recorded.kafka()).isEqualTo(stack.bootstrapServers());
      assertThat(recorded.services().keySet())
          .containsExactlyElementsOf(stack.services().stream().map(RunningService::name).toList());
      publish(stack.bootstrapServers(), node, published);

      // the node agent was bootstrapped by the stack: attested as node "local", serving this uid
      assertThat(output.toString(StandardCharsets.UTF_8)).contains("join token for " + LOCAL_NODE);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
          options.dataDir().resolve("agent").resolve("join-token")))).isEqualTo("rw-------");
      RunningService identity = service(stack, "identity");
      // writes need the admin credential: anonymous is refused, the CLI finds the token in the data dir by itself
      HttpResponse<String> anonymous = http.send(HttpRequest.newBuilder(identity.url("/v1/entries"))
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(anonymous.statusCode()).as(anonymous.body()).isEqualTo(401);
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(
          options.dataDir().resolve("admin.token")))).isEqualTo("rw-------");
      java.io.StringWriter created = new java.io.StringWriter();
      java.io.StringWriter createErr = new java.io.StringWriter();
      int createCode = dev.lattice.cli.LatticeCli.commandLine(new dev.lattice.cli.LatticeCli(Map.of()))
          .setOut(new java.io.PrintWriter(created)).setErr(new java.io.PrintWriter(createErr))
          .execute("--data-dir", options.dataDir().toString(), "entry", "create", "--spiffe-id", WORKLOAD,
              "--parent-id", LOCAL_NODE, "--selector", "unix:uid:" + myUid(), "--hint", "local");
      assertThat(createCode).as(createErr.toString()).isZero();
      assertThat(created.toString()).contains("created (" + WORKLOAD + ")");
      assertAgentServesTheWorkload(stack, options);
      assertDistributorServesANodeOverMtls(stack);
      // the CLI's `svid fetch` reads the same socket under the data dir
      java.io.StringWriter cliOut = new java.io.StringWriter();
      int code = dev.lattice.cli.LatticeCli.commandLine(new dev.lattice.cli.LatticeCli(Map.of()))
          .setOut(new java.io.PrintWriter(cliOut))
          .execute("--data-dir", options.dataDir().toString(), "svid", "fetch", "--audience", "demo");
      assertThat(code).as(cliOut.toString()).isZero();
      assertThat(cliOut.toString()).contains("spiffe id: " + WORKLOAD, "hint:      local", "chain[1]:",
          "bundle:    lattice.local (1 root(s))", "jwt-svid:  " + WORKLOAD + " aud=[demo]");
      // --write DIR: the files a non-SPIFFE-aware program (or openssl) uses
      Path written = tmp.resolve("svid-files");
      java.io.StringWriter writeOut = new java.io.StringWriter();
      int writeCode = dev.lattice.cli.LatticeCli.commandLine(new dev.lattice.cli.LatticeCli(Map.of()))
          .setOut(new java.io.PrintWriter(writeOut))
          .execute("--data-dir", options.dataDir().toString(), "svid", "fetch", "--write", written.toString());
      assertThat(writeCode).as(writeOut.toString()).isZero();
      assertThat(writeOut.toString()).contains("wrote:     " + written.resolve("key.pem") + " (mode 600)");
      assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(written.resolve("key.pem")))).isEqualTo("rw-------");
      assertThat(openssl(written, "verify", "-CAfile", "bundle.pem", "svid.pem")).isEqualTo("svid.pem: OK");
      assertThat(openssl(written, "pkey", "-pubout", "-in", "key.pem"))
          .as("the key is the SVID's").isEqualTo(openssl(written, "x509", "-noout", "-pubkey", "-in", "svid.pem"));
      assertThat(openssl(written, "x509", "-noout", "-ext", "subjectAltName", "-in", "svid.pem")).contains("URI:" + WORKLOAD);
    }
    assertThat(options.dataDir().resolve(ServiceEndpoints.FILE_NAME)).doesNotExist();
    assertThat(options.dataDir().resolve("kafka").resolve("meta.properties")).exists();

    output.reset();
    try (LocalStack again = LocalStack.start(options, LatticeConfig.empty(), out)) {
      again.awaitReady();
      assertThat(output.toString(StandardCharsets.UTF_8)).contains("keeping the data", "0 created, " + TOPICS + " already there");
      assertThat(readAll(again.bootstrapServers())).containsEntry(node, published);
      // a new join token for the same node id: the agent is node "local" again and still serves the entry
      assertAgentServesTheWorkload(again, options);
    }

    output.reset();
    try (LocalStack cleaned = LocalStack.start(options.withClean(true), LatticeConfig.empty(), out)) {
      cleaned.awaitReady();
      assertThat(output.toString(StandardCharsets.UTF_8)).contains("Wiped", "Topics: " + TOPICS + " created");
      assertThat(options.dataDir().resolve(DataDirLock.MARKER)).exists();
      assertThat(readAll(cleaned.bootstrapServers())).doesNotContainKey(node);
    }
  }

  @Test
  void aSecondStackOnTheSameDataDirIsRefused() throws Exception {
    LocalStackOptions options = LocalStackOptions.ephemeral(tmp.resolve("shared"));
    try (LocalStack first = LocalStack.start(options, LatticeConfig.empty(), out)) {
      first.awaitReady();
      Path endpoints = options.dataDir().resolve(ServiceEndpoints.FILE_NAME);
      assertThat(endpoints).exists();
      assertThatThrownBy(() -> LocalStack.start(options, LatticeConfig.empty(), out))
          .hasMessageContaining("is in use by another 'lattice up'");
      // the refused stack touched nothing: the running stack's endpoints file is still there
      assertThat(endpoints).exists();
      assertThatThrownBy(() -> LocalStack.start(options.withClean(true), LatticeConfig.empty(), out))
          .hasMessageContaining("is in use by another 'lattice up'");
      assertThat(endpoints).exists();
      assertThat(options.dataDir().resolve("kafka").resolve("meta.properties")).exists();
      assertThat(first.bootstrapServers()).isNotBlank();
    }
  }

  @Test
  void cleanRefusesADirWithoutTheLatticeMarkerAndNamesWhatItHolds() throws Exception {
    Path dir = tmp.resolve("home");
    Files.createDirectories(dir.resolve("photos"));
    Files.writeString(dir.resolve("thesis.tex"), "precious");
    LocalStackOptions options = LocalStackOptions.ephemeral(dir).withClean(true);
    assertThatThrownBy(() -> LocalStack.start(options, LatticeConfig.empty(), out))
        .hasMessageContaining("refusing to wipe")
        .hasMessageContaining(DataDirLock.MARKER)
        .hasMessageContaining("photos, thesis.tex");
    assertThat(dir.resolve("thesis.tex")).hasContent("precious");
    assertThat(dir.resolve("photos")).isDirectory();
    assertThat(dir.resolve(DataDirLock.MARKER)).doesNotExist();
    // the lock was released again
    DataDirLock.acquire(dir).close();
  }

  @Test
  void aDirLatticeCreatedCarriesTheMarkerAndCleanKeepsIt() throws Exception {
    Path dir = tmp.resolve("fresh");
    DataDirLock.acquire(dir).close();
    assertThat(dir.resolve(DataDirLock.MARKER)).exists();
    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    DataDirLock.acquire(empty).close();
    assertThat(empty.resolve(DataDirLock.MARKER)).exists();
    Path used = tmp.resolve("used");
    Files.createDirectories(used);
    Files.writeString(used.resolve("mine"), "x");
    DataDirLock.acquire(used).close();
    assertThat(used.resolve(DataDirLock.MARKER)).doesNotExist();
  }

  @Test
  void anUnreachableExternalKafkaFailsWithTheReason() throws Exception {
    int closedPort;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    LocalStackOptions options = new LocalStackOptions(tmp.resolve("external"), false,
        Optional.of("127.0.0.1:" + closedPort), 0, 0, true,
        Map.of(), Duration.ofSeconds(5));
    long began = System.nanoTime();
    assertThatThrownBy(() -> LocalStack.start(options, LatticeConfig.empty(), out))
        .hasMessageContaining("could not provision topics on Kafka 127.0.0.1:" + closedPort);
    assertThat(Duration.ofNanos(System.nanoTime() - began)).as("refused rather than hung").isLessThan(Duration.ofSeconds(120));
    // the lock was released: the same dir can be used again
    DataDirLock.acquire(options.dataDir()).close();
  }

  private static final String LOCAL_NODE = "spiffe://lattice.local/lattice/node/" + LocalStack.LOCAL_NODE_ID;
  private static final String WORKLOAD = "spiffe://lattice.local/local-test/me";

  private static RunningService service(LocalStack stack, String name) {
    return stack.services().stream().filter(s -> s.name().equals(name)).findFirst().orElseThrow();
  }

  private static long myUid() throws Exception {
    return (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
  }

  /** The agent is ready as node {@code local} and hands this process the workload's X.509-SVID. */
  /** Runs openssl in {@code dir}; its output (stdout and stderr), trimmed, after a zero exit. */
  private static String openssl(Path dir, String... args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("openssl"));
    command.addAll(List.of(args));
    Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
    String said = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", command) + ": " + said).isZero();
    return said;
  }

  private void assertAgentServesTheWorkload(LocalStack stack, LocalStackOptions options) throws Exception {
    RunningService agent = service(stack, "agent");
    io.vertx.core.json.JsonObject status = new io.vertx.core.json.JsonObject(get(agent.url("/agent/v1/status")).body());
    assertThat(status.getBoolean("enabled")).as(status.encode()).isTrue();
    assertThat(status.getJsonObject("node").getString("spiffeId")).isEqualTo(LOCAL_NODE);
    Path socket = options.dataDir().resolve("agent").resolve("workload.sock").toAbsolutePath();
    try (io.spiffe.workloadapi.DefaultX509Source source = io.spiffe.workloadapi.DefaultX509Source.newSource(
        io.spiffe.workloadapi.DefaultX509Source.X509SourceOptions.builder()
            .spiffeSocketPath("unix:" + socket).initTimeout(Duration.ofSeconds(30)).build())) {
      io.spiffe.svid.x509svid.X509Svid svid = source.getX509Svid();
      assertThat(svid.getSpiffeId().toString()).isEqualTo(WORKLOAD);
      assertThat(svid.getHint()).isEqualTo("local");
      io.spiffe.svid.x509svid.X509SvidValidator.verifyChain(svid.getChain(), source);
    }
    // the node proxy's view: the same SVID over the Delegated Identity API on the admin socket, which
    // the stack authorizes for its own uid
    Path admin = options.dataDir().resolve("agent").resolve("admin.sock").toAbsolutePath();
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      var proxy = dev.lattice.dataplane.identity.DelegatedIdentityClient.start(vertx,
          dev.lattice.dataplane.identity.DelegatedIdentityClient.Settings.defaults(admin), java.time.Clock.systemUTC(),
          List.of(dev.lattice.dataplane.identity.WorkloadSelectors.of("unix:uid:" + myUid())));
      try {
        assertThat(proxy.firstSnapshot().toCompletableFuture().get(30, TimeUnit.SECONDS).bundle("lattice.local"))
            .isNotEmpty();
        await().atMost(Duration.ofSeconds(30)).until(() -> proxy.current().svid(WORKLOAD).isPresent());
      } finally {
        proxy.close();
      }
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  /**
   * The distributor runs in the stack with its own SVID spiffe://lattice.local/lattice/distributor (minted by
   * identity for its key): a node attested with a join token connects with its node SVID over mTLS, and the
   * distributor reports it connected.
   */
  private void assertDistributorServesANodeOverMtls(LocalStack stack) throws Exception {
    RunningService distributor = service(stack, "distributor");
    RunningService identity = service(stack, "identity");
    io.vertx.core.json.JsonObject stream = new io.vertx.core.json.JsonObject(get(distributor.url("/v1/endpoints")).body());
    assertThat(stream.getString("transport")).isEqualTo("mtls");
    assertThat(stream.getString("spiffeId")).isEqualTo("spiffe://lattice.local/lattice/distributor");
    String adminToken = dev.lattice.kit.admin.AdminTokenFile.inDataDir(tmp.resolve(".lattice")).tokens().get(0);
    io.vertx.core.json.JsonObject token = new io.vertx.core.json.JsonObject(http.send(HttpRequest.newBuilder(
        identity.url("/v1/tokens")).header("Content-Type", "application/json").header("Authorization", "Bearer " + adminToken)
        .POST(HttpRequest.BodyPublishers.ofString("{\"ttl\":\"5m\",\"nodeId\":\"probe\"}")).build(),
        HttpResponse.BodyHandlers.ofString()).body());
    io.vertx.core.json.JsonObject endpoints = new io.vertx.core.json.JsonObject(get(identity.url("/v1/endpoints")).body());
    List<java.security.cert.X509Certificate> roots = java.security.cert.CertificateFactory.getInstance("X.509")
        .generateCertificates(new java.io.ByteArrayInputStream(get(identity.url("/v1/bundle.pem")).body()
            .getBytes(StandardCharsets.US_ASCII))).stream().map(java.security.cert.X509Certificate.class::cast).toList();
    io.spiffe.spiffeid.TrustDomain td = io.spiffe.spiffeid.TrustDomain.parse("lattice.local");
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      var signing = dev.lattice.identity.signing.SigningClient.create(vertx, io.vertx.core.net.SocketAddress.inetSocketAddress(
          endpoints.getInteger("signingPort"), endpoints.getString("signingHost")), td, roots);
      var keyAndCsr = dev.lattice.identity.agent.svid.KeyAndCsr.generate(null, List.of());
      var attested = signing.attestNode(dev.lattice.schemas.identity.v1.AttestNodeRequest.newBuilder()
          .setJoinToken(token.getString("token")).setCsr(com.google.protobuf.ByteString.copyFrom(keyAndCsr.csrDer())).build())
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      List<java.security.cert.X509Certificate> chain = new java.util.ArrayList<>();
      for (com.google.protobuf.ByteString der : attested.getSvid().getCertChainList()) {
        chain.add((java.security.cert.X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
            .generateCertificate(new java.io.ByteArrayInputStream(der.toByteArray())));
      }
      var nodeKeys = new dev.lattice.configclient.tls.SvidKeyManager();
      nodeKeys.update(keyAndCsr.keyPair().getPrivate(), chain);
      try (var client = dev.lattice.configclient.ConfigClient.builder(vertx, "probe")
          .endpoints(List.of(io.vertx.core.net.SocketAddress.inetSocketAddress(stream.getInteger("grpcPort"),
              stream.getString("grpcHost"))))
          .mtls(td, io.vertx.core.net.KeyCertOptions.wrap(nodeKeys), () -> roots).build()) {
        client.start();
        var cluster = dev.lattice.events.config.ClusterConfig.newBuilder().setName("probe-backend")
            .setHost("127.0.0.1").setPort(8080).build();
        dev.lattice.events.ConfigResource resource = dev.lattice.events.ConfigResource.newBuilder().setNode("probe")
            .setType(dev.lattice.events.config.ConfigType.CLUSTER).setName("probe-backend")
            .setVersion(dev.lattice.schemas.serde.CanonicalEncoding.sha256Hex(cluster)).setPayload(cluster).build();
        publishConfig(stack.bootstrapServers(), "probe/CLUSTER/probe-backend", resource);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(client.snapshot().get(dev.lattice.events.config.ConfigType.CLUSTER, "probe-backend")).isNotNull());
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
          io.vertx.core.json.JsonObject proxies = new io.vertx.core.json.JsonObject(get(distributor.url("/v1/proxies")).body());
          assertThat(proxies.getJsonArray("proxies").stream().map(io.vertx.core.json.JsonObject.class::cast)
              .filter(p -> p.getString("node").equals("probe")).findFirst()).hasValueSatisfying(p -> {
                assertThat(p.getBoolean("connected")).isTrue();
                assertThat(p.getJsonObject("types").getJsonObject("CLUSTER").getString("state")).isEqualTo("SYNCED");
              });
        });
      }
      signing.close();
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private HttpResponse<String> get(URI uri) throws Exception {
    return http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(5)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static void publishConfig(String bootstrap, String key, dev.lattice.events.ConfigResource value) throws Exception {
    Map<String, Object> props = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap, ProducerConfig.ACKS_CONFIG, "all");
    try (var serde = AvroSerde.of(dev.lattice.events.ConfigResource.class);
        var producer = new KafkaProducer<>(props, new StringSerializer(), serde.serializer())) {
      producer.send(new ProducerRecord<>(TopicCatalog.CONFIG.name(), key, value)).get(30, TimeUnit.SECONDS);
    }
  }

  private static void publish(String bootstrap, String key, ConfigStatus value) throws Exception {
    Map<String, Object> props = Map.of(
        ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    try (var serde = AvroSerde.of(ConfigStatus.class);
        var producer = new KafkaProducer<>(props, new StringSerializer(), serde.serializer())) {
      producer.send(new ProducerRecord<>(TOPIC, key, value)).get(30, TimeUnit.SECONDS);
    }
  }

  /** Every record of the topic from the beginning, decoded, latest per key. */
  private static Map<String, ConfigStatus> readAll(String bootstrap) {
    Map<String, Object> props = Map.of(
        ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    Map<String, ConfigStatus> seen = new HashMap<>();
    try (var serde = AvroSerde.of(ConfigStatus.class);
        var consumer = new KafkaConsumer<>(props, new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(TOPIC, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(TOPIC, p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      await().atMost(Duration.ofSeconds(30)).until(() -> {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          seen.put(r.key(), serde.deserializer().deserialize(TOPIC, r.value()));
        }
        return partitions.stream().allMatch(tp -> consumer.position(tp) >= end.get(tp));
      });
    }
    return seen;
  }
}
