package dev.lattice.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.configclient.ConfigClient;
import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.dataplane.NodeProxy;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.config.StreamedConfig;
import dev.lattice.dataplane.identity.FileIdentitySource;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.distributor.ConfigDistributorService;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.policy.PolicyService;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole chain on real parts (issue 9 item 10): a workload registered and an AuthorizationPolicy applied
 * through the policy service's REST API → the compiler's per-node config on Kafka → the config distributor →
 * gRPC over mTLS (SVIDs from a test SPIFFE CA) → the node proxy's config client → real requests through the
 * compiled outbound listener into the compiled inbound listener, where the policy decides → FlowRecords on
 * {@code lattice.flows.v1} with the verdict and the deciding policy, agreeing with {@code /v1/explain}.
 * Applying a change (the DENY deleted) reaches the proxy without a restart.
 *
 * <p>The compiled inbound listener has no route to the local workload yet (the compiler names none), so a
 * request authorization lets through ends at the proxy as 404 {@code NR}: this test asserts the decision, not
 * the workload's answer.
 */
@LatticeKafkaTest
class PolicyToProxyEndToEndTest {
  private static final String TD = "lattice.local";
  private static final String NODE = "node-a";
  /** The workload's own loopback address (the inbound listener binds it, as ztunnel binds pod IPs). */
  private static final String WORKLOAD_IP = "127.0.0.61";
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  private final TestSpiffeCa ca = TestSpiffeCa.create(TD);
  private final List<ServiceLauncher> launchers = new ArrayList<>();
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private Vertx vertx;
  private ConfigClient client;
  private NodeProxy proxy;

