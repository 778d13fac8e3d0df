package dev.lattice.identity.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.identity.IdentityService;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.spiffe.exception.JwtSvidException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultJwtSource;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.JwtSource;
import io.spiffe.workloadapi.JwtSourceOptions;
import io.spiffe.workloadapi.WorkloadApiClient;
import dev.lattice.schemas.workload.SpiffeWorkloadAPIGrpcClient;
import dev.lattice.schemas.workload.X509SVIDRequest;
import dev.lattice.schemas.workload.X509SVIDResponse;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole path, nothing in-process faked: the identity service (CA, REST API, entries on a real Kafka
 * broker, the Signing gRPC server over mTLS) and the node agent service, each started by the kit's
 * launcher; the agent attests with a join token from the REST API, syncs its entries, and serves
 * java-spiffe's X509Source and JwtSource on a Unix socket. A new entry created over REST reaches the
 * workload without it asking.
 */
@LatticeKafkaTest
class AgentEndToEndTest {

  private final HttpClient http = HttpClient.newHttpClient();
  private Path adminToken;

  private static <T> T result(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private HttpResponse<String> post(RunningService service, String path, JsonObject body) throws Exception {
    return http.send(HttpRequest.newBuilder(service.url(path)).POST(HttpRequest.BodyPublishers.ofString(body.encode()))
        .header("Content-Type", "application/json")
        .header("Authorization", "Bearer " + AdminTokenFile.at(adminToken).tokens().get(0))
        .build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> get(RunningService service, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(service.url(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String pem(List<X509Certificate> certs) throws Exception {
    StringBuilder out = new StringBuilder();
    for (X509Certificate c : certs) {
      out.append("-----BEGIN CERTIFICATE-----\n")
          .append(Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(c.getEncoded()))
          .append("\n-----END CERTIFICATE-----\n");
    }
    return out.toString();
  }

  @Test
  void aWorkloadGetsItsIdentityThroughTheRealAgentAndServer(KafkaCluster kafka, @TempDir Path dir) throws Exception {
    Map<String, String> identityConfig = new HashMap<>();
    identityConfig.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    identityConfig.put("identity.http.port", "0");
    identityConfig.put("identity.signing.port", "0");
    identityConfig.put("identity.bundle.endpoint.port", "0");
    identityConfig.put("identity.data.dir", dir.resolve("identity").toString());
    adminToken = dir.resolve("admin.token");
    identityConfig.put(AdminTokenFile.CONFIG_KEY, adminToken.toString());
    identityConfig.put("identity.topics.entries", kafka.uniqueTopic("lattice.entries.v1"));
    identityConfig.put("identity.topics.bundles", kafka.uniqueTopic("lattice.bundles.v1"));
    identityConfig.put("identity.topics.audit", kafka.uniqueTopic("lattice.identity.audit.v1"));
    try (ServiceLauncher serverSide = ServiceLauncher.create(LatticeConfig.of(identityConfig))) {
      IdentityService identity = new IdentityService();
      RunningService server = result(serverSide.start(identity));
      await().atMost(Duration.ofSeconds(30)).until(() -> get(server, "/readyz").statusCode() == 200);

      JsonObject token = new JsonObject(post(server, "/v1/tokens", new JsonObject().put("ttl", "10m")).body());
      String nodeId = token.getString("spiffeId");
      String uidSelector = "unix:uid:" + AgentFixtures.myUid();
      HttpResponse<String> created = post(server, "/v1/entries", new JsonObject()
          .put("spiffeId", "spiffe://lattice.local/ns/default/sa/web").put("parentId", nodeId)
          .put("selectors", new JsonArray().add(uidSelector)).put("x509SvidTtlSeconds", 60));
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);

      Path bundle = dir.resolve("bootstrap-bundle.pem");
      Files.writeString(bundle, pem(identity.certificateAuthority().bundle().x509Authorities()));
      Path socket = AgentFixtures.shortSocketPath("workload.sock");
      Map<String, String> agentConfig = new HashMap<>();
      agentConfig.put("agent.http.port", "0");
      agentConfig.put("agent.socket", socket.toString());
      agentConfig.put("agent.server.port", Integer.toString(identity.signingPort()));
      agentConfig.put("agent.trust.bundle.file", bundle.toString());
      agentConfig.put("agent.join.token", token.getString("token"));
      agentConfig.put("agent.refresh.period", "200ms");
      Vertx clientVertx = Vertx.vertx();
      try (ServiceLauncher nodeSide = ServiceLauncher.create(LatticeConfig.of(agentConfig))) {
        NodeAgentService agentService = new NodeAgentService();
        RunningService agent = result(nodeSide.start(agentService));
        await().atMost(Duration.ofSeconds(30)).until(() -> get(agent, "/readyz").statusCode() == 200
            && !agentService.agent().svids().state().svids().isEmpty());
        JsonObject status = new JsonObject(get(agent, "/agent/v1/status").body());
        assertThat(status.getJsonObject("node").getString("spiffeId")).isEqualTo(nodeId);
        assertThat(status.encode()).doesNotContain("PRIVATE");
        assertThat(get(agent, "/metrics").body()).contains("lattice_agent_svids").contains("lattice_agent_workload_streams");

        String address = "unix:" + socket;
        try (DefaultX509Source x509 = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                .spiffeSocketPath(address).initTimeout(Duration.ofSeconds(10)).build());
            JwtSource jwt = DefaultJwtSource.newSource(JwtSourceOptions.builder()
                .spiffeSocketPath(address).initTimeout(Duration.ofSeconds(10)).build());
            WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address).build())) {
          X509Svid svid = x509.getX509Svid();
          assertThat(svid.getSpiffeId()).isEqualTo(SpiffeId.parse("spiffe://lattice.local/ns/default/sa/web"));
          X509SvidValidator.verifyChain(svid.getChain(), x509);

          JwtSvid token1 = jwt.fetchJwtSvid("orders-api");
          assertThat(JwtSvid.parseAndValidate(token1.getToken(), jwt, Set.of("orders-api")).getSpiffeId())
              .isEqualTo(svid.getSpiffeId());
          assertThatThrownBy(() -> JwtSvid.parseAndValidate(token1.getToken(), jwt, Set.of("billing-api")))
              .isInstanceOf(JwtSvidException.class);

          // a new entry for the same workload, created over REST, is pushed on an open stream (read
          // raw: java-spiffe 0.8.12 keeps only the first of several SVIDs without hints, java-spiffe#364)
          try (WorkloadApiTestClient raw = new WorkloadApiTestClient(clientVertx, socket)) {
            WorkloadApiTestClient.Call<X509SVIDResponse> stream = raw.start(
                SpiffeWorkloadAPIGrpcClient.FetchX509SVID, X509SVIDRequest.getDefaultInstance(), true);
            await().atMost(Duration.ofSeconds(5)).until(() -> !stream.messages.isEmpty());
            assertThat(post(server, "/v1/entries", new JsonObject()
                .put("spiffeId", "spiffe://lattice.local/ns/default/sa/web-admin").put("parentId", nodeId)
                .put("selectors", new JsonArray().add(uidSelector))).statusCode()).isEqualTo(201);
            await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(stream.messages.get(stream.messages.size() - 1).getSvidsList())
                    .extracting(s -> s.getSpiffeId())
                    .containsExactlyInAnyOrder("spiffe://lattice.local/ns/default/sa/web",
                        "spiffe://lattice.local/ns/default/sa/web-admin"));
            assertThat(stream.status).isNull();
          }
        }
      } finally {
        result(clientVertx.close());
      }
    }
  }

  /**
   * Ephemeral ports (identity learns {@code ports.ephemeral} and the agent finds the signing port on
   * {@code /v1/endpoints}), hints passed through to the Workload API, and an agent that attests again
   * with a new token for the same node id keeps serving the entries parented to that node.
   */
  @Test
  void aReattestingAgentStaysTheSameNodeAndServesHintsOnEphemeralPorts(KafkaCluster kafka, @TempDir Path dir)
      throws Exception {
    Map<String, String> identityConfig = new HashMap<>();
    identityConfig.put("kafka.bootstrap.servers", kafka.bootstrapServers());
    identityConfig.put("ports.ephemeral", "true");
    identityConfig.put("identity.http.port", "0");
    identityConfig.put("identity.data.dir", dir.resolve("identity").toString());
    adminToken = dir.resolve("admin.token");
    identityConfig.put(AdminTokenFile.CONFIG_KEY, adminToken.toString());
    identityConfig.put("identity.topics.entries", kafka.uniqueTopic("lattice.entries.v1"));
    identityConfig.put("identity.topics.bundles", kafka.uniqueTopic("lattice.bundles.v1"));
    identityConfig.put("identity.topics.audit", kafka.uniqueTopic("lattice.identity.audit.v1"));
    try (ServiceLauncher serverSide = ServiceLauncher.create(LatticeConfig.of(identityConfig))) {
      IdentityService identity = new IdentityService();
      RunningService server = result(serverSide.start(identity));
      await().atMost(Duration.ofSeconds(30)).until(() -> get(server, "/readyz").statusCode() == 200);
      JsonObject endpoints = new JsonObject(get(server, "/v1/endpoints").body());
      assertThat(endpoints.getInteger("signingPort")).isEqualTo(identity.signingPort()).isNotIn(0, 7071);
      assertThat(endpoints.getInteger("bundleEndpointPort")).isEqualTo(identity.bundleEndpointPort()).isNotIn(0, 7072);
      String rootsPem = get(server, "/v1/bundle.pem").body();
      assertThat(rootsPem).isEqualTo(pem(identity.certificateAuthority().bundle().x509Authorities()));
      Path bundle = dir.resolve("bundle.pem");
      Files.writeString(bundle, rootsPem);

      HttpResponse<String> badNode = post(server, "/v1/tokens", new JsonObject().put("ttl", "10m").put("nodeId", "jt-1"));
      assertThat(badNode.statusCode()).isEqualTo(400);
      assertThat(badNode.body()).contains("nodeId: 'jt-1'");
      JsonObject token = new JsonObject(post(server, "/v1/tokens",
          new JsonObject().put("ttl", "10m").put("nodeId", "edge-1")).body());
      String nodeId = token.getString("spiffeId");
      assertThat(nodeId).isEqualTo("spiffe://lattice.local/lattice/node/edge-1");
      String uidSelector = "unix:uid:" + AgentFixtures.myUid();
      HttpResponse<String> badHint = post(server, "/v1/entries", new JsonObject()
          .put("spiffeId", "spiffe://lattice.local/ns/default/sa/api").put("parentId", nodeId)
          .put("selectors", new JsonArray().add(uidSelector)).put("hint", "bad\nhint"));
      assertThat(badHint.statusCode()).isEqualTo(400);
      assertThat(badHint.body()).contains("hint:");
      HttpResponse<String> created = post(server, "/v1/entries", new JsonObject()
          .put("spiffeId", "spiffe://lattice.local/ns/default/sa/api").put("parentId", nodeId)
          .put("selectors", new JsonArray().add(uidSelector)).put("hint", "internal"));
      assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
      assertThat(new JsonObject(created.body()).getString("hint")).isEqualTo("internal");

      Path tokenFile = dir.resolve("join-token");
      Files.writeString(tokenFile, token.getString("token"));
      Path socket = AgentFixtures.shortSocketPath("workload.sock");
      Map<String, String> agentConfig = new HashMap<>();
      agentConfig.put("agent.http.port", "0");
      agentConfig.put("agent.socket", socket.toString());
      agentConfig.put("agent.server.port", Integer.toString(endpoints.getInteger("signingPort")));
      agentConfig.put("agent.trust.bundle.file", bundle.toString());
      agentConfig.put("agent.join.token.file", tokenFile.toString());
      agentConfig.put("agent.refresh.period", "200ms");
      String address = "unix:" + socket;
      for (int run = 1; run <= 2; run++) {
        if (run == 2) {
          // the agent restarts: a new token for the same node id, the old one is burned
          JsonObject again = new JsonObject(post(server, "/v1/tokens",
              new JsonObject().put("ttl", "10m").put("nodeId", "edge-1")).body());
          assertThat(again.getString("spiffeId")).isEqualTo(nodeId);
          Files.writeString(tokenFile, again.getString("token"));
        }
        try (ServiceLauncher nodeSide = ServiceLauncher.create(LatticeConfig.of(agentConfig))) {
          NodeAgentService agentService = new NodeAgentService();
          RunningService agent = result(nodeSide.start(agentService));
          await().atMost(Duration.ofSeconds(30)).until(() -> get(agent, "/readyz").statusCode() == 200
              && !agentService.agent().svids().state().svids().isEmpty());
          assertThat(new JsonObject(get(agent, "/agent/v1/status").body()).getJsonObject("node").getString("spiffeId"))
              .as("run %d", run).isEqualTo(nodeId);
          try (DefaultX509Source x509 = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                  .spiffeSocketPath(address).initTimeout(Duration.ofSeconds(10)).build());
              WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
                  DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address).build())) {
            X509Svid svid = x509.getX509Svid();
            assertThat(svid.getSpiffeId()).isEqualTo(SpiffeId.parse("spiffe://lattice.local/ns/default/sa/api"));
            assertThat(svid.getHint()).isEqualTo("internal");
            JwtSvid jwt = client.fetchJwtSvid("orders-api");
            assertThat(jwt.getHint()).isEqualTo("internal");
            assertThat(jwt.getSpiffeId()).isEqualTo(svid.getSpiffeId());
          }
        }
      }
    }
  }
}
