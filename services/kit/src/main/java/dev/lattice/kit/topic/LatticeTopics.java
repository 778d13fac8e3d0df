package dev.lattice.kit.topic;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ConfigStatus;
import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.SvidIssued;
import dev.lattice.events.TrustBundle;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.schemas.serde.AvroSerde;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes.StringSerde;

/**
 * Typed descriptors of every catalog topic: string keys, Avro single-object values
 * ({@link AvroSerde}). Use them at every boundary: {@code publisher.publish(LatticeTopics.RESOURCES, key,
 * event)}, {@code Consumed.with(t.keySerde(), t.valueSerde())}, {@code TopicFold.builder(t, …)}.
 *
 * <p>Immutable constants; the serdes are thread-safe and shared.
 */
public final class LatticeTopics {

  private static final StringSerde KEYS = new StringSerde();

  public static final Topic<String, ResourceEvent> RESOURCES = typed(TopicCatalog.RESOURCES, ResourceEvent.class);
  public static final Topic<String, ResourceRejected> RESOURCES_REJECTED =
      typed(TopicCatalog.RESOURCES_REJECTED, ResourceRejected.class);
  public static final Topic<String, WorkloadEndpoint> REGISTRY =
      typed(TopicCatalog.REGISTRY, WorkloadEndpoint.class);
  public static final Topic<String, RegistrationEntry> ENTRIES =
      typed(TopicCatalog.ENTRIES, RegistrationEntry.class);
  public static final Topic<String, TrustBundle> BUNDLES = typed(TopicCatalog.BUNDLES, TrustBundle.class);
  public static final Topic<String, SvidIssued> IDENTITY_AUDIT =
      typed(TopicCatalog.IDENTITY_AUDIT, SvidIssued.class);
  public static final Topic<String, ConfigResource> CONFIG = typed(TopicCatalog.CONFIG, ConfigResource.class);
  public static final Topic<String, ConfigStatus> CONFIG_STATUS =
      typed(TopicCatalog.CONFIG_STATUS, ConfigStatus.class);
  public static final Topic<String, FlowRecord> FLOWS = typed(TopicCatalog.FLOWS, FlowRecord.class);
  public static final Topic<String, EdgeMetrics> METRICS = typed(TopicCatalog.METRICS, EdgeMetrics.class);

  private LatticeTopics() {}

  /** Every typed descriptor, in catalog order. */
  public static List<Topic<String, ?>> all() {
    return List.of(RESOURCES, RESOURCES_REJECTED, REGISTRY, ENTRIES, BUNDLES, IDENTITY_AUDIT, CONFIG,
        CONFIG_STATUS, FLOWS, METRICS);
  }

  /** The string key serde every Lattice topic uses. */
  public static Serde<String> keySerde() {
    return KEYS;
  }

  /**
   * A descriptor for another topic with the same value type, e.g. a test's unique topic name with the
   * resources topic's spec: {@code LatticeTopics.renamed(RESOURCES, name)}.
   */
  public static <V> Topic<String, V> renamed(Topic<String, V> topic, String name) {
    TopicSpec s = topic.spec();
    return Topic.of(new TopicSpec(name, s.partitions(), s.cleanup(), s.retention(), s.extraConfigs()),
        topic.keySerde(), topic.valueSerde());
  }

  private static <V extends SpecificRecord> Topic<String, V> typed(TopicSpec spec, Class<V> type) {
    return Topic.of(spec, KEYS, AvroSerde.of(type));
  }
}
