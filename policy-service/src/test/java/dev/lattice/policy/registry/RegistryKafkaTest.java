package dev.lattice.policy.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicSpec;
import dev.lattice.policy.kubernetes.KafkaSinks;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The registry on the real broker: the static registry (file sync and REST) publishes through the kit's
 * EventPublisher to a registry topic; the RegistryFold reads it back into the RegistryIndex that
 * validation queries; garbage on the topic is dead-lettered by the fold.
 */
@LatticeKafkaTest
class RegistryKafkaTest {

  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  Vertx vertx;
  EventPublisher publisher;
  DeadLetterPublisher deadLetters;
  RegistryFold fold;
  Topic<String, WorkloadEndpoint> topic;
  KafkaCluster cluster;

  @BeforeEach
  void setUp(KafkaCluster cluster) {
    this.cluster = cluster;
    String name = cluster.createTopic(cluster.uniqueTopic("registry"), 3, Map.of("cleanup.policy", "compact"));
    cluster.createTopic(name + ".dlq", 1, Map.of());
    topic = Topic.of(TopicSpec.compacted(name, 3), Serdes.String(), AvroSerde.of(WorkloadEndpoint.class));
    vertx = Vertx.vertx();
    KafkaClientConfig kafka = KafkaClientConfig.of(cluster.bootstrapServers(), "policy");
    publisher = EventPublisher.create(vertx, kafka, "registry-test");
    deadLetters = DeadLetterPublisher.create(kafka.producer("dlq"));
    fold = RegistryFold.start(topic, kafka.consumer(null, "registry-fold"), deadLetters);
  }

  @AfterEach
  void tearDown() throws Exception {
    fold.close();
    publisher.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    deadLetters.close();
    vertx.close().toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }

  @Test
  void staticFileSyncPublishesAndRemovesAndTheFoldSeesIt() throws Exception {
    RegistryIndex index = fold.index();
    await().atMost(Duration.ofSeconds(30)).until(index::available);
    StaticRegistrySync sync = new StaticRegistrySync(KafkaSinks.registry(publisher, topic), index,
        "lattice.local", CLOCK);

    StaticRegistrySync.Outcome first = sync.sync(StaticRegistryTest.VALID).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(first.upserted()).containsExactly("legacy/billing/vm-1", "legacy/billing/vm-2");
    await().atMost(Duration.ofSeconds(30)).until(() -> index.size() == 2);
    assertThat(index.knowsHost("billing.legacy")).isTrue();
    assertThat(index.hasWorkloadsInNamespace("legacy")).isTrue();
    assertThat(index.hasWorkloadsInNamespace("default")).isFalse();
    assertThat(index.anyEndpointMatches("billing.legacy", Map.of("version", "v3"))).isTrue();
    assertThat(index.anyEndpointMatches("billing.legacy", Map.of("version", "v4"))).isFalse();
    assertThat(index.workloadsForHost("billing.legacy")).extracting(w -> w.name()).containsExactly("billing");

    // the file loses vm-2: its tombstone removes it
    String smaller = StaticRegistryTest.VALID.substring(0, StaticRegistryTest.VALID.indexOf("- namespace: legacy\n  workload: billing\n  instance: vm-2"));
    StaticRegistrySync.Outcome second = sync.sync(smaller).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(second.removed()).containsExactly("legacy/billing/vm-2");
    await().atMost(Duration.ofSeconds(30)).until(() -> index.size() == 1);

    // an invalid file publishes nothing
    StaticRegistrySync.Outcome bad = sync.sync("kind: StaticRegistry\nworkloads: [{namespace: x}]")
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertThat(bad.errors()).isNotEmpty();
    assertThat(bad.upserted()).isEmpty();
  }

  @Test
  void restPutAndDeleteGoThroughKafkaAndGarbageIsDeadLettered() throws Exception {
    RegistryIndex index = fold.index();
    Router router = Router.router(vertx);
    new StaticRegistryRoutes(KafkaSinks.registry(publisher, topic), index, "lattice.local", CLOCK).mount(router);
    HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpClient client = vertx.createHttpClient();
    try {
      JsonObject ok = call(client, server.actualPort(), HttpMethod.PUT, "/v1/registry/legacy/db/vm-7",
          "{\"services\":[\"db\"],\"address\":\"10.9.0.7\",\"node\":\"vm-node\",\"ports\":[{\"port\":5432}]}", 200);
      assertThat(ok.getString("key")).isEqualTo("legacy/db/vm-7");
      await().atMost(Duration.ofSeconds(30)).until(() -> index.knowsHost("db.legacy"));

      JsonObject bad = call(client, server.actualPort(), HttpMethod.PUT, "/v1/registry/legacy/db/vm-8",
          "{\"address\":\"10.9.0.8\",\"ports\":[{\"port\":0}]}", 400);
      assertThat(bad.getJsonArray("errors").getString(0)).isEqualTo("body.ports[0].port: 0 (expected: 1..65535)");

      call(client, server.actualPort(), HttpMethod.DELETE, "/v1/registry/legacy/db/vm-7", null, 200);
      await().atMost(Duration.ofSeconds(30)).until(() -> !index.knowsHost("db.legacy"));
    } finally {
      server.close();
    }

    try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(cluster.producerProps(), new StringSerializer(),
        new ByteArraySerializer())) {
      raw.send(new ProducerRecord<>(topic.name(), "x/y/z", new byte[] {9, 9, 9})).get(30, TimeUnit.SECONDS);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> fold.caughtUp() && index.size() == 0
        && deadLettered() == 1);
  }

  private long deadLettered() {
    try {
      java.lang.reflect.Field f = RegistryFold.class.getDeclaredField("fold");
      f.setAccessible(true);
      return ((dev.lattice.kit.fold.TopicFold<?>) f.get(fold)).deadLettered();
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException(e);
    }
  }

  private JsonObject call(HttpClient client, int port, HttpMethod method, String path, String body, int status)
      throws Exception {
    return client.request(method, port, "127.0.0.1", path)
        .compose(req -> body == null ? req.send() : req.putHeader("content-type", "application/json").send(Buffer.buffer(body)))
        .compose(resp -> {
          assertThat(resp.statusCode()).as(method + " " + path).isEqualTo(status);
          return resp.body();
        })
        .map(b -> new JsonObject(b))
        .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
