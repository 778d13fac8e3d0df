package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.ResourceSource;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The REST door, the Kafka door and explain, on a real broker over real HTTP. */
@LatticeKafkaTest
class PolicyServiceTest {
  private static PolicyServiceHarness h;
  private static KafkaCluster cluster;

  static String route(String name, int w1, int w2) {
    return """
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata:
          name: %s
          namespace: shop
          labels: {app: web, tier: front}
        spec:
          hosts: [web]
          http:
          - route:
            - destination: {host: web, subset: v1}
              weight: %d
            - destination: {host: web, subset: v2}
              weight: %d
        """.formatted(name, w1, w2);
  }

  static String listing(String yaml) {
    return yaml.replace("namespace: shop", "namespace: listing");
  }

  @BeforeAll
  static void start(KafkaCluster c) throws Exception {
    cluster = c;
    h = new PolicyServiceHarness(c);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
  }

  @Test
  void appliesGetsListsWithOptimisticConcurrency() throws Exception {
    HttpResponse<String> created = h.send("POST", "/v1/resources", listing(route("checkout", 90, 10)));
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    JsonObject result = new JsonObject(created.body()).getJsonArray("results").getJsonObject(0);
    assertThat(result.getString("action")).isEqualTo("created");
    assertThat(result.getString("resourceVersion")).isEqualTo("1");

    HttpResponse<String> got = h.send("GET", "/v1/resources/trafficroutes/listing/checkout?output=yaml", null);
    assertThat(got.statusCode()).isEqualTo(200);
    Resource r = ResourceParser.create().parseOne(got.body()).resource();
    assertThat(r.metadata().resourceVersion()).isEqualTo("1");
    assertThat(r.metadata().uid()).isNotBlank();

    assertThat(h.send("POST", "/v1/resources", listing(route("checkout", 90, 10))).body()).contains("\"unchanged\"");

    String stale = listing(route("checkout", 50, 50)).replace("namespace: listing", "namespace: listing\n  resourceVersion: \"7\"");
    HttpResponse<String> conflict = h.send("POST", "/v1/resources", stale);
    assertThat(conflict.statusCode()).isEqualTo(409);
    assertThat(conflict.body()).contains("resourceVersion 7 is stale").contains("is at 1");

    String current = listing(route("checkout", 50, 50)).replace("namespace: listing", "namespace: listing\n  resourceVersion: \"1\"");
    HttpResponse<String> updated = h.send("POST", "/v1/resources", current);
    assertThat(updated.statusCode()).as(updated.body()).isEqualTo(200);
    assertThat(updated.body()).contains("\"configured\"").contains("\"resourceVersion\" : \"2\"");

    h.send("POST", "/v1/resources", listing(route("other", 100, 0)).replace("tier: front", "tier: back"));
    JsonObject list = new JsonObject(h.send("GET", "/v1/resources/tr?namespace=listing&labelSelector=app=web,tier!=back", null).body());
    assertThat(list.getJsonArray("items")).hasSize(1);
    assertThat(list.getJsonArray("items").getJsonObject(0).getJsonObject("metadata").getString("name")).isEqualTo("checkout");
    assertThat(h.send("GET", "/v1/resources/tr?labelSelector=%3Dbad", null).statusCode()).isEqualTo(400);
    assertThat(h.send("GET", "/v1/resources/gateways", null).statusCode()).isEqualTo(404);

    // the written event is on the topic, typed and keyed by kind/namespace/name
    List<ConsumerRecord<byte[], byte[]>> records = consume(h.resourcesTopic, rec -> new String(rec.key()).equals("TrafficRoute/listing/checkout"), 2);
    ResourceEvent last = AvroSerde.of(ResourceEvent.class).decode(records.get(records.size() - 1).value());
    assertThat(last.getResourceVersion()).isEqualTo(2);
    assertThat(last.getGeneration()).isEqualTo(2);
    assertThat(last.getSource()).isEqualTo(ResourceSource.REST);
  }

  @Test
  void invalidInputIs400WithFieldPaths() throws Exception {
    HttpResponse<String> bad = h.send("POST", "/v1/resources", route("bad", 90, 20));
    assertThat(bad.statusCode()).isEqualTo(400);
    JsonObject err = new JsonObject(bad.body()).getJsonArray("errors").getJsonObject(0);
    assertThat(err.getString("path")).isEqualTo("spec.http[0].route");
    assertThat(err.getString("message")).isEqualTo("weights sum to 110 (90 + 20) (expected: 100)");

    HttpResponse<String> malformed = h.send("POST", "/v1/resources", "apiVersion: lattice.dev/v1alpha1\nkind: [TrafficRoute\n");
    assertThat(malformed.statusCode()).isEqualTo(400);
    assertThat(malformed.body()).contains("line ").contains("malformed YAML");

    String dp = """
        apiVersion: lattice.dev/v1alpha1
        kind: DestinationPolicy
        metadata: {name: web, namespace: shop}
        spec:
          host: web
          subsets: [{name: v1, labels: {version: v1}}]
        """;
    HttpResponse<String> subset = h.send("POST", "/v1/resources", dp + "---\n" + route("subset", 50, 50));
    assertThat(subset.statusCode()).isEqualTo(400);
    assertThat(subset.body()).contains("spec.http[0].route[1].destination.subset").contains("unknown subset \\\"v2\\\"")
        .contains("\"document\" : 2");
    assertThat(h.send("GET", "/v1/resources/dp/shop/web", null).statusCode()).as("nothing of a rejected batch is written").isEqualTo(404);
  }

