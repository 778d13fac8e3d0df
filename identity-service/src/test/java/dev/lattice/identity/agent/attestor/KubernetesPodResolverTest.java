package dev.lattice.identity.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;

import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.api.model.PodListBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import dev.lattice.testkit.time.MutableClock;
import io.vertx.core.Vertx;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * pid → cgroup → pod UID → pod on this node → {@code k8s:*} selectors, against fabric8's Kubernetes mock
 * server (no API server runs here; expectations mode, scripting the node-filtered pod list a real API
 * server returns) and a procfs laid out in a temp directory.
 */
class KubernetesPodResolverTest {

  /** What the API server answers for this node's pods (the CRUD mock neither keeps UIDs nor filters by node). */
  private static final String NODE_A_PODS = "/api/v1/pods?fieldSelector=spec.nodeName%3Dnode-a";

  @TempDir Path proc;
  private final MutableClock clock = new MutableClock(Instant.parse("2025-01-01T00:00:00Z"));
  private Vertx vertx;
  private KubernetesMockServer server;
  private KubernetesClient client;

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    server = new KubernetesMockServer(false);
    server.init();
    client = server.createClient();
  }

  @AfterEach
  void tearDown() throws Exception {
    client.close();
    server.destroy();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static Pod pod(String ns, String name, String uid, String node, String sa, Map<String, String> labels) {
    return new PodBuilder().withNewMetadata().withNamespace(ns).withName(name).withUid(uid).withLabels(labels)
        .endMetadata().withNewSpec().withNodeName(node).withServiceAccountName(sa).endSpec().build();
  }

  private void process(int pid, String cgroup) throws Exception {
    Files.createDirectories(proc.resolve(Integer.toString(pid)));
    Files.writeString(proc.resolve(pid + "/cgroup"), cgroup);
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      // cgroup v2, systemd driver
      "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod2c48913c_b29f_11e7_9350_020968147796.slice/cri-containerd-9bca.scope | 2c48913c-b29f-11e7-9350-020968147796",
      // cgroup v1, cgroupfs driver
      "11:memory:/kubepods/besteffort/pod2c48913c-b29f-11e7-9350-020968147796/9bca8d63d5fa | 2c48913c-b29f-11e7-9350-020968147796",
      "0::/user.slice/user-1000.slice/session-3.scope | ''"})
  void findsThePodUidInEitherCgroupLayout(String cgroup, String uid) {
    assertThat(KubernetesPodResolver.parsePodUid(cgroup)).isEqualTo(uid.isEmpty() ? Optional.empty() : Optional.of(uid));
  }

  @Test
  void aProcessInAPodOnThisNodeGetsItsPodSelectors() throws Exception {
    server.expect().get().withPath(NODE_A_PODS).andReturn(200, new PodListBuilder().withItems(
        pod("shop", "web-7d9f", "2c48913c-b29f-11e7-9350-020968147796", "node-a", "web", Map.of("app", "web")))
        .build()).always();
    process(4242, "0::/kubepods.slice/kubepods-pod2c48913c_b29f_11e7_9350_020968147796.slice/cri-containerd-1.scope\n");
    process(4343, "0::/kubepods.slice/kubepods-pod11111111_2222_3333_4444_555555555555.slice/x.scope\n");
    process(4444, "0::/user.slice/user-1000.slice/session-3.scope\n");

    KubernetesWorkloadAttestor attestor = new KubernetesWorkloadAttestor(
        new KubernetesPodResolver(vertx, client, "node-a", proc, clock));
    Set<Selector> web = attestor.attest(new CallerProcess(4242, 1000, List.of(1000), 1))
        .toCompletionStage().toCompletableFuture().get();
    assertThat(web).contains(Selector.parse("k8s:ns:shop"), Selector.parse("k8s:sa:web"),
        Selector.parse("k8s:pod-name:web-7d9f"), Selector.parse("k8s:pod-label:app=web"));

    // a pod of another node (not in this node's list) is not this agent's to vouch for; a host process has no pod
    assertThat(attestor.attest(new CallerProcess(4343, 1000, List.of(1000), 1))
        .toCompletionStage().toCompletableFuture().get()).isEmpty();
    assertThat(attestor.attest(new CallerProcess(4444, 1000, List.of(1000), 1))
        .toCompletionStage().toCompletableFuture().get()).isEmpty();
    assertThat(attestor.attest(new CallerProcess(99999, 1000, List.of(1000), 1))
        .toCompletionStage().toCompletableFuture().get()).as("exited").isEmpty();
    assertThat(server.getRequestCount()).as("at most one listing per second; known pods cached").isEqualTo(1);

    // a second later an unknown pod may list again; a known one still does not
    clock.advance(Duration.ofMillis(999));
    attest(attestor, 4343);
    assertThat(server.getRequestCount()).as("999 ms later").isEqualTo(1);
    clock.advance(Duration.ofMillis(1));
    attest(attestor, 4343);
    attest(attestor, 4242);
    assertThat(server.getRequestCount()).as("1 s later").isEqualTo(2);
  }

  private static Set<Selector> attest(KubernetesWorkloadAttestor attestor, int pid) throws Exception {
    return attestor.attest(new CallerProcess(pid, 1000, List.of(1000), 1)).toCompletionStage().toCompletableFuture().get();
  }
}
