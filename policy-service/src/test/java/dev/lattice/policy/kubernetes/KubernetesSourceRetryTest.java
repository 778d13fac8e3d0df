package dev.lattice.policy.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.policy.model.ResourceKind;
import dev.lattice.policy.registry.RegistrySink;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.client.ConfigBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import java.io.FileInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The policy service may start before its API server answers: the source must not fail or block, and
 * must pick the API server up once it is there. fabric8's mock server (CRUD mode) plays the API server,
 * started only after the source, on the port the source's client already points at.
 */
class KubernetesSourceRetryTest {

  private final List<String> published = new CopyOnWriteArrayList<>();
  private KubernetesClient client;
  private KubernetesSource source;
  private KubernetesMockServer server;

  @AfterEach
  void tearDown() {
    if (source != null) source.close();
    if (client != null) client.close();
    if (server != null) server.destroy();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  @Test
  void aSourceStartedBeforeItsApiServerListsOnceTheServerIsUp() throws Exception {
    int port = freePort();
    // A short reconnect interval: fabric8's backoff starts there (default 1 s, doubling).
    client = new KubernetesClientBuilder().withConfig(new ConfigBuilder()
        .withMasterUrl("http://127.0.0.1:" + port).withNamespace("default").withTrustCerts(true)
        .withWatchReconnectInterval(100).withRequestRetryBackoffLimit(0).build()).build();

    source = new KubernetesSource(client, new ResourceSink() {
      @Override
      public CompletionStage<Void> upsert(ResourceEvent event) {
        published.add(event.getKind() + "/" + event.getNamespace() + "/" + event.getName());
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        return CompletableFuture.completedFuture(null);
      }
    }, new RegistrySink() {
      @Override
      public CompletionStage<Void> upsert(WorkloadEndpoint endpoint) {
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        return CompletableFuture.completedFuture(null);
      }
    }, "lattice.local", Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC));

    // Nothing listens on the port: the old inform(...) threw here after its first failed list.
    source.start();
    assertThat(source.synced()).isFalse();

    server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(), false);
    server.init(InetAddress.getLoopbackAddress(), port);
    try (KubernetesClient admin = server.createClient()) {
      for (String crd : List.of("trafficroute", "destinationpolicy", "peerauthentication", "authorizationpolicy",
          "ratelimitpolicy")) {
        try (FileInputStream in = new FileInputStream(Path.of("..", "k8s", "crds", crd + ".yaml").toFile())) {
          CustomResourceDefinition def = admin.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
          admin.apiextensions().v1().customResourceDefinitions().resource(def).create();
        }
      }
      admin.genericKubernetesResources(PolicyCustomResources.context(ResourceKind.TRAFFIC_ROUTE))
          .inNamespace("default").resource(trafficRoute(admin)).create();
    }

    await().atMost(Duration.ofSeconds(60)).until(source::synced);
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(published).contains("TrafficRoute/default/reviews"));
  }

  private static GenericKubernetesResource trafficRoute(KubernetesClient admin) {
    return admin.getKubernetesSerialization().unmarshal("""
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata:
          name: reviews
          namespace: default
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews}
        """, GenericKubernetesResource.class);
  }

  @Test
  void onlyAnAnswerThatDoesNotDeserializeStopsAnInformer() {
    AtomicBoolean warned = new AtomicBoolean();
    assertThat(RetryingInformers.retry("Pod", false, new java.net.ConnectException("Connection refused"), warned)).isTrue();
    assertThat(warned).isTrue();
    assertThat(RetryingInformers.retry("Pod", true, new IOException("watch closed"), warned)).isTrue();
    // fabric8's own test for an answer of the wrong shape (ClassCastException or a Jackson error).
    assertThat(RetryingInformers.retry("Pod", true, new ClassCastException("Pod cannot be cast to Service"), warned)).isFalse();
  }
}
