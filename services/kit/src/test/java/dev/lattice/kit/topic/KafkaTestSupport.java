package dev.lattice.kit.topic;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.PeerAuthenticationMtls;
import dev.lattice.events.policy.PeerAuthenticationSpec;
import dev.lattice.events.policy.WorkloadSelector;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/** Sample events and raw read/write helpers for the kit's real-broker tests. */
public final class KafkaTestSupport {

  private KafkaTestSupport() {}

  /** A valid PeerAuthentication resource named {@code name} in namespace {@code default}. */
  public static ResourceEvent resource(String name, long revision) {
    return ResourceEvent.newBuilder()
        .setApiVersion("lattice.dev/v1")
        .setKind("PeerAuthentication")
        .setNamespace("default")
        .setName(name)
        .setUid("uid-" + name)
        .setLabels(Map.of("team", "mesh"))
        .setAnnotations(Map.of("note", "acceptance"))
        .setResourceVersion(revision)
        .setGeneration(revision)
        .setCreationTimestamp(Instant.parse("2026-01-02T03:04:05.678Z"))
        .setAuthor("spiffe://lattice.local/ns/ops/sa/admin")
        .setSource(ResourceSource.REST)
        .setSpec(PeerAuthenticationSpec.newBuilder()
            .setSelector(WorkloadSelector.newBuilder().setMatchLabels(Map.of("app", "reviews")).build())
            .setMtls(PeerAuthenticationMtls.newBuilder().setMode(MtlsMode.STRICT).build())
            .build())
        .build();
  }

  /** The resources-topic key of a sample resource. */
  public static String key(ResourceEvent e) {
    return e.getKind() + "/" + e.getNamespace() + "/" + e.getName();
  }

  /** Writes raw bytes (null value = tombstone) and waits for the acknowledgement. */
  public static void produceRaw(KafkaCluster cluster, String topic, String key, byte[] value) {
    KafkaRecords.produce(cluster, topic, key, value);
  }

  /** Reads every partition of {@code topic} from the beginning until {@code count} records arrived. */
  public static List<ConsumerRecord<byte[], byte[]>> readRaw(KafkaCluster cluster, String topic, int count) {
    return KafkaRecords.readFromBeginning(cluster, topic, count);
  }
}
