package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Every policy write needs the admin credential; reads and explain stay open (issue 12, item 2). */
@LatticeKafkaTest
class PolicyAdminAuthTest {
  private static PolicyServiceHarness h;

  static final String ROUTE = """
      apiVersion: lattice.dev/v1alpha1
      kind: TrafficRoute
      metadata: {name: guarded, namespace: auth}
      spec:
        hosts: [web]
        http:
        - route:
          - destination: {host: web}
        """;

  @BeforeAll
  static void start(KafkaCluster c) throws Exception {
    h = new PolicyServiceHarness(c);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
  }

  HttpResponse<String> send(String method, String path, String body, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(h.url(path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("content-type", path.startsWith("/v1/resources") ? "application/yaml" : "application/json");
    if (authorization != null) b.header("authorization", authorization);
    return h.http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void anonymousWritesAre401AndWriteNothing() throws Exception {
    HttpResponse<String> apply = send("POST", "/v1/resources", ROUTE, null);
    assertThat(apply.statusCode()).as(apply.body()).isEqualTo(401);
    assertThat(apply.headers().firstValue("www-authenticate")).contains("Bearer realm=\"lattice\"");
    assertThat(new JsonObject(apply.body()).getString("error")).contains("needs the admin credential");
    assertThat(send("POST", "/v1/resources?dryRun=true", ROUTE, null).statusCode()).isEqualTo(401);
    assertThat(send("PUT", "/v1/resources/trafficroute/auth/guarded", ROUTE, null).statusCode()).isEqualTo(401);
    assertThat(send("DELETE", "/v1/resources/trafficroute/auth/guarded", null, null).statusCode()).isEqualTo(401);
    assertThat(send("PUT", "/v1/registry/auth/web/vm-1", new JsonObject().put("address", "10.0.0.1").put("port", 80).encode(), null)
        .statusCode()).isEqualTo(401);
    assertThat(send("DELETE", "/v1/registry/auth/web/vm-1", null, null).statusCode()).isEqualTo(401);
    assertThat(h.send("GET", "/v1/resources/trafficroute/auth/guarded", null).statusCode()).as("nothing written").isEqualTo(404);
  }

  @Test
  void aWrongTokenIs403AndTheRightOneApplies() throws Exception {
    assertThat(send("POST", "/v1/resources", ROUTE.replace("guarded", "wrong"), "Bearer lat_wrong").statusCode()).isEqualTo(403);
    assertThat(h.send("GET", "/v1/resources/trafficroute/auth/wrong", null).statusCode()).isEqualTo(404);
    String token = h.adminTokenFile.tokens().get(0);
    HttpResponse<String> ok = send("POST", "/v1/resources", ROUTE.replace("guarded", "right"), "Bearer " + token);
    assertThat(ok.statusCode()).as(ok.body()).isEqualTo(201);
  }

  @Test
  void readsExplainAndHealthStayOpen() throws Exception {
    for (String path : List.of("/v1/resources", "/v1/registry", "/healthz", "/readyz",
        "/v1/explain?from=spiffe://lattice.local/ns/a/sa/b&to=web.auth")) {
      assertThat(send("GET", path, null, null).statusCode()).as(path).isEqualTo(200);
    }
    HttpResponse<String> explain = send("POST", "/v1/explain", new JsonObject()
        .put("from", "spiffe://lattice.local/ns/a/sa/b").put("to", "web.auth").encode(), null);
    assertThat(explain.statusCode()).as(explain.body()).isEqualTo(200);
  }
}
