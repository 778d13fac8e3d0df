package dev.lattice.policy.api;

import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.deadletter.DeadLetterPublisher;
import dev.lattice.kit.fold.FoldListener;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.topic.Topic;
import dev.lattice.policy.model.DestinationPolicy;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceKey;
import dev.lattice.policy.model.ResourceKind;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.model.ResourceView;
import dev.lattice.policy.model.ServiceHost;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The policy service's view of {@code lattice.resources.v1}: a {@link TopicFold} of the topic, keeping
 * per key the last <em>compilable</em> version ({@link ResourceValidator#isCompilable}) — an invalid
 * record published straight to Kafka is ignored here exactly as the compiler ignores it. Writes made
 * through this service are recorded as soon as the broker acknowledges them (read-your-writes), and a
 * fold record older than such a write does not replace it.
 *
 * <p>Thread-safe: the fold thread writes, handlers read. The creator closes it.
 */
public final class ResourceStore implements ResourceView, AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ResourceStore.class);

  /** One stored resource with the event it came from. */
  public record Entry(Resource resource, ResourceEvent event) {
    public long resourceVersion() {
      return event.getResourceVersion();
    }
  }

  private final Map<String, Entry> entries = new ConcurrentHashMap<>();
  private final Map<String, Long> deletedVersions = new ConcurrentHashMap<>();
  private final TopicFold<ResourceEvent> fold;

  private ResourceStore(Topic<String, ResourceEvent> topic, Map<String, Object> consumerConfig, DeadLetterPublisher dlq) {
    this.fold = TopicFold.builder(topic, consumerConfig, dlq)
        .listenerExecutor(Runnable::run)
        .listener(new FoldListener<>() {
          @Override
          public void upserted(String key, ResourceEvent value, ResourceEvent previous) {
            apply(key, value, false);
          }

          @Override
          public void deleted(String key, ResourceEvent previous) {
            // The fold may lag this service's own writes: a late tombstone must not delete a newer
            // version that was written (and recorded locally) after it.
            long deletedVersion = previous == null ? Long.MAX_VALUE : previous.getResourceVersion();
            Entry current = entries.get(key);
            if (current == null || current.resourceVersion() <= deletedVersion) remove(key);
          }
        })
        .build();
  }

  /** Starts folding {@code topic} (returns at once; see {@link #caughtUp()}). */
  public static ResourceStore start(Topic<String, ResourceEvent> topic, Map<String, Object> consumerConfig,
      DeadLetterPublisher deadLetters) {
    ResourceStore s = new ResourceStore(topic, consumerConfig, deadLetters);
    s.fold.start();
    return s;
  }

  private void apply(String key, ResourceEvent event, boolean local) {
    Resource r;
    try {
      r = ResourceEventMapper.toResource(event);
    } catch (RuntimeException e) {
      LOG.debug("ignoring {}: {}", key, e.getMessage());
      return;
    }
    // The door's admission: a record whose key is not its resource's key is rejected there and skipped by
    // the compiler, so it must not be served here either (issue 12 item 8).
    if (!r.key().asString().equals(key)) {
      LOG.debug("ignoring {}: it holds {}", key, r.key());
      return;
    }
    if (!ResourceValidator.isCompilable(r)) {
      LOG.debug("ignoring invalid {} (kept the last valid version)", key);
      return;
    }
    // A late replay of a version this service already deleted must not resurrect it.
    Long deleted = deletedVersions.get(key);
    if (!local && deleted != null && deleted >= event.getResourceVersion()) return;
    entries.compute(key, (k, current) -> {
      if (!local && current != null && current.resourceVersion() > event.getResourceVersion()) return current;
      return new Entry(r, event);
    });
    deletedVersions.remove(key);
  }

  private void remove(String key) {
    Entry old = entries.remove(key);
    if (old != null) deletedVersions.merge(key, old.resourceVersion(), Math::max);
  }

  /** Records a write this service just made (broker acknowledged). */
  public void recordWrite(String key, ResourceEvent event) {
    apply(key, event, true);
  }

  /** Records a delete this service just made (broker acknowledged). */
  public void recordDelete(String key) {
    remove(key);
  }

  public Optional<Entry> get(ResourceKey key) {
    return Optional.ofNullable(entries.get(key.asString()));
  }

  /** The highest resourceVersion seen for {@code key}, also after it was deleted (0 if never seen). */
  public long lastVersion(ResourceKey key) {
    Entry e = entries.get(key.asString());
    if (e != null) return e.resourceVersion();
    return deletedVersions.getOrDefault(key.asString(), 0L);
  }

  /** Resources of {@code kind} (null = all) in {@code namespace} (null = all), sorted by key. */
  public List<Entry> list(ResourceKind kind, String namespace) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries.values()) {
      ResourceKey k = e.resource().key();
      if ((kind == null || k.kind() == kind) && (namespace == null || k.namespace().equals(namespace))) out.add(e);
    }
    out.sort(Comparator.comparing(e -> e.resource().key().asString()));
    return out;
  }

  @Override
  public Optional<DestinationPolicy> destinationPolicyFor(String canonicalHost) {
    for (Entry e : entries.values()) {
      if (e.resource() instanceof DestinationPolicy dp && dp.spec().host() != null
          && ServiceHost.canonical(dp.spec().host(), dp.metadata().namespaceOrDefault()).equals(canonicalHost)) {
        return Optional.of(dp);
      }
    }
    return Optional.empty();
  }

  /** Whether the fold has replayed the topic up to where it was at start. */
  public boolean caughtUp() {
    return fold.caughtUp();
  }

  public CompletionStage<Void> whenCaughtUp() {
    return fold.whenCaughtUp();
  }

  @Override
  public void close() {
    fold.close();
  }
}
