package dev.lattice.identity.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class KubernetesWorkloadAttestorTest {

  private static final CallerProcess CALLER = new CallerProcess(42, 1000, List.of(1000), 7);

  @Test
  void aPodBecomesNamespaceServiceAccountNameAndLabelSelectors() {
    PodResolver pods = caller -> Future.succeededFuture(Optional.of(
        new PodResolver.PodInfo("default", "web", "web-7d9f", Map.of("app", "web"))));
    Set<Selector> selectors = new KubernetesWorkloadAttestor(pods).attest(CALLER).result();
    assertThat(selectors).containsExactlyInAnyOrder(Selector.parse("k8s:ns:default"), Selector.parse("k8s:sa:web"),
        Selector.parse("k8s:pod-name:web-7d9f"), Selector.parse("k8s:pod-label:app=web"));
  }

  @Test
  void aProcessOutsideAnyPodGetsNoK8sSelectors() {
    PodResolver none = caller -> Future.succeededFuture(Optional.empty());
    assertThat(new KubernetesWorkloadAttestor(none).attest(CALLER).result()).isEmpty();
    assertThat(new UnixWorkloadAttestor().attest(CALLER).result())
        .containsExactlyInAnyOrder(Selector.unixUid(1000), Selector.unixGid(1000));
  }
}
