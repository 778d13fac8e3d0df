package dev.lattice.distributor.ingest;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.key;
import static dev.lattice.distributor.ConfigFixtures.listener;
import static dev.lattice.distributor.ConfigFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.distributor.ConfigDistributorService;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.deadletter.DeadLetters;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The distributor folding a real lattice.config.v1 topic on the embedded broker. */
@LatticeKafkaTest
class ConfigFoldAcceptanceTest {

  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);
  private final HttpClient http = HttpClient.newHttpClient();
  private final List<ServiceLauncher> launchers = new ArrayList<>();

  @AfterEach
  void stop() throws Exception {
    for (ServiceLauncher l : launchers) {
      l.stop().toCompletionStage().toCompletableFuture().get();
    }
  }

  private record Started(ConfigDistributorService service, RunningService running) {}

  private Started start(KafkaCluster kafka, String topic) throws Exception {
    ServiceLauncher launcher = ServiceLauncher.create(LatticeConfig.of(Map.of(
        "kafka.bootstrap.servers", kafka.bootstrapServers(),
        "distributor.topics.config", topic,
        "distributor.http.port", "0",
        "distributor.grpc.port", "0",
        "distributor.grpc.plaintext", "true")));
    launchers.add(launcher);
    ConfigDistributorService service = new ConfigDistributorService();
    RunningService running = launcher.start(List.of(service)).toCompletionStage().toCompletableFuture().get().get(0);
    return new Started(service, running);
  }

  private static void publish(KafkaCluster kafka, String topic, ConfigResource r) {
    KafkaRecords.produce(kafka, topic, key(r.getNode(), r.getType(), r.getName()), SERDE.encode(r));
  }

  private HttpResponse<String> get(RunningService s, String path) throws Exception {
    return http.send(HttpRequest.newBuilder(s.url(path)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void garbageAndSchemaNewerRecordsGoToTheDeadLetterTopicAndTheDistributorKeepsServing(KafkaCluster kafka)
      throws Exception {
    String topic = kafka.uniqueTopic("lattice.config.v1");
    Started first = start(kafka, topic);
    await().atMost(Duration.ofSeconds(30)).until(() -> get(first.running(), "/readyz").statusCode() == 200);

    publish(kafka, topic, cluster("n1", "c1", 80));
    KafkaRecords.produce(kafka, topic, "n1/CLUSTER/garbage", "not avro at all".getBytes(StandardCharsets.UTF_8));
    KafkaRecords.produce(kafka, topic, "n1/CLUSTER/newer", newerWriterBytes(cluster("n1", "newer", 81)));
    publish(kafka, topic, route("n1", "r1", "c1"));
    publish(kafka, topic, listener("n1", "l1", 9080, "r1"));
    publish(kafka, topic, listener("n1", "l2", 9081, "r-missing"));

    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(first.service().cache().snapshot("n1").resources(ConfigType.LISTENER)).containsOnlyKeys("l1"));
    List<ConsumerRecord<byte[], byte[]>> dead = KafkaRecords.readFromBeginning(kafka, topic + ".dlq", 2);
    assertThat(dead).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
        .containsExactlyInAnyOrder("n1/CLUSTER/garbage", "n1/CLUSTER/newer");
    assertThat(dead).extracting(r -> new String(r.headers().lastHeader(DeadLetters.REASON).value(), StandardCharsets.UTF_8))
        .anySatisfy(reason -> assertThat(reason).contains("bad header"))
        .anySatisfy(reason -> assertThat(reason).contains("unknown schema fingerprint"));
    assertThat(first.service().cache().snapshot("n1").resources(ConfigType.CLUSTER)).containsOnlyKeys("c1");

    JsonObject node = new JsonObject(get(first.running(), "/v1/nodes/n1").body());
    assertThat(node.getJsonObject("resources").getJsonObject("LISTENER").fieldNames()).containsExactly("l1");
    assertThat(node.getJsonArray("held_back").getJsonObject(0).getString("reason"))
        .isEqualTo("LISTENER l2 references ROUTE r-missing, which is not in the snapshot");

    // a second instance rebuilds the same state from the log alone, and is ready only once it has
    publish(kafka, topic, ConfigResource.newBuilder(cluster("n2", "c1", 80)).build());
    Started second = start(kafka, topic);
    second.service().fold().whenCaughtUp().toCompletableFuture().get();
    assertThat(get(second.running(), "/readyz").statusCode()).isEqualTo(200);
    assertThat(second.service().cache().snapshot("n1").version(ConfigType.LISTENER))
        .isEqualTo(first.service().cache().snapshot("n1").version(ConfigType.LISTENER));
    assertThat(second.service().cache().nodes()).containsExactlyInAnyOrder("n1", "n2");
    assertThat(second.service().fold().deadLettered()).isEqualTo(2);

    // a tombstone removes the resource (the listener that needs it holds the removal back)
    KafkaRecords.produce(kafka, topic, key("n2", ConfigType.CLUSTER, "c1"), null);
    await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
        assertThat(second.service().cache().snapshot("n2").size()).isZero());
  }

  /** The bytes a newer writer (a ConfigResource schema with one more field) produces: an unknown fingerprint. */
  private static byte[] newerWriterBytes(ConfigResource r) {
    byte[] current = SERDE.encode(r);
    Schema newer = new Schema.Parser().parse(ConfigResource.getClassSchema().toString()
        .replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"zone\",\"type\":\"string\",\"default\":\"\"},"));
    long fingerprint = SchemaNormalization.parsingFingerprint64(newer);
    ByteBuffer.wrap(current, 2, 8).order(ByteOrder.LITTLE_ENDIAN).putLong(fingerprint);
    return current;
  }
}