  @AfterEach
  void tearDown() throws Exception {
    if (client != null) {
      client.close();
    }
    if (proxy != null) {
      proxy.close().await(20, TimeUnit.SECONDS);
    }
    for (ServiceLauncher l : launchers) {
      l.stop().await(30, TimeUnit.SECONDS);
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  private RunningService policy;
  private SocketAddress distributor;
  private AdminTokenFile admin;
  private String flows;
  private long flowsFrom;

  /** Kafka topics, the policy service (compiler on) and the distributor (mTLS), on this test's own topics. */
  private void startControlPlane(KafkaCluster kafka) throws Exception {
    vertx = Vertx.vertx();
    String configTopic = kafka.createTopic(kafka.uniqueTopic("config"), 1, Map.of("cleanup.policy", "compact"));
    kafka.createTopic(configTopic + ".dlq", 1, Map.of());
    flows = LatticeTopics.FLOWS.name();
    if (!kafka.adminClient().listTopics().names().get().contains(flows)) {
      kafka.createTopic(flows, 1, Map.of());
    }
    flowsFrom = endOffset(kafka, flows);
    admin = AdminTokenFile.at(dir.resolve(AdminTokenFile.FILE_NAME));
    admin.createIfMissing();
    policy = startPolicy(kafka, configTopic, admin);
    distributor = startDistributor(kafka, configTopic);
  }

  private void register(String workload, String address, String node, JsonArray ports) throws Exception {
    HttpResponse<String> registered = send(policy, admin, "PUT", "/v1/registry/shop/" + workload + "/vm-1", new JsonObject()
        .put("services", new JsonArray().add(workload)).put("address", address).put("node", node)
        .put("serviceAccount", workload).put("labels", new JsonObject().put("app", workload).put("version", "v1"))
        .put("ports", ports).encode(), "application/json");
    assertThat(registered.statusCode()).as(registered.body()).isBetween(200, 204);
  }

  private static JsonArray httpPort(int port, int targetPort) {
    return new JsonArray().add(new JsonObject().put("name", "http").put("port", port).put("targetPort", targetPort)
        .put("protocol", "HTTP"));
  }

  /** The node proxy of {@link #NODE}: the node's SVID for inbound mesh mTLS (PERMISSIVE by default), config from the distributor. */
  private ProxySettings startNodeProxy(KafkaCluster kafka) throws Exception {
    TestSvid nodeSvid = ca.issue("spiffe://" + TD + "/lattice/node/" + NODE);
    Path cert = Files.writeString(dir.resolve("node.crt"), nodeSvid.certPem());
    Path key = Files.writeString(dir.resolve("node.key"), nodeSvid.keyPem());
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), ca.rootPem());
    ProxySettings settings = ProxySettings.defaults(NODE);
    ProxyServerOptions serverOptions = ProxyServerOptions.defaults().withIdentitySource(FileIdentitySource.load(
        List.of(new FileIdentitySource.SvidFiles(cert, key)), Map.of(TD, bundle)));
    proxy = NodeProxy.start(vertx, ProxyConfig.of("empty", settings, List.of(), List.of(), List.of(), List.of(), List.of()),
            NodeProxy.Options.admin(0, admin).withServer(serverOptions)
                .withKafka(KafkaClientConfig.of(kafka.bootstrapServers(), "data-plane")))
        .await(30, TimeUnit.SECONDS);
    client = ConfigClient.builder(vertx, NODE).endpoints(List.of(distributor))
        .mtls(TrustDomain.parse(TD), KeyCertOptions.wrap(nodeSvid.keyManager()), () -> List.of(ca.root()))
        .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
        .listener(snapshot -> apply(snapshot, settings))
        .build();
    client.start().await(30, TimeUnit.SECONDS);
    return settings;
  }
  private Map<String, List<FlowRecord>> awaitFlows(KafkaCluster kafka, Map<String, Integer> expected) {
    Map<String, List<FlowRecord>> byRequest = new HashMap<>();
    await().atMost(WAIT).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
      byRequest.clear();
      for (FlowRecord f : readFrom(kafka, flows, flowsFrom)) {
        byRequest.computeIfAbsent(f.getRequestId(), k -> new ArrayList<>()).add(f);
      }
      expected.forEach((id, n) -> assertThat(byRequest.get(id)).as(id).hasSize(n));
    });
    return byRequest;
  }

  private RouteConfig outboundRoute() {
    ListenerConfig outbound = outboundListener();
    return proxy.server().config().routes().get(outbound.getRouteConfig());
  }

  private ListenerConfig outboundListener() {
    return proxy.server().config().listeners().values().stream()
        .filter(l -> l.getDirection() == TrafficDirection.OUTBOUND).findFirst().orElseThrow();
  }

  @Test
  void aRegisteredServiceReachesTheNodeProxyAndItsTrafficIsAFlowRecord(KafkaCluster kafka) throws Exception {
    startControlPlane(kafka);
    int servicePort = freePort("127.0.0.1");
    int targetPort = freePort(WORKLOAD_IP);
    // ratings runs on node-b (a real backend on its address); node-a hosts a caller, so it receives ratings' outbound config
    io.vertx.core.http.HttpServer backend = vertx.createHttpServer()
        .requestHandler(req -> req.response().putHeader("content-type", "application/json").end("{\"stars\":4}"))
        .listen(targetPort, WORKLOAD_IP).await(10, TimeUnit.SECONDS);
    register("ratings", WORKLOAD_IP, "node-b", httpPort(servicePort, targetPort));
    register("frontend", "127.0.0.62", NODE, new JsonArray());
    // node-b runs no proxy here: ratings takes plaintext, so node-a must not originate mesh mTLS to it
    HttpResponse<String> plaintext = send(policy, admin, "POST", "/v1/resources", """
        apiVersion: lattice.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: ratings-plaintext, namespace: shop}
        spec:
          selector: {matchLabels: {app: ratings}}
          mtls: {mode: DISABLE}
        """, "application/yaml");
    assertThat(plaintext.statusCode()).as(plaintext.body()).isBetween(200, 201);
    startNodeProxy(kafka);

    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> listeners(TrafficDirection.OUTBOUND) == 1
        && client.acks() > 0 && proxy.server().config().clusters().values().stream().noneMatch(c -> c.getMtls()));
    ListenerConfig outbound = outboundListener();
    assertThat(outbound.getName()).isEqualTo("outbound|" + servicePort + "|ratings.shop");
    String host = outboundRoute().getVirtualHosts().get(0).getDomains().get(0);
    InetSocketAddress out = proxy.server().address(outbound.getName());
    String id = "e2e-outbound-" + UUID.randomUUID();
    assertThat(get(out, host, "/ratings/1", id)).isEqualTo(200);
    assertThat(client.nacks()).isZero();

    FlowRecord f = awaitFlows(kafka, Map.of(id, 1)).get(id).get(0);
    assertThat(f.getNode()).isEqualTo(NODE);
    assertThat(f.getDirection()).isEqualTo(FlowDirection.OUTBOUND);
    assertThat(f.getVerdict()).isEqualTo(FlowVerdict.FORWARDED);
    assertThat(f.getL7().getHttpStatus()).isEqualTo(200);
    assertThat(f.getL7().getHost()).isEqualTo(host);
    assertThat(f.getL7().getRoute()).isNotBlank();
    assertThat(f.getDestination().getWorkload()).isEqualTo("ratings");
    assertThat(f.getDestination().getNamespace()).isEqualTo("shop");
    assertThat(f.getDestination().getIp()).isEqualTo(WORKLOAD_IP);
    assertThat(f.getDestination().getPort()).isEqualTo(targetPort);
    assertThat(f.getTraceId()).hasSize(32);

    // the service moves (a new target port): the registry change reaches the proxy without a restart
    int movedPort = freePort(WORKLOAD_IP);
    io.vertx.core.http.HttpServer moved = vertx.createHttpServer()
        .requestHandler(req -> req.response().end("moved")).listen(movedPort, WORKLOAD_IP).await(10, TimeUnit.SECONDS);
    backend.close().await(10, TimeUnit.SECONDS);
    register("ratings", WORKLOAD_IP, "node-b", httpPort(servicePort, movedPort));
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
        .until(() -> get(out, host, "/ratings/1", "e2e-moved-" + UUID.randomUUID()) == 200);
    moved.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void anAppliedPolicyDecidesRealTrafficOnTheNodeProxyAndEveryDecisionIsAFlowRecord(KafkaCluster kafka) throws Exception {
    startControlPlane(kafka);
    int servicePort = freePort("127.0.0.1");
    int targetPort = freePort(WORKLOAD_IP);
    register("ratings", WORKLOAD_IP, NODE, httpPort(servicePort, targetPort));
    // the workload itself, behind the node's inbound listener (which takes WORKLOAD_IP:targetPort)
    io.vertx.core.http.HttpServer workload = vertx.createHttpServer()
        .requestHandler(req -> req.response().end("ratings " + req.path()))
        .listen(targetPort, "127.0.0.1").await(10, TimeUnit.SECONDS);
    HttpResponse<String> applied = send(policy, admin, "POST", "/v1/resources", """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: deny-admin, namespace: shop}
        spec:
          selector: {matchLabels: {app: ratings}}
          action: DENY
          rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
        """, "application/yaml");
    assertThat(applied.statusCode()).as(applied.body()).isBetween(200, 201);
    // issue 9: AUDIT and dry-run never change the answer, and both are visible in the flow records
    HttpResponse<String> shadows = send(policy, admin, "POST", "/v1/resources", """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: audit-ratings, namespace: shop}
        spec:
          selector: {matchLabels: {app: ratings}}
          action: AUDIT
          rules: [{to: [{operation: {paths: ["/ratings/*"]}}]}]
        ---
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata:
          name: dry-deny-two
          namespace: shop
          annotations: {lattice.dev/dry-run: "true"}
        spec:
          selector: {matchLabels: {app: ratings}}
          action: DENY
          rules: [{to: [{operation: {paths: ["/ratings/2"]}}]}]
        """, "application/yaml");
    assertThat(shadows.statusCode()).as(shadows.body()).isBetween(200, 201);
    startNodeProxy(kafka);

    await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).until(() -> listeners(TrafficDirection.INBOUND) == 1
        && listeners(TrafficDirection.OUTBOUND) == 1 && client.acks() > 0);
    String host = outboundRoute().getVirtualHosts().get(0).getDomains().get(0);
    InetSocketAddress out = proxy.server().address(outboundListener().getName());

    // the policy reaches the proxy: /admin/* denied at the inbound listener, the rest let through
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
        .until(() -> get(out, host, "/admin/users", "e2e-denied-" + UUID.randomUUID()) == 403);
    String allowedId = "e2e-allowed-" + UUID.randomUUID();
    assertThat(get(out, host, "/ratings/1", allowedId)).as("authorized, and served by the workload").isEqualTo(200);
    String deniedId = "e2e-denied-final";
    assertThat(get(out, host, "/admin/users", deniedId)).isEqualTo(403);
    String dryId = "e2e-dry-run-" + UUID.randomUUID();
    assertThat(get(out, host, "/ratings/2", dryId)).as("a dry-run DENY is not enforced").isEqualTo(200);

    // explain decides alike on the same request
    HttpResponse<String> explained = send(policy, admin, "POST", "/v1/explain", new JsonObject().put("to", "ratings.shop")
        .put("port", servicePort).put("method", "GET").put("path", "/admin/users").encode(), "application/json");
    assertThat(explained.statusCode()).as(explained.body()).isEqualTo(200);
    assertThat(new JsonObject(explained.body()).getJsonArray("decisions").getJsonObject(0).encode()).contains("shop/deny-admin");

    // each request crossed the proxy twice: outbound listener, then the destination's inbound listener
    Map<String, List<FlowRecord>> byRequest = awaitFlows(kafka, Map.of(deniedId, 2, allowedId, 2, dryId, 2));
    FlowRecord deniedIn = direction(byRequest.get(deniedId), FlowDirection.INBOUND);
    assertThat(deniedIn.getNode()).isEqualTo(NODE);
    assertThat(deniedIn.getVerdict()).isEqualTo(FlowVerdict.DROPPED);
    assertThat(deniedIn.getPolicy()).isEqualTo("shop/deny-admin");
    assertThat(deniedIn.getPolicyReason()).isEqualTo("deny_matched");
    assertThat(deniedIn.getResponseFlags()).containsExactly("RBAC");
    assertThat(deniedIn.getL7().getHttpStatus()).isEqualTo(403);
    assertThat(deniedIn.getDestination().getIp()).isEqualTo(WORKLOAD_IP);
    assertThat(deniedIn.getDestination().getPort()).isEqualTo(targetPort);
    FlowRecord deniedOut = direction(byRequest.get(deniedId), FlowDirection.OUTBOUND);
    assertThat(deniedOut.getL7().getHttpStatus()).isEqualTo(403);
    assertThat(deniedOut.getDestination().getWorkload()).isEqualTo("ratings");
    assertThat(deniedOut.getTraceId()).isEqualTo(deniedIn.getTraceId());

    FlowRecord allowedIn = direction(byRequest.get(allowedId), FlowDirection.INBOUND);
    assertThat(allowedIn.getVerdict()).isNotEqualTo(FlowVerdict.DROPPED);
    assertThat(allowedIn.getPolicy()).isNull();
    assertThat(allowedIn.getPolicyReason()).isEqualTo("no_allow_policies");
    assertThat(allowedIn.getL7().getHttpStatus()).isEqualTo(200);
    assertThat(direction(byRequest.get(allowedId), FlowDirection.OUTBOUND).getL7().getHttpStatus()).isEqualTo(200);
    assertThat(allowedIn.getAuditPolicies()).containsExactly("shop/audit-ratings");
    assertThat(allowedIn.getDryRunVerdict()).as("no dry-run policy matched /ratings/1").isNull();

    FlowRecord dryIn = direction(byRequest.get(dryId), FlowDirection.INBOUND);
    assertThat(dryIn.getVerdict()).isEqualTo(FlowVerdict.FORWARDED);
    assertThat(dryIn.getL7().getHttpStatus()).isEqualTo(200);
    assertThat(dryIn.getPolicyReason()).isEqualTo("no_allow_policies");
    assertThat(dryIn.getDryRunVerdict()).isEqualTo(FlowVerdict.DROPPED);
    assertThat(dryIn.getDryRunPolicy()).isEqualTo("shop/dry-deny-two");
    assertThat(dryIn.getDryRunReason()).isEqualTo("deny_matched");
    assertThat(dryIn.getAuditPolicies()).containsExactly("shop/audit-ratings");
    assertThat(deniedIn.getAuditPolicies()).as("/admin/users is not audited").isEmpty();
    // explain says the same about the dry run and the audit
    HttpResponse<String> dryExplained = send(policy, admin, "POST", "/v1/explain", new JsonObject().put("to", "ratings.shop")
        .put("port", targetPort).put("method", "GET").put("path", "/ratings/2").encode(), "application/json");
    JsonObject dryDecision = new JsonObject(dryExplained.body()).getJsonArray("decisions").getJsonObject(0);
    assertThat(dryDecision.getString("verdict")).isEqualTo("ALLOW");
    assertThat(dryDecision.getJsonObject("dryRun").getString("verdict")).isEqualTo("DENY");
    assertThat(dryDecision.getJsonObject("dryRun").getString("policy")).isEqualTo("shop/dry-deny-two");
    assertThat(dryDecision.getJsonArray("audits").encode()).contains("shop/audit-ratings");

    // deleting the policy reaches the proxy without a restart: /admin/* is let through too
    assertThat(send(policy, admin, "DELETE", "/v1/resources/authorizationpolicy/shop/deny-admin", null, null).statusCode())
        .isBetween(200, 204);
    await().atMost(WAIT).pollInterval(Duration.ofMillis(200))
        .until(() -> get(out, host, "/admin/users", "e2e-after-" + UUID.randomUUID()) == 200);
    workload.close().await(10, TimeUnit.SECONDS);
  }

  private Future<Void> apply(ConfigSnapshot snapshot, ProxySettings settings) {
    try {
      return proxy.server().apply(StreamedConfig.of(snapshot, settings));
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  private long listeners(TrafficDirection direction) {
    return proxy.server().config().listeners().values().stream().filter(l -> l.getDirection() == direction).count();
  }

  private static FlowRecord direction(List<FlowRecord> records, FlowDirection d) {
    return records.stream().filter(f -> f.getDirection() == d).findFirst().orElseThrow();
  }

  private RunningService startPolicy(KafkaCluster kafka, String configTopic, AdminTokenFile admin) throws Exception {
    String resources = kafka.createTopic(kafka.uniqueTopic("resources"), 3, Map.of("cleanup.policy", "compact"));
    kafka.createTopic(resources + ".dlq", 1, Map.of());
    String rejected = kafka.createTopic(kafka.uniqueTopic("rejected"), 1, Map.of());
    String registry = kafka.createTopic(kafka.uniqueTopic("registry"), 1, Map.of("cleanup.policy", "compact"));
    kafka.createTopic(registry + ".dlq", 1, Map.of());
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    cfg.put("policy.http.port", "0");
    cfg.put("policy.topics.resources", resources);
    cfg.put("policy.topics.rejected", rejected);
    cfg.put("policy.topics.registry", registry);
    cfg.put("policy.topics.config", configTopic);
    cfg.put("policy.door.group", kafka.uniqueTopic("door"));
    cfg.put("policy.compiler.enabled", "true");
    cfg.put("policy.compiler.application.id", kafka.uniqueTopic("compiler"));
    cfg.put("kafka.streams.state.dir", Files.createDirectories(dir.resolve("streams")).toString());
    cfg.put("kafka.streams.commit.interval.ms", "50");
    cfg.put(AdminTokenFile.CONFIG_KEY, admin.path().toString());
    ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    launchers.add(launcher);
    RunningService running = launcher.start(new PolicyService()).await(60, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> send(running, admin, "GET", "/readyz", null, null).statusCode() == 200);
    return running;
  }

  private SocketAddress startDistributor(KafkaCluster kafka, String configTopic) throws Exception {
    TestSvid svid = ca.issue(NodeSpiffeIds.distributor(TrustDomain.parse(TD)).toString());
    Path cert = Files.writeString(dir.resolve("distributor.crt"), svid.certPem());
    Path key = Files.writeString(dir.resolve("distributor.key"), svid.keyPem());
    Path bundle = Files.writeString(dir.resolve("distributor-bundle.pem"), ca.rootPem());
    Map<String, String> cfg = new HashMap<>(Map.of(
        "kafka.bootstrap.servers", kafka.bootstrapServers(),
        "distributor.topics.config", configTopic,
        "distributor.topics.status", kafka.uniqueTopic("lattice.config.status.v1"),
        "distributor.http.port", "0",
        "distributor.grpc.port", "0",
        "distributor.debounce", "10ms",
        "distributor.tls.cert", cert.toString(),
        "distributor.tls.key", key.toString(),
        "distributor.tls.bundle", bundle.toString()));
    ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    launchers.add(launcher);
    ConfigDistributorService service = new ConfigDistributorService();
    launcher.start(List.of(service)).await(60, TimeUnit.SECONDS);
    await().atMost(WAIT).until(() -> service.fold().caughtUp());
    return SocketAddress.inetSocketAddress(service.grpcPort(), "127.0.0.1");
  }

  private HttpResponse<String> send(RunningService service, AdminTokenFile admin, String method, String path, String body,
      String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(service.url(path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
        .header("authorization", "Bearer " + admin.tokens().get(0));
    if (contentType != null) {
      b.header("content-type", contentType);
    }
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  /** The status of {@code GET path} with {@code Host: host} sent to the proxy's listener (a raw socket sets Host). */
  private static int get(InetSocketAddress proxyListener, String host, String path, String requestId) throws Exception {
    try (java.net.Socket socket = new java.net.Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", proxyListener.getPort()), 5_000);
      socket.setSoTimeout(10_000);
      socket.getOutputStream().write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nx-request-id: " + requestId
          + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
      String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.ISO_8859_1);
      // "HTTP/1.1 403 Forbidden"
      return Integer.parseInt(answer.substring(9, 12));
    }
  }

  private static int freePort(String address) throws Exception {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName(address))) {
      return s.getLocalPort();
    }
  }

  private static KafkaConsumer<byte[], byte[]> consumer(KafkaCluster kafka) {
    return new KafkaConsumer<>(kafka.consumerProps("e2e-" + UUID.randomUUID()), new ByteArrayDeserializer(),
        new ByteArrayDeserializer());
  }

  private static long endOffset(KafkaCluster kafka, String topic) {
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      TopicPartition p = new TopicPartition(topic, 0);
      return c.endOffsets(List.of(p), Duration.ofSeconds(30)).get(p);
    }
  }

  private static List<FlowRecord> readFrom(KafkaCluster kafka, String topic, long offset) {
    List<FlowRecord> records = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = consumer(kafka)) {
      TopicPartition p = new TopicPartition(topic, 0);
      c.assign(List.of(p));
      c.seek(p, offset);
      long end = c.endOffsets(List.of(p), Duration.ofSeconds(30)).get(p);
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (c.position(p) < end && System.nanoTime() < deadline) {
        c.poll(Duration.ofMillis(200)).forEach(r -> records.add(
            LatticeTopics.FLOWS.valueSerde().deserializer().deserialize(topic, r.value())));
      }
    }
    return records;
  }
}