  @Test
  void dryRunShowsTheDiffAndWritesNothing() throws Exception {
    assertThat(h.send("POST", "/v1/resources", route("dry", 80, 20)).statusCode()).isEqualTo(201);
    HttpResponse<String> dry = h.send("POST", "/v1/resources?dryRun=true", route("dry", 70, 30));
    assertThat(dry.statusCode()).isEqualTo(200);
    JsonObject r = new JsonObject(dry.body()).getJsonArray("results").getJsonObject(0);
    assertThat(r.getString("action")).isEqualTo("configured");
    assertThat(r.getJsonArray("diff").getList()).contains("-       weight: 80", "+       weight: 70");
    assertThat(h.send("GET", "/v1/resources/tr/shop/dry", null).body()).contains("80");
  }

  @Test
  void deleteWritesATombstone() throws Exception {
    assertThat(h.send("POST", "/v1/resources", route("gone", 50, 50)).statusCode()).isEqualTo(201);
    assertThat(h.send("DELETE", "/v1/resources/trafficroute/shop/gone", null).statusCode()).isEqualTo(200);
    assertThat(h.send("GET", "/v1/resources/trafficroute/shop/gone", null).statusCode()).isEqualTo(404);
    assertThat(h.send("DELETE", "/v1/resources/trafficroute/shop/gone", null).statusCode()).isEqualTo(404);
    List<ConsumerRecord<byte[], byte[]>> recs = consume(h.resourcesTopic, rec -> new String(rec.key()).equals("TrafficRoute/shop/gone"), 2);
    assertThat(recs.get(recs.size() - 1).value()).isNull();
  }

