package dev.lattice.identity.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The agent service's configuration edges, through the kit's launcher. */
class NodeAgentServiceTest {

  private final HttpClient http = HttpClient.newHttpClient();

  private String get(URI uri) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() + " " + r.body();
  }

  @Test
  void withoutAttestationSettingsTheAgentSaysItIsDisabledAndStaysOutOfTheWay() throws Exception {
    try (ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("agent.http.port", "0")))) {
      RunningService agent = launcher.start(new NodeAgentService()).toCompletionStage().toCompletableFuture()
          .get(30, TimeUnit.SECONDS);
      assertThat(get(agent.url("/readyz"))).startsWith("200").contains("disabled");
      String status = get(agent.url("/agent/v1/status"));
      assertThat(new JsonObject(status.substring(4)).getBoolean("enabled")).isFalse();
    }
  }

  @Test
  void aMissingOrEmptyTrustBundleFailsTheStartNamingTheSetting(@TempDir Path dir) throws Exception {
    Path empty = Files.writeString(dir.resolve("empty.pem"), "");
    for (Map<String, String> config : new Map[] {
        Map.of("agent.http.port", "0", "agent.join.token", "t"),
        Map.of("agent.http.port", "0", "agent.join.token", "t", "agent.trust.bundle.file", empty.toString())}) {
      try (ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(config))) {
        assertThatThrownBy(() -> launcher.start(new NodeAgentService()).toCompletionStage().toCompletableFuture()
            .get(30, TimeUnit.SECONDS))
            .hasMessageContaining("agent.trust.bundle.file");
      }
    }
  }

  @Test
  void theDelegatedIdentityApiIsServedOnlyWithAuthorizedCallersAndBadValuesNameTheSetting() {
    assertThat(NodeAgentService.delegatedSettings(LatticeConfig.of(Map.of()))).isEmpty();
    var settings = NodeAgentService.delegatedSettings(LatticeConfig.of(Map.of(
        "agent.delegated.authorized.uids", "1000,1001",
        "agent.delegated.authorized.spiffe.ids", "spiffe://lattice.local/lattice/dataplane/local"))).orElseThrow();
    assertThat(settings.socket()).isEqualTo(Path.of(".lattice/agent/admin.sock"));
    assertThat(settings.authorizedUids()).containsExactlyInAnyOrder(1000, 1001);
    assertThat(settings.authorizedSpiffeIds()).containsExactly("spiffe://lattice.local/lattice/dataplane/local");
    assertThatThrownBy(() -> NodeAgentService.delegatedSettings(LatticeConfig.of(Map.of(
        "agent.delegated.authorized.uids", "dataplane"))))
        .hasMessageContaining("agent.delegated.authorized.uids: authorized uid: 'dataplane'");
    assertThatThrownBy(() -> NodeAgentService.delegatedSettings(LatticeConfig.of(Map.of(
        "agent.delegated.authorized.spiffe.ids", "dataplane"))))
        .hasMessageContaining("agent.delegated: authorized SPIFFE ID: 'dataplane'");
  }
}
