package dev.lattice.identity.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.fabric8.kubernetes.api.model.authentication.TokenReview;
import io.fabric8.kubernetes.api.model.authentication.TokenReviewBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.util.List;
import java.util.Map;
import java.util.Set;
import io.fabric8.mockwebserver.http.RecordedRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * PSAT attestation against fabric8's Kubernetes mock server. The mock's CRUD mode stores objects but
 * cannot answer a TokenReview (the API server computes its status), so this test uses expectations mode:
 * each case scripts the one TokenReview response the real API server would give.
 */
class KubernetesTokenAttestorTest {

  static final String PATH = "/apis/authentication.k8s.io/v1/tokenreviews";
  KubernetesMockServer server;
  KubernetesClient client;

  @BeforeEach
  void setUp() {
    server = new KubernetesMockServer(false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void tearDown() {
    client.close();
    server.destroy();
  }

  static TokenReview review(boolean authenticated, String user, Map<String, List<String>> extra, List<String> audiences) {
    return new TokenReviewBuilder().withNewStatus().withAuthenticated(authenticated).withAudiences(audiences)
        .withNewUser().withUsername(user).withExtra(extra).endUser().endStatus().build();
  }

  @Test
  void anAuthenticatedAgentTokenAttestsItsNode() throws Exception {
    server.expect().post().withPath(PATH).andReturn(201, review(true, "system:serviceaccount:lattice-system:lattice-agent",
        Map.of("authentication.kubernetes.io/node-name", List.of("Worker-1")), List.of("lattice-identity"))).once();
    KubernetesTokenAttestor attestor = new KubernetesTokenAttestor(client, "lattice-identity", Set.of("lattice-system:lattice-agent"));
    assertThat(attestor.attest("the.psat.token")).isEqualTo("k8s-worker-1");
    RecordedRequest sent = server.takeRequest();
    assertThat(sent.getUtf8Body()).contains("\"token\":\"the.psat.token\"").contains("\"audiences\":[\"lattice-identity\"]");
  }

  @Test
  void refusedTokensGiveClearErrors() {
    server.expect().post().withPath(PATH).andReturn(201, new TokenReviewBuilder().withNewStatus().withAuthenticated(false)
        .withError("token has expired").endStatus().build()).once();
    server.expect().post().withPath(PATH).andReturn(201, review(true, "system:serviceaccount:default:intruder",
        Map.of("authentication.kubernetes.io/node-name", List.of("n")), List.of("lattice-identity"))).once();
    server.expect().post().withPath(PATH).andReturn(201, review(true, "alice", Map.of(), List.of())).once();
    KubernetesTokenAttestor attestor = new KubernetesTokenAttestor(client, "lattice-identity", Set.of("lattice-system:lattice-agent"));
    assertThatThrownBy(() -> attestor.attest("t1")).hasMessageContaining("not authenticated").hasMessageContaining("token has expired");
    assertThatThrownBy(() -> attestor.attest("t2")).hasMessageContaining("service account 'default:intruder'");
    assertThatThrownBy(() -> attestor.attest("t3")).hasMessageContaining("user 'alice'");
  }
}
