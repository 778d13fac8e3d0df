package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.ResourceSource;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 12 items 7 and 8: re-applying is idempotent, and the REST fold applies the door's admission (a
 * record whose key is not its resource's key is served by no reader). Real broker, real HTTP.
 */
@LatticeKafkaTest
class ApplySafetyTest {
  private static final Path EXAMPLES = Path.of("..", "docs", "examples", "policy");
  private static PolicyServiceHarness h;
  private static KafkaCluster cluster;

  @BeforeAll
  static void start(KafkaCluster c) throws Exception {
    cluster = c;
    h = new PolicyServiceHarness(c);
  }

  @AfterAll
  static void stop() throws Exception {
    h.close();
  }

  static String route(String namespace, String name) {
    return """
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: [web]
          http:
          - route:
            - destination: {host: web}
        """.formatted(name, namespace);
  }

  /** A valid TrafficRoute of about {@code bytes} bytes of YAML: many header-matched routes. */
  static String bigRoute(String namespace, String name, int bytes) {
    StringBuilder b = new StringBuilder("""
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata: {name: %s, namespace: %s}
        spec:
          hosts: [web]
          http:
        """.formatted(name, namespace));
    for (int i = 0; b.length() < bytes; i++) {
      b.append("  - name: r").append(i).append('\n')
          .append("    match: [{headers: {x-tenant: {exact: tenant-").append(i).append("-abcdefghijklmnopqrstuvwxyz}}}]\n")
          .append("    route: [{destination: {host: web}}]\n");
    }
    return b.toString();
  }

  static long endOffsets(String topic) throws Exception {
    int partitions = cluster.adminClient().describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS)
        .get(topic).partitions().size();
    Map<TopicPartition, OffsetSpec> query = new java.util.HashMap<>();
    for (int p = 0; p < partitions; p++) query.put(new TopicPartition(topic, p), OffsetSpec.latest());
    return cluster.adminClient().listOffsets(query).all().get(30, TimeUnit.SECONDS).values().stream()
        .mapToLong(i -> i.offset()).sum();
  }

  // ------------------------------------------------------------------ item 7

  static String examples() throws Exception {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      // DestinationPolicy first: the routes name its subsets
      List<Path> sorted = files.filter(p -> p.toString().endsWith(".yaml")).sorted((a, b) ->
          a.getFileName().toString().startsWith("destination") ? -1 : b.getFileName().toString().startsWith("destination") ? 1
              : a.compareTo(b)).toList();
      List<String> texts = new ArrayList<>();
      for (Path p : sorted) texts.add(Files.readString(p));
      return String.join("\n---\n", texts);
    }
  }

  @Test
  void reApplyingTheDocsExamplesIsUnchangedAndDiffFindsNothing() throws Exception {
    String all = examples();
    HttpResponse<String> first = h.send("POST", "/v1/resources", all);
    assertThat(first.statusCode()).as(first.body()).isIn(200, 201);
    JsonArray created = new JsonObject(first.body()).getJsonArray("results");
    assertThat(created.size()).isGreaterThanOrEqualTo(8);
    Map<String, String> versions = created.stream().map(JsonObject.class::cast)
        .collect(Collectors.toMap(o -> o.getString("key"), o -> o.getString("resourceVersion")));
    long written = endOffsets(h.resourcesTopic);

    HttpResponse<String> second = h.send("POST", "/v1/resources", all);
    assertThat(second.statusCode()).as(second.body()).isEqualTo(200);
    for (Object o : new JsonObject(second.body()).getJsonArray("results")) {
      JsonObject res = (JsonObject) o;
      assertThat(res.getString("action")).as(res.getString("key")).isEqualTo("unchanged");
      assertThat(res.getString("resourceVersion")).as(res.getString("key")).isEqualTo(versions.get(res.getString("key")));
    }
    assertThat(endOffsets(h.resourcesTopic)).as("an unchanged apply writes nothing").isEqualTo(written);

    // what `lattice diff` asks: every result unchanged, no diff lines
    HttpResponse<String> diff = h.send("POST", "/v1/resources?dryRun=true", all);
    assertThat(diff.statusCode()).isEqualTo(200);
    for (Object o : new JsonObject(diff.body()).getJsonArray("results")) {
      JsonObject res = (JsonObject) o;
      assertThat(res.getString("action")).as(res.getString("key")).isEqualTo("unchanged");
      assertThat(res.getJsonArray("diff")).as(res.getString("key")).isEmpty();
    }
    // the same resources as read back (server fields included) are unchanged too
    String got = h.send("GET", "/v1/resources/tr/bookinfo/reviews?output=yaml", null).body();
    HttpResponse<String> again = h.send("POST", "/v1/resources", got);
    assertThat(again.body()).contains("\"unchanged\"");
  }

  // ------------------------------------------------------------------ item 8

  @Test
  void aRecordTheDoorRejectsIsNotServedByGet() throws Exception {
    String pa = """
        apiVersion: lattice.dev/v1alpha1
        kind: PeerAuthentication
        metadata: {name: sneaky, namespace: mixup}
        spec:
          mtls: {mode: PERMISSIVE}
        """;
    Resource resource = ResourceParser.create().parseOne(pa).resource();
    ResourceEvent event = ResourceEventMapper.toEvent(resource,
        new ResourceEventMapper.Provenance(1, "mallory", ResourceSource.KAFKA, Instant.now()));
    String key = "AuthorizationPolicy/mixup/sneaky";
    KafkaRecords.produce(cluster, h.resourcesTopic, key, AvroSerde.of(ResourceEvent.class).encode(event));
    // a valid record after it: once it is served, the fold has passed the bad one
    KafkaRecords.produce(cluster, h.resourcesTopic, "TrafficRoute/mixup/marker", AvroSerde.of(ResourceEvent.class).encode(
        ResourceEventMapper.toEvent(ResourceParser.create().parseOne(route("mixup", "marker")).resource(),
            new ResourceEventMapper.Provenance(1, "alice", ResourceSource.KAFKA, Instant.now()))));

    await().atMost(Duration.ofSeconds(30)).until(() -> h.send("GET", "/v1/resources/tr/mixup/marker", null).statusCode() == 200);
    List<ResourceRejected> rejected = new ArrayList<>();
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      KafkaRecords.readFromBeginning(cluster, h.rejectedTopic, 1).stream()
          .filter(rec -> new String(rec.key()).equals(key))
          .forEach(rec -> rejected.add(AvroSerde.of(ResourceRejected.class).decode(rec.value())));
      return !rejected.isEmpty();
    });
    assertThat(rejected.get(0).getReason()).contains("does not match");

    assertThat(h.send("GET", "/v1/resources/authorizationpolicies/mixup/sneaky", null).statusCode()).isEqualTo(404);
    assertThat(h.send("GET", "/v1/resources/peerauthentications/mixup/sneaky", null).statusCode()).isEqualTo(404);
    assertThat(new JsonObject(h.send("GET", "/v1/resources?namespace=mixup", null).body()).getJsonArray("items"))
        .hasSize(1);
  }
}