  @Test
  void kafkaDoorRejectsInvalidEventsAndDeadLettersGarbage() throws Exception {
    Resource invalid = ResourceParser.create().parseOne(route("raw", 120, 10)).resource();
    ResourceEvent event = ResourceEventMapper.toEvent(invalid,
        new ResourceEventMapper.Provenance(1, "mallory", ResourceSource.KAFKA, Instant.now()));
    byte[] invalidBytes = AvroSerde.of(ResourceEvent.class).encode(event);
    try (KafkaProducer<byte[], byte[]> p = new KafkaProducer<>(cluster.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
      p.send(new ProducerRecord<>(h.resourcesTopic, "TrafficRoute/shop/raw".getBytes(), invalidBytes)).get(30, TimeUnit.SECONDS);
      p.send(new ProducerRecord<>(h.resourcesTopic, "garbage".getBytes(), "not avro at all".getBytes())).get(30, TimeUnit.SECONDS);
    }
    ConsumerRecord<byte[], byte[]> rej = consume(h.rejectedTopic, rec -> new String(rec.key()).equals("TrafficRoute/shop/raw"), 1).get(0);
    ResourceRejected rejected = AvroSerde.of(ResourceRejected.class).decode(rej.value());
    assertThat(rejected.getFieldPath()).isEqualTo("spec.http[0].route[0].weight");
    assertThat(rejected.getReason()).contains("120 (expected: 0..100)");
    assertThat(rejected.getAuthor()).isEqualTo("mallory");
    assertThat(rejected.getOriginal().array()).isEqualTo(invalidBytes);

    // Two consumers skipped it, each says so once under its own name: the door (its group) and the
    // resource state's fold (a stable fold name). The compiler is off in this harness.
    List<ConsumerRecord<byte[], byte[]>> dead = consume(h.resourcesTopic + ".dlq", rec -> true, 2);
    assertThat(dead).allSatisfy(d -> {
      assertThat(new String(d.value(), StandardCharsets.UTF_8)).isEqualTo("not avro at all");
      assertThat(DeadLetters.header(d.headers(), DeadLetters.REASON)).isNotBlank();
    });
    assertThat(dead).extracting(d -> DeadLetters.header(d.headers(), DeadLetters.GROUP))
        .doesNotHaveDuplicates().contains("policy-resources-fold").hasSize(2).doesNotContainNull();

    // not stored (invalid), and the service keeps serving
    assertThat(h.send("GET", "/v1/resources/tr/shop/raw", null).statusCode()).isEqualTo(404);
    assertThat(h.send("POST", "/v1/resources", route("after-garbage", 50, 50)).statusCode()).isEqualTo(201);
    assertThat(h.send("GET", "/readyz", null).statusCode()).isEqualTo(200);
    assertThat(h.send("GET", "/metrics", null).body())
        .contains("lattice_policy_door_rejected_total").contains("lattice_policy_door_dead_lettered_total");
  }

  @Test
  void isDiscoveredByTheServiceLoader() {
    assertThat(java.util.ServiceLoader.load(dev.lattice.kit.service.LatticeService.class).stream()
        .map(p -> p.type().getName())).contains("dev.lattice.policy.PolicyService");
  }

  @Test
  void explainAnswersWithThePolicyAndRule() throws Exception {
    String policies = """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: deny-admin, namespace: bank}
        spec:
          action: DENY
          rules:
          - to: [{operation: {paths: ["/admin/*"]}}]
        ---
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: allow-web, namespace: bank}
        spec:
          rules:
          - from: [{source: {principals: ["lattice.local/ns/shop/sa/web"]}}]
        ---
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata:
          name: deny-writes
          namespace: bank
          annotations: {lattice.dev/dry-run: "true"}
        spec:
          action: DENY
          rules:
          - to: [{operation: {methods: [POST, PUT]}}]
        """;
    assertThat(h.send("POST", "/v1/resources", policies).statusCode()).isEqualTo(201);
    JsonObject deny = new JsonObject(h.send("GET",
        "/v1/explain?from=spiffe://lattice.local/ns/shop/sa/web&to=ledger.bank&method=GET&path=/admin/x", null).body());
    assertThat(deny.getString("verdict")).isEqualTo("DENY");
    JsonObject d = deny.getJsonArray("decisions").getJsonObject(0);
    assertThat(d.getString("policy")).isEqualTo("bank/deny-admin");
    assertThat(d.getInteger("rule")).isZero();
    assertThat(deny.getString("note")).contains("no workloads in the registry");

    HttpResponse<String> post = h.send("POST", "/v1/explain", new JsonObject()
        .put("from", "spiffe://lattice.local/ns/shop/sa/web").put("to", "ledger.bank").put("method", "POST").put("path", "/pay").encode(),
        "application/json");
    JsonObject allow = new JsonObject(post.body()).getJsonArray("decisions").getJsonObject(0);
    assertThat(allow.getString("verdict")).isEqualTo("ALLOW");
    assertThat(allow.getString("policy")).isEqualTo("bank/allow-web");
    assertThat(allow.getJsonObject("dryRun").getString("verdict")).isEqualTo("DENY");
    assertThat(allow.getJsonObject("dryRun").getString("policy")).isEqualTo("bank/deny-writes");

    HttpResponse<String> bad = h.send("GET", "/v1/explain?from=spiffe://Bad_TD/x&to=ledger.bank", null);
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("trust domain");
  }

  @Test
  void explainUsesTheRegistryToFindTheDestinationWorkloadLabels() throws Exception {
    String policy = """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: ledger-no-delete, namespace: vault}
        spec:
          selector: {matchLabels: {app: ledger}}
          action: DENY
          rules:
          - to: [{operation: {methods: [DELETE]}}]
        """;
    assertThat(h.send("POST", "/v1/resources", policy).statusCode()).isEqualTo(201);
    String explain = "/v1/explain?from=spiffe://lattice.local/ns/shop/sa/web&to=ledger.vault&method=DELETE&path=/x";
    JsonObject before = new JsonObject(h.send("GET", explain, null).body());
    assertThat(before.getString("verdict")).as("labels unknown: the selector cannot match").isEqualTo("ALLOW");

    HttpResponse<String> registered = h.send("PUT", "/v1/registry/vault/ledger/vm-1", new JsonObject()
        .put("services", new io.vertx.core.json.JsonArray().add("ledger")).put("address", "10.9.0.5")
        .put("node", "node-a").put("serviceAccount", "ledger").put("labels", new JsonObject().put("app", "ledger"))
        .put("ports", new io.vertx.core.json.JsonArray().add(new JsonObject().put("name", "http").put("port", 8080)
            .put("targetPort", 8080).put("protocol", "HTTP"))).encode(), "application/json");
    assertThat(registered.statusCode()).as(registered.body()).isBetween(200, 204);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
      JsonObject after = new JsonObject(h.send("GET", explain, null).body());
      assertThat(after.getString("verdict")).isEqualTo("DENY");
      JsonObject d = after.getJsonArray("decisions").getJsonObject(0);
      assertThat(d.getJsonObject("labels").getString("app")).isEqualTo("ledger");
      assertThat(d.getString("policy")).isEqualTo("vault/ledger-no-delete");
      assertThat(after.getString("note")).isNull();
    });
  }

  static List<ConsumerRecord<byte[], byte[]>> consume(String topic, java.util.function.Predicate<ConsumerRecord<byte[], byte[]>> filter, int atLeast) {
    List<ConsumerRecord<byte[], byte[]>> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("reader")),
        new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      c.subscribe(List.of(topic));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        c.poll(Duration.ofMillis(200)).forEach(rec -> {
          if (filter.test(rec)) out.add(rec);
        });
        return out.size() >= atLeast;
      });
    }
    return out;
  }
}
