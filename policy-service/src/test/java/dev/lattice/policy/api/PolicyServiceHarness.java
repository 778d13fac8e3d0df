package dev.lattice.policy.api;

import static org.awaitility.Awaitility.await;

import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.policy.PolicyService;
import dev.lattice.testkit.kafka.KafkaCluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real {@link PolicyService} on an ephemeral port against the test broker, on unique topics, with the
 * compiler off (its own tests cover it). Closed by the test class.
 */
public final class PolicyServiceHarness implements AutoCloseable {
  public final String resourcesTopic;
  public final String rejectedTopic;
  public final String registryTopic;
  public final PolicyService service = new PolicyService();
  public final ServiceLauncher launcher;
  public final RunningService running;
  public final HttpClient http = HttpClient.newHttpClient();
  /** The service's admin credential; {@link #send} sends it on every request. */
  public final AdminTokenFile adminTokenFile;

  public PolicyServiceHarness(KafkaCluster cluster) throws Exception {
    this(cluster, Map.of());
  }

  /** @param extra configuration added last (e.g. to turn the compiler on) */
  public PolicyServiceHarness(KafkaCluster cluster, Map<String, String> extra) throws Exception {
    resourcesTopic = cluster.createTopic(cluster.uniqueTopic("resources"), 3, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(resourcesTopic + ".dlq", 1, Map.of());
    rejectedTopic = cluster.createTopic(cluster.uniqueTopic("rejected"), 1, Map.of());
    registryTopic = cluster.createTopic(cluster.uniqueTopic("registry"), 1, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(registryTopic + ".dlq", 1, Map.of());
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("policy.http.port", "0");
    cfg.put("policy.topics.resources", resourcesTopic);
    cfg.put("policy.topics.rejected", rejectedTopic);
    cfg.put("policy.topics.registry", registryTopic);
    cfg.put("policy.door.group", cluster.uniqueTopic("door"));
    cfg.put("policy.compiler.enabled", "false");
    adminTokenFile = AdminTokenFile.at(Files.createTempDirectory("policy-admin").resolve(AdminTokenFile.FILE_NAME));
    cfg.put(AdminTokenFile.CONFIG_KEY, adminTokenFile.path().toString());
    cfg.putAll(extra);
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    running = launcher.start(service).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    await().atMost(Duration.ofSeconds(60)).until(() -> send("GET", "/readyz", null).statusCode() == 200);
  }

  public URI url(String path) {
    return running.url(path);
  }

  public HttpResponse<String> send(String method, String path, String body) throws Exception {
    return send(method, path, body, "application/yaml");
  }

  public HttpResponse<String> send(String method, String path, String body, String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(url(path)).timeout(Duration.ofSeconds(30));
    b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("content-type", contentType);
    b.header("authorization", "Bearer " + adminTokenFile.tokens().get(0));
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() throws Exception {
    launcher.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }
}
