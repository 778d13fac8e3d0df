package dev.lattice.policy.kubernetes;

import dev.lattice.policy.registry.RegistrySink;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.policy.model.ResourceKind;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.IntOrString;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.ServiceBuilder;
import io.fabric8.kubernetes.api.model.apiextensions.v1.CustomResourceDefinition;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSliceBuilder;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.EnableKubernetesMockClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import java.io.FileInputStream;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Kubernetes source against fabric8's mock API server in CRUD mode, with the real CRD files. */
@EnableKubernetesMockClient(crud = true)
class KubernetesSourceTest {

  static KubernetesClient client;
  static KubernetesMockServer server;

  /** What the source published: resource events (null value = deletion) and registry events. */
  final List<Map.Entry<String, ResourceEvent>> resources = new CopyOnWriteArrayList<>();
  final List<Map.Entry<String, WorkloadEndpoint>> workloads = new CopyOnWriteArrayList<>();
  KubernetesSource source;

  @BeforeEach
  void setUp() throws Exception {
    for (String crd : List.of("trafficroute", "destinationpolicy", "peerauthentication", "authorizationpolicy",
        "ratelimitpolicy")) {
      try (FileInputStream in = new FileInputStream(Path.of("..", "k8s", "crds", crd + ".yaml").toFile())) {
        CustomResourceDefinition def = client.getKubernetesSerialization().unmarshal(in, CustomResourceDefinition.class);
        client.apiextensions().v1().customResourceDefinitions().resource(def).createOr(r -> r.update());
      }
    }
    ResourceSink resourceSink = new ResourceSink() {
      @Override
      public CompletionStage<Void> upsert(ResourceEvent event) {
        resources.add(Map.entry(event.getKind() + "/" + event.getNamespace() + "/" + event.getName(), event));
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        resources.add(new java.util.AbstractMap.SimpleEntry<>(key, null));
        return CompletableFuture.completedFuture(null);
      }
    };
    RegistrySink registrySink = new RegistrySink() {
      @Override
      public CompletionStage<Void> upsert(WorkloadEndpoint endpoint) {
        workloads.add(Map.entry(endpoint.getNamespace() + "/" + endpoint.getWorkload() + "/" + endpoint.getInstance(),
            endpoint));
        return CompletableFuture.completedFuture(null);
      }

      @Override
      public CompletionStage<Void> delete(String key) {
        workloads.add(new java.util.AbstractMap.SimpleEntry<>(key, null));
        return CompletableFuture.completedFuture(null);
      }
    };
    source = new KubernetesSource(client, resourceSink, registrySink, "lattice.local",
        Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC)).start();
    await().atMost(Duration.ofSeconds(20)).until(source::synced);
  }

  @AfterEach
  void tearDown() {
    source.close();
  }

  private GenericKubernetesResource trafficRoute(String name, int weightA, int weightB) {
    String yaml = """
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata:
          name: %s
          namespace: default
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v1}
              weight: %d
            - destination: {host: reviews, subset: v2}
              weight: %d
        """.formatted(name, weightA, weightB);
    return client.getKubernetesSerialization().unmarshal(yaml, GenericKubernetesResource.class);
  }

  @SuppressWarnings("unchecked")
  private Map<String, Object> acceptedCondition(String name) {
    GenericKubernetesResource cr = client.genericKubernetesResources(
        PolicyCustomResources.context(ResourceKind.TRAFFIC_ROUTE)).inNamespace("default").withName(name).get();
    Object status = cr.getAdditionalProperties().get("status");
    if (!(status instanceof Map<?, ?> s) || !(s.get("conditions") instanceof List<?> conditions)) return null;
    return conditions.stream().map(c -> (Map<String, Object>) c)
        .filter(c -> "Accepted".equals(c.get("type"))).findFirst().orElse(null);
  }

  @Test
  void aValidCustomResourceIsPublishedAndAccepted() {
    client.genericKubernetesResources(PolicyCustomResources.context(ResourceKind.TRAFFIC_ROUTE))
        .inNamespace("default").resource(trafficRoute("reviews", 80, 20)).create();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(resources).extracting(Map.Entry::getKey).contains("TrafficRoute/default/reviews");
      assertThat(acceptedCondition("reviews")).isNotNull().containsEntry("status", "True")
          .containsEntry("reason", "Accepted");
    });
    ResourceEvent event = resources.get(0).getValue();
    assertThat(event.getSource()).isEqualTo(ResourceSource.KUBERNETES);
    assertThat(((TrafficRouteSpec) event.getSpec()).getHttp().get(0).getRoute().get(0).getWeight()).isEqualTo(80);
    // the status write's own watch event publishes nothing new
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).until(() -> resources.size() == 1);

    client.genericKubernetesResources(PolicyCustomResources.context(ResourceKind.TRAFFIC_ROUTE))
        .inNamespace("default").withName("reviews").delete();
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(resources).last().satisfies(e -> {
          assertThat(e.getKey()).isEqualTo("TrafficRoute/default/reviews");
          assertThat(e.getValue()).isNull();
        }));
  }

  @Test
  void anInvalidCustomResourceGetsInvalidWithTheMessageAndIsNotPublished() {
    client.genericKubernetesResources(PolicyCustomResources.context(ResourceKind.TRAFFIC_ROUTE))
        .inNamespace("default").resource(trafficRoute("broken", 80, 40)).create();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
        assertThat(acceptedCondition("broken")).isNotNull().containsEntry("status", "False")
            .containsEntry("reason", "Invalid"));
    String message = (String) acceptedCondition("broken").get("message");
    assertThat(message).contains("spec.http[0]").contains("120");
    assertThat(resources).isEmpty();
  }

  @Test
  void endpointSliceChangesYieldRegistryEvents() {
    client.services().inNamespace("default").resource(new ServiceBuilder()
        .withNewMetadata().withName("reviews").withNamespace("default").endMetadata()
        .withNewSpec().addNewPort().withName("http").withPort(9080).withTargetPort(new IntOrString(8080)).endPort()
        .endSpec().build()).create();
    client.pods().inNamespace("default").resource(new PodBuilder()
        .withNewMetadata().withName("reviews-v1-abc").withNamespace("default")
        .withLabels(Map.of("app", "reviews", "version", "v1")).endMetadata()
        .withNewSpec().withServiceAccountName("bookinfo-reviews").withNodeName("node-a").endSpec().build()).create();
    EndpointSlice slice = new EndpointSliceBuilder()
        .withNewMetadata().withName("reviews-x1").withNamespace("default")
        .withLabels(Map.of(EndpointSliceRegistry.SERVICE_NAME_LABEL, "reviews")).endMetadata()
        .withAddressType("IPv4")
        .addNewEndpoint().withAddresses("10.1.0.7").withNodeName("node-a")
        .withNewConditions().withReady(true).endConditions()
        .withNewTargetRef().withKind("Pod").withName("reviews-v1-abc").withNamespace("default").endTargetRef()
        .endEndpoint()
        .addNewPort().withName("http").withPort(8080).withProtocol("TCP").endPort()
        .build();
    client.discovery().v1().endpointSlices().inNamespace("default").resource(slice).create();

    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(workloads).isNotEmpty());
    WorkloadEndpoint w = workloads.get(workloads.size() - 1).getValue();
    assertThat(workloads.get(workloads.size() - 1).getKey()).isEqualTo("default/reviews/reviews-v1-abc");
    assertThat(w.getServices()).containsExactly("reviews.default");
    assertThat(w.getAddress()).isEqualTo("10.1.0.7");
    assertThat(w.getNode()).isEqualTo("node-a");
    assertThat(w.getSpiffeId()).isEqualTo("spiffe://lattice.local/ns/default/sa/bookinfo-reviews");
    assertThat(w.getLabels()).containsEntry("version", "v1");
    assertThat(w.getPorts()).singleElement().satisfies(p -> {
      assertThat(p.getPort()).isEqualTo(9080);
      assertThat(p.getTargetPort()).isEqualTo(8080);
      assertThat(p.getProtocol()).isEqualTo("HTTP");
    });
    assertThat(w.getHealth()).isEqualTo(WorkloadHealth.HEALTHY);

    // the endpoint turns not-ready: an update; the slice drops it: a tombstone
    int before = workloads.size();
    client.discovery().v1().endpointSlices().inNamespace("default").withName("reviews-x1").edit(s -> {
      s.getEndpoints().get(0).getConditions().setReady(false);
      return s;
    });
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      assertThat(workloads).hasSizeGreaterThan(before);
      assertThat(workloads.get(workloads.size() - 1).getValue().getHealth()).isEqualTo(WorkloadHealth.UNHEALTHY);
    });
    client.discovery().v1().endpointSlices().inNamespace("default").withName("reviews-x1").edit(s -> {
      s.setEndpoints(List.of());
      return s;
    });
    await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
      Map.Entry<String, WorkloadEndpoint> last = workloads.get(workloads.size() - 1);
      assertThat(last.getKey()).isEqualTo("default/reviews/reviews-v1-abc");
      assertThat(last.getValue()).isNull();
    });
  }
}
