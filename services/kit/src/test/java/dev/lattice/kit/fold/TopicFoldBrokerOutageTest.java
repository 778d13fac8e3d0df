package dev.lattice.kit.fold;

import static dev.lattice.kit.topic.KafkaTestSupport.key;
import static dev.lattice.kit.topic.KafkaTestSupport.resource;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kafka.embedded.EmbeddedKafkaBroker;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.kafka.KafkaClientConfig;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicProvisioner;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fold outlives its broker: this test owns a broker of its own so it can stop and restart it. */
class TopicFoldBrokerOutageTest {

  @Test
  void aFoldKeepsItsStateWhileTheBrokerIsAwayAndResumesWhenItReturns(@TempDir Path dir) throws Exception {
    Topic<String, ResourceEvent> topic = LatticeTopics.renamed(LatticeTopics.RESOURCES, "outage.resources.v1");
    ResourceEvent before = resource("before-outage", 1);
    ResourceEvent after = resource("after-outage", 1);

    EmbeddedKafkaBroker first = EmbeddedKafkaBroker.builder().dataDir(dir).build().start();
    int brokerPort = first.brokerPort();
    int controllerPort = first.controllerPort();
    KafkaClientConfig clients = KafkaClientConfig.of(first.bootstrapServers(), "outage");
    EmbeddedKafkaBroker second = null;
    try (Admin admin = Admin.create(clients.admin("admin"))) {
      new TopicProvisioner(admin).ensure(List.of(topic.spec(), topic.spec().deadLetter()))
          .toCompletableFuture().get(60, TimeUnit.SECONDS);
    }
    try (DeadLetterPublisher deadLetters = DeadLetterPublisher.create(clients.producer("dlq"))) {
      send(clients, topic, before);
      try (TopicFold<ResourceEvent> fold =
          TopicFold.builder(topic, clients.consumer(null, "fold"), deadLetters).build().start()) {
        fold.whenCaughtUp().toCompletableFuture().get(30, TimeUnit.SECONDS);

        first.close();
        assertThat(fold.snapshot()).containsOnlyKeys(key(before));

        second = EmbeddedKafkaBroker.builder().dataDir(dir).brokerPort(brokerPort).controllerPort(controllerPort)
            .build().start();
        send(clients, topic, after);
        await().atMost(Duration.ofSeconds(60))
            .untilAsserted(() -> assertThat(fold.snapshot()).containsOnlyKeys(key(before), key(after)));
      }
    } finally {
      first.close();
      if (second != null) {
        second.close();
      }
    }
  }

  private static void send(KafkaClientConfig clients, Topic<String, ResourceEvent> topic, ResourceEvent event)
      throws Exception {
    try (KafkaProducer<String, ResourceEvent> producer = new KafkaProducer<>(clients.producer("writer"),
        topic.keySerde().serializer(), topic.valueSerde().serializer())) {
      producer.send(new ProducerRecord<>(topic.name(), key(event), event)).get(30, TimeUnit.SECONDS);
    }
  }
}
