package dev.lattice.identity.entry;

import dev.lattice.events.RegistrationEntry;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.kit.fold.FoldListener;
import dev.lattice.kit.fold.TopicFold;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.topic.Topic;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * Registration entries, event-sourced on {@code lattice.entries.v1}: the state is a {@link TopicFold} of
 * the topic (undecodable records go to {@code lattice.entries.v1.dlq} and the fold moves on); commands
 * are validated by {@link EntryValidator} and then published as events (create = the entry, delete = a
 * tombstone). Entries written but not yet folded back count for duplicate checks, so two quick creates
 * of the same entry do not both pass.
 *
 * <p>Node entries: when a node attests, {@link #registerNode} writes an entry for its SPIFFE ID with
 * parent {@code spiffe://<td>/lattice/server}, so "which nodes exist" is on the topic too.
 *
 * <p>Thread-safe. Does not own the fold or the publisher: the creator closes them.
 */
public final class EntryRegistry {

  private final TopicFold<RegistrationEntry> fold;
  private final EventPublisher publisher;
  private final Topic<String, RegistrationEntry> topic;
  private final TrustDomain trustDomain;
  private final EntryValidator validator;
  private final Clock clock;
  private final Supplier<Set<SpiffeId>> announcedNodes;
  private final Map<String, RegistrationEntryRecord> inFlight = new ConcurrentHashMap<>();
  private final List<Runnable> changeListeners = new CopyOnWriteArrayList<>();

  /**
   * @param announcedNodes nodes that may parent entries before they attest (e.g. unused join tokens)
   */
  public EntryRegistry(TopicFold<RegistrationEntry> fold, EventPublisher publisher,
      Topic<String, RegistrationEntry> topic, TrustDomain trustDomain, Clock clock,
      Supplier<Set<SpiffeId>> announcedNodes) {
    this(fold, publisher, topic, trustDomain, clock, announcedNodes, new EntryValidator(trustDomain));
  }

  /**
   * @param announcedNodes nodes that may parent entries before they attest (e.g. unused join tokens)
   * @param validator the admission rules (e.g. whether wildcard DNS names are allowed)
   */
  public EntryRegistry(TopicFold<RegistrationEntry> fold, EventPublisher publisher,
      Topic<String, RegistrationEntry> topic, TrustDomain trustDomain, Clock clock,
      Supplier<Set<SpiffeId>> announcedNodes, EntryValidator validator) {
    this.fold = fold;
    this.publisher = publisher;
    this.topic = topic;
    this.trustDomain = trustDomain;
    this.validator = validator;
    this.clock = clock;
    this.announcedNodes = announcedNodes;
    fold.addListener(new FoldListener<>() {
      @Override
      public void upserted(String key, RegistrationEntry value, RegistrationEntry previous) {
        inFlight.remove(key);
        fireChange();
      }

      @Override
      public void deleted(String key, RegistrationEntry previous) {
        inFlight.remove(key);
        fireChange();
      }
    });
  }

  /** The server's own SPIFFE ID, parent of node entries. */
  public SpiffeId serverId() {
    return SpiffeIds.parseLeaf("spiffe://" + trustDomain + "/lattice/server");
  }

  /** Whether the fold has replayed the topic (readiness). */
  public boolean caughtUp() {
    return fold.caughtUp();
  }

  /** Called (on the fold's executor) after every applied change. */
  public void onChange(Runnable listener) {
    changeListeners.add(listener);
  }

  /** Every entry, sorted by SPIFFE ID then id. */
  public List<RegistrationEntryRecord> list() {
    List<RegistrationEntryRecord> out = new ArrayList<>();
    for (RegistrationEntry e : fold.snapshot().values()) {
      out.add(EntryEvents.fromEvent(e));
    }
    out.sort(Comparator.comparing((RegistrationEntryRecord e) -> e.spiffeId().toString()).thenComparing(RegistrationEntryRecord::id));
    return out;
  }

  public Optional<RegistrationEntryRecord> get(String id) {
    return fold.get(id).map(EntryEvents::fromEvent);
  }

  /** Entries the node {@code parentId} may obtain SVIDs for. */
  public List<RegistrationEntryRecord> byParent(SpiffeId parentId) {
    return list().stream().filter(e -> e.parentId().equals(parentId)).toList();
  }

  /** The offset-free revision of the state: how many records the fold applied. */
  public long revision() {
    return fold.applied();
  }

  /** Validates and publishes a new entry; fails with {@link EntryValidationException} on bad input. */
  public Future<RegistrationEntryRecord> create(EntryDraft draft) {
    RegistrationEntryRecord entry;
    synchronized (this) {
      try {
        Collection<RegistrationEntryRecord> existing = new ArrayList<>(list());
        existing.addAll(inFlight.values());
        Set<SpiffeId> nodes = new java.util.HashSet<>(announcedNodes.get());
        entry = validator.validate(UUID.randomUUID().toString(), draft, existing, nodes, clock.instant());
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
      inFlight.put(entry.id(), entry);
    }
    RegistrationEntryRecord created = entry;
    return publisher.publish(topic, entry.id(), EntryEvents.toEvent(entry))
        .map(md -> created)
        .onFailure(err -> inFlight.remove(created.id()));
  }

  /** Deletes {@code id} without cascading: see {@link #delete(String, boolean)}. */
  public Future<Void> delete(String id) {
    return delete(id, false).mapEmpty();
  }

  /**
   * Publishes a tombstone for {@code id}; fails with {@link java.util.NoSuchElementException} if unknown.
   * An entry that other entries hang from (a node entry with its workloads' entries, or any entry named
   * as another's parent) is refused with {@link EntryInUseException} unless {@code cascade}: then its
   * descendants are deleted first, deepest first, and the entry last, so no entry is ever left on the
   * topic without its parent (a failure part-way leaves the entry and its remaining descendants). A child
   * whose parent SPIFFE ID is also held by another entry that stays is not a descendant.
   *
   * @return the ids deleted, in the order their tombstones were written
   */
  public Future<List<String>> delete(String id, boolean cascade) {
    Optional<RegistrationEntryRecord> target = get(id);
    if (target.isEmpty()) {
      return Future.failedFuture(new java.util.NoSuchElementException("entry: '" + id + "' not found"));
    }
    List<RegistrationEntryRecord> descendants = descendantsLeftWithoutParent(target.get());
    if (!descendants.isEmpty() && !cascade) {
      return Future.failedFuture(new EntryInUseException(id, target.get().spiffeId().toString(), descendants));
    }
    List<String> order = new ArrayList<>();
    for (int i = descendants.size() - 1; i >= 0; i--) {
      order.add(descendants.get(i).id());
    }
    order.add(id);
    Future<Void> chain = Future.succeededFuture();
    for (String doomed : order) {
      chain = chain.compose(v -> publisher.publish(topic, doomed, (RegistrationEntry) null).mapEmpty());
    }
    return chain.map(v -> List.copyOf(order));
  }

  /** Entries that would lose their parent if {@code root} went, in discovery order (parents before children). */
  private List<RegistrationEntryRecord> descendantsLeftWithoutParent(RegistrationEntryRecord root) {
    Map<String, RegistrationEntryRecord> all = new java.util.LinkedHashMap<>();
    list().forEach(e -> all.put(e.id(), e));
    inFlight.values().forEach(e -> all.putIfAbsent(e.id(), e));
    Set<String> going = new java.util.HashSet<>(Set.of(root.id()));
    List<RegistrationEntryRecord> found = new ArrayList<>();
    boolean grew = true;
    while (grew) {
      grew = false;
      Set<SpiffeId> stillHeld = new java.util.HashSet<>();
      Set<SpiffeId> goingIds = new java.util.HashSet<>();
      for (RegistrationEntryRecord e : all.values()) {
        (going.contains(e.id()) ? goingIds : stillHeld).add(e.spiffeId());
      }
      goingIds.removeAll(stillHeld);
      for (RegistrationEntryRecord e : all.values()) {
        if (!going.contains(e.id()) && goingIds.contains(e.parentId())) {
          going.add(e.id());
          found.add(e);
          grew = true;
        }
      }
    }
    return found;
  }

  /** Records an attested node (idempotent: the same node id keeps one entry). */
  public Future<RegistrationEntryRecord> registerNode(SpiffeId nodeId, String attestationMethod) {
    String id = "node-" + nodeId.getPath().substring("/lattice/node/".length());
    RegistrationEntryRecord existing = get(id).orElse(null);
    RegistrationEntryRecord entry = new RegistrationEntryRecord(id, nodeId, serverId(),
        List.of(new EntrySelector("lattice", "node:" + attestationMethod)),
        RegistrationEntryRecord.DEFAULT_X509_TTL, RegistrationEntryRecord.DEFAULT_JWT_TTL, List.of(), false,
        existing == null ? clock.instant() : existing.createdAt(), existing == null ? 1 : existing.revision() + 1, "");
    inFlight.put(id, entry);
    // A node whose entry was not written is not attested (isAttestedNode must not count it).
    return publisher.publish(topic, id, EntryEvents.toEvent(entry)).map(md -> entry)
        .onFailure(err -> inFlight.remove(id, entry));
  }

  /** True when {@code nodeId} has attested (its node entry is on the topic). */
  public boolean isAttestedNode(SpiffeId nodeId) {
    return list().stream().anyMatch(e -> e.spiffeId().equals(nodeId) && e.parentId().equals(serverId()))
        || inFlight.values().stream().anyMatch(e -> e.spiffeId().equals(nodeId) && e.parentId().equals(serverId()));
  }

  private void fireChange() {
    for (Runnable r : changeListeners) {
      r.run();
    }
  }
}
