package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.JwtToken;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.NodeSnapshot;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one X.509-SVID per entry this node serves, and a cache of JWT-SVIDs.
 *
 * <ul>
 *   <li>Keys are EC P-256, generated here on a worker thread; only CSRs go to the {@link SvidAuthority}.
 *   <li>An SVID is renewed from half life on; until a new one arrives the current one keeps being
 *       served, so workloads keep their SVIDs while the server is away, up to expiry.
 *   <li>An expired SVID or one whose entry went away is dropped.
 * </ul>
 *
 * <p>Each change publishes a new immutable {@link AgentState} to the listeners (Workload API
 * streams). Thread-safe: state changes are serialized on this object; listeners are called on the
 * thread that made the change, in order, and must only hand the state to their own context. {@link #close()}
 * stops the periodic refresh; the owner ({@code NodeAgent}) closes it.
 */
public final class SvidManager implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(SvidManager.class);
  private static final int MAX_CACHED_JWTS = 4096;

  private final Vertx vertx;
  private final SvidAuthority authority;
  private final Supplier<Optional<NodeCredential>> node;
  private final Clock clock;
  private final List<Consumer<AgentState>> listeners = new CopyOnWriteArrayList<>();
  private final Set<String> signing = ConcurrentHashMap.newKeySet();
  private final Map<String, Instant> retryNotBefore = new ConcurrentHashMap<>();
  private final Map<JwtKey, JwtToken> jwts = new ConcurrentHashMap<>();
  private final Duration retryBackoff;
  private volatile AgentState state = AgentState.empty();
  private long timerId = -1;

  private record JwtKey(String entryId, long entryRevision, List<String> audiences) {}

  /**
   * @param node the node's current credential (empty while the node is not attested)
   * @param retryBackoff how long to wait before asking again for an entry whose signing failed
   */
  public SvidManager(Vertx vertx, SvidAuthority authority, Supplier<Optional<NodeCredential>> node,
      Clock clock, Duration retryBackoff) {
    this.vertx = vertx;
    this.authority = authority;
    this.node = node;
    this.clock = clock;
    this.retryBackoff = retryBackoff;
  }

  /** Runs {@link #refresh()} every {@code period} until closed. */
  public synchronized void startRefreshing(Duration period) {
    if (timerId < 0) {
      timerId = vertx.setPeriodic(period.toMillis(), id -> refresh());
    }
  }

  public AgentState state() {
    return state;
  }

  /** How many listeners (open Workload API streams) follow the state now. */
  public int listenerCount() {
    return listeners.size();
  }

  /** Registers a listener of new states; returns a handle that removes it. */
  public Runnable addListener(Consumer<AgentState> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Applies a server snapshot (entries and bundles) and starts signing what is missing. */
  public Future<Void> applySnapshot(NodeSnapshot snapshot) {
    synchronized (this) {
      if (snapshot.revision() < state.snapshotRevision()) {
        LOG.debug("ignoring snapshot {} older than {}", snapshot.revision(), state.snapshotRevision());
        return Future.succeededFuture();
      }
      Map<String, AgentEntry> entries = snapshot.entries().stream()
          .collect(Collectors.toMap(AgentEntry::id, e -> e, (a, b) -> b, LinkedHashMap::new));
      Map<String, WorkloadX509Svid> svids = new HashMap<>(state.svids());
      svids.keySet().retainAll(entries.keySet());
      TrustDomainBundle bundle = newer(state.bundle(), snapshot.bundle());
      publish(new AgentState(entries, svids, Optional.of(bundle), snapshot.federatedBundles(),
          snapshot.revision(), state.version() + 1));
    }
    return refresh();
  }

  /** Applies a bundle received outside a snapshot (e.g. with the node attestation). */
  public synchronized void applyBundle(TrustDomainBundle bundle) {
    TrustDomainBundle merged = newer(state.bundle(), bundle);
    if (state.bundle().orElse(null) != merged) {
      publish(new AgentState(state.entries(), state.svids(), Optional.of(merged),
          state.federatedBundles(), state.snapshotRevision(), state.version() + 1));
    }
  }

  private static TrustDomainBundle newer(Optional<TrustDomainBundle> current, TrustDomainBundle next) {
    return current.filter(c -> c.trustDomain().equals(next.trustDomain())
        && c.sequence() > next.sequence()).orElse(next);
  }

  /**
   * One reconciliation pass: drops expired SVIDs, and asks the authority for every entry without an
   * SVID or past half life (skipping entries already in flight or backing off). The future completes
   * when the requests of this pass have finished (successfully or not).
   */
  public Future<Void> refresh() {
    Instant now = clock.instant();
    List<AgentEntry> due = new ArrayList<>();
    synchronized (this) {
      Map<String, WorkloadX509Svid> svids = new HashMap<>(state.svids());
      boolean dropped = svids.values().removeIf(s -> {
        if (s.expiredAt(now)) {
          LOG.warn("SVID expired and could not be renewed, no longer served: {}", s);
          return true;
        }
        return false;
      });
      if (dropped) {
        publish(new AgentState(state.entries(), svids, state.bundle(), state.federatedBundles(),
            state.snapshotRevision(), state.version() + 1));
      }
      for (AgentEntry entry : state.entries().values()) {
        WorkloadX509Svid held = svids.get(entry.id());
        boolean wanted = held == null || held.needsRenewal(entry, now);
        Instant notBefore = retryNotBefore.get(entry.id());
        if (wanted && !signing.contains(entry.id()) && (notBefore == null || !now.isBefore(notBefore))) {
          due.add(entry);
        }
      }
    }
    jwts.entrySet().removeIf(e -> !now.isBefore(e.getValue().expiresAt()));
    if (due.isEmpty()) {
      return Future.succeededFuture();
    }
    Optional<NodeCredential> credential = node.get();
    if (credential.isEmpty()) {
      LOG.debug("{} SVIDs due but the node is not attested yet", due.size());
      return Future.succeededFuture();
    }
    List<Future<Void>> requests = new ArrayList<>();
    for (AgentEntry entry : due) {
      signing.add(entry.id());
      requests.add(sign(credential.get(), entry)
          .eventually(() -> {
            signing.remove(entry.id());
            return Future.succeededFuture();
          }));
    }
    return Future.join(requests).<Void>mapEmpty().otherwiseEmpty();
  }

  private Future<Void> sign(NodeCredential credential, AgentEntry entry) {
    return vertx.executeBlocking(() -> KeyAndCsr.generate(entry.spiffeId(), entry.dnsNames()), false)
        .compose(keyAndCsr -> authority.signX509(credential, entry.id(), keyAndCsr.csrDer())
            .map(signed -> new WorkloadX509Svid(entry, signed, keyAndCsr.keyPair().getPrivate(), clock.instant())))
        .onSuccess(this::install)
        .onFailure(err -> {
          retryNotBefore.put(entry.id(), clock.instant().plus(retryBackoff));
          WorkloadX509Svid held = state.svids().get(entry.id());
          LOG.warn("signing entry {} ({}) failed: {}; {}", entry.id(), entry.spiffeId(), err.toString(),
              held == null ? "no SVID to serve yet" : "serving the current SVID until " + held.notAfter());
        })
        .mapEmpty();
  }

  private synchronized void install(WorkloadX509Svid svid) {
    retryNotBefore.remove(svid.entry().id());
    AgentEntry current = state.entries().get(svid.entry().id());
    if (current == null || current.revision() != svid.entry().revision()) {
      LOG.debug("discarding SVID for a changed or removed entry: {}", svid);
      return;
    }
    if (!svid.spiffeId().equals(current.spiffeId())) {
      LOG.warn("server signed {} for entry {} which names {}; discarded", svid.spiffeId(), current.id(),
          current.spiffeId());
      return;
    }
    Map<String, WorkloadX509Svid> svids = new HashMap<>(state.svids());
    svids.put(svid.entry().id(), svid);
    LOG.info("new X.509-SVID {}", svid);
    publish(new AgentState(state.entries(), svids, state.bundle(), state.federatedBundles(),
        state.snapshotRevision(), state.version() + 1));
  }

  /**
   * A JWT-SVID for {@code entry} and {@code audiences}: the cached one until its half life, else a new
   * one from the authority; if the authority fails, a cached one that has not expired.
   */
  public Future<JwtToken> jwtSvid(AgentEntry entry, List<String> audiences) {
    JwtKey key = new JwtKey(entry.id(), entry.revision(), audiences.stream().sorted().distinct().toList());
    Instant now = clock.instant();
    JwtToken cached = jwts.get(key);
    if (cached != null && now.isBefore(cached.refreshAt())) {
      return Future.succeededFuture(cached);
    }
    Optional<NodeCredential> credential = node.get();
    if (credential.isEmpty()) {
      return cached != null && now.isBefore(cached.expiresAt())
          ? Future.succeededFuture(cached)
          : Future.failedFuture(new IllegalStateException("the node is not attested"));
    }
    return authority.signJwt(credential.get(), entry.id(), key.audiences())
        .onSuccess(token -> {
          if (jwts.size() >= MAX_CACHED_JWTS) {
            jwts.clear();
          }
          jwts.put(key, token);
        })
        .recover(err -> {
          JwtToken fallback = jwts.get(key);
          if (fallback != null && clock.instant().isBefore(fallback.expiresAt())) {
            LOG.warn("minting a JWT-SVID for entry {} failed ({}); serving the cached one", entry.id(),
                err.toString());
            return Future.succeededFuture(fallback);
          }
          return Future.failedFuture(err);
        });
  }

  private void publish(AgentState next) {
    state = next;
    for (Consumer<AgentState> l : listeners) {
      try {
        l.accept(next);
      } catch (RuntimeException e) {
        LOG.error("agent state listener failed", e);
      }
    }
  }

  @Override
  public synchronized void close() {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
      timerId = -1;
    }
    listeners.clear();
  }
}
