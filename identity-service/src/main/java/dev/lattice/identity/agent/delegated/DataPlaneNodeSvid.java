package dev.lattice.identity.agent.delegated;

import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.svid.KeyAndCsr;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node SVID the node's data plane presents to the config distributor: the node's own SPIFFE ID
 * ({@code spiffe://<td>/lattice/node/<id>}) on a SEPARATE key the agent makes for it here, signed through
 * the CA's RenewNodeSvid path with the agent's node credential. The agent's own node key is never handed
 * out; this key crosses only the admin Unix socket ({@code lattice.agent.v1.NodeIdentity}) and never Kafka.
 *
 * <p>Signed once the node is attested, renewed from half life on (a new key each time), measured on the
 * given clock. A failed signing keeps the current SVID until it expires and is retried at the next
 * {@link #refresh()}. Listeners hear every new SVID.
 *
 * <p>Thread-safe. {@link #start(Duration)} runs {@link #refresh()} on a timer; {@link #close()} stops it.
 */
public final class DataPlaneNodeSvid implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DataPlaneNodeSvid.class);

  private final Vertx vertx;
  private final SvidAuthority authority;
  private final Supplier<Optional<NodeCredential>> node;
  private final Clock clock;
  private final List<Consumer<NodeCredential>> listeners = new CopyOnWriteArrayList<>();
  private volatile NodeCredential current;
  private Future<NodeCredential> inFlight;
  private long timer = -1;
  private long signed;

  /** @param node the agent's node credential in force (it authenticates the signing), if any */
  public DataPlaneNodeSvid(Vertx vertx, SvidAuthority authority, Supplier<Optional<NodeCredential>> node,
      Clock clock) {
    this.vertx = vertx;
    this.authority = authority;
    this.node = node;
    this.clock = clock;
  }

  /** The data plane's node credential, unless there is none yet or it expired. */
  public Optional<NodeCredential> current() {
    NodeCredential c = current;
    return c == null || c.expiredAt(clock.instant()) ? Optional.empty() : Optional.of(c);
  }

  /** How many SVIDs were signed for the data plane (the first one included). */
  public synchronized long signedCount() {
    return signed;
  }

  /** Calls {@code listener} with every new SVID; the returned handle removes it. */
  public Runnable addListener(Consumer<NodeCredential> listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  /** Refreshes now, then every {@code period}. */
  public synchronized void start(Duration period) {
    if (timer < 0) {
      timer = vertx.setPeriodic(0, Math.max(1, period.toMillis()), id -> refresh()
          .onFailure(err -> LOG.debug("data-plane node SVID refresh: {}", err.toString())));
    }
  }

  /**
   * Signs an SVID when there is none valid or the current one is past half life, else does nothing. The
   * future completes with the credential in force afterwards, or fails when there is none (the node is
   * not attested yet, or the server refused and the old one expired).
   */
  public synchronized Future<NodeCredential> refresh() {
    if (inFlight != null) {
      return inFlight;
    }
    NodeCredential held = current;
    if (held != null && !held.expiredAt(clock.instant()) && clock.instant().isBefore(held.renewAt())) {
      return Future.succeededFuture(held);
    }
    Optional<NodeCredential> agent = node.get();
    if (agent.isEmpty()) {
      return held != null && !held.expiredAt(clock.instant()) ? Future.succeededFuture(held)
          : Future.failedFuture(new IllegalStateException("the node is not attested yet: no node SVID to sign with"));
    }
    Future<NodeCredential> next = sign(agent.get(), held);
    inFlight = next;
    return next.andThen(ar -> {
      synchronized (this) {
        inFlight = null;
      }
    });
  }

  private Future<NodeCredential> sign(NodeCredential agent, NodeCredential held) {
    // key generation and the CSR signature are CPU work: off the event loop
    return vertx.executeBlocking(() -> KeyAndCsr.generate(null, List.of()), false)
        .compose(keyAndCsr -> authority.renewNode(agent, keyAndCsr.csrDer())
            .map(svid -> new NodeCredential(keyAndCsr.keyPair().getPrivate(), svid, clock.instant())))
        .map(c -> {
          synchronized (this) {
            current = c;
            signed++;
          }
          LOG.info("data-plane node SVID {} signed until {} (serial {})", c.svid().spiffeId(), c.svid().notAfter(),
              c.svid().leaf().getSerialNumber().toString(16));
          listeners.forEach(l -> l.accept(c));
          return c;
        })
        .recover(err -> {
          if (held != null && !held.expiredAt(clock.instant())) {
            LOG.warn("data-plane node SVID renewal failed ({}); the current one is valid until {}", err.toString(),
                held.svid().notAfter());
            return Future.succeededFuture(held);
          }
          return Future.failedFuture(err);
        });
  }

  @Override
  public synchronized void close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
      timer = -1;
    }
    listeners.clear();
  }
}
