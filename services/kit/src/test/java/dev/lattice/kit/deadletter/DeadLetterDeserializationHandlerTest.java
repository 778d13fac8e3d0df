package dev.lattice.kit.deadletter;

import static dev.lattice.kit.topic.KafkaTestSupport.key;
import static dev.lattice.kit.topic.KafkaTestSupport.produceRaw;
import static dev.lattice.kit.topic.KafkaTestSupport.readRaw;
import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.junit.jupiter.api.Test;

@LatticeKafkaTest
class DeadLetterDeserializationHandlerTest {

  @Test
  void aStreamsAppDeadLettersGarbageAndKeepsProcessing(KafkaCluster cluster) throws Exception {
    Topic<String, ResourceEvent> input = LatticeTopics.renamed(LatticeTopics.RESOURCES,
        cluster.createTopic(cluster.uniqueTopic("streams.in"), 1, Map.of("cleanup.policy", "compact")));
    String output = cluster.createTopic(cluster.uniqueTopic("streams.out"), 1, Map.of());
    cluster.createTopic(input.deadLetterTopic(), 1, Map.of());

    ResourceEvent valid = resource("after-garbage", 3);
    byte[] garbage = "{\"kind\":\"not avro\"}".getBytes(StandardCharsets.UTF_8);
    produceRaw(cluster, input.name(), "PeerAuthentication/default/garbage", garbage);
    produceRaw(cluster, input.name(), key(valid), input.valueSerde().serializer().serialize(input.name(), valid));

    StreamsBuilder builder = new StreamsBuilder();
    builder.stream(input.name(), Consumed.with(input.keySerde(), input.valueSerde()))
        .mapValues(ResourceEvent::getName)
        .to(output, Produced.with(Serdes.String(), Serdes.String()));
    Path stateDir = Files.createTempDirectory(Path.of(System.getProperty("java.io.tmpdir")), "streams-");
    Properties props = KafkaClientConfig.of(cluster.bootstrapServers(), "test")
        .streams(cluster.uniqueTopic("dlq-app"), cluster.brokerCount());
    props.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());

    try (KafkaStreams streams = new KafkaStreams(builder.build(), props)) {
      streams.start();

      List<ConsumerRecord<byte[], byte[]>> out = readRaw(cluster, output, 1);
      assertThat(new String(out.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("after-garbage");

      List<ConsumerRecord<byte[], byte[]>> dead = readRaw(cluster, input.deadLetterTopic(), 1);
      ConsumerRecord<byte[], byte[]> letter = dead.get(0);
      assertThat(letter.value()).isEqualTo(garbage);
      assertThat(new String(letter.key(), StandardCharsets.UTF_8)).isEqualTo("PeerAuthentication/default/garbage");
      assertThat(DeadLetters.header(letter.headers(), DeadLetters.REASON)).contains("bad header");
      assertThat(DeadLetters.header(letter.headers(), DeadLetters.TOPIC)).isEqualTo(input.name());
      assertThat(DeadLetters.header(letter.headers(), DeadLetters.PARTITION)).isEqualTo("0");
      assertThat(DeadLetters.header(letter.headers(), DeadLetters.OFFSET)).isEqualTo("0");
      assertThat(DeadLetters.header(letter.headers(), DeadLetters.ERROR))
          .isEqualTo("dev.lattice.schemas.serde.UndecodableEventException");
      assertThat(streams.state()).isIn(KafkaStreams.State.RUNNING, KafkaStreams.State.REBALANCING);
      streams.close(Duration.ofSeconds(10));
    }
  }
}
