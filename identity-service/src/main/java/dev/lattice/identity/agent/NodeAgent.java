package dev.lattice.identity.agent;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.WorkloadAttestor;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.svid.AttestationBackoff;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.identity.agent.svid.NodeIdentityManager;
import dev.lattice.identity.agent.svid.SvidManager;
import dev.lattice.identity.agent.workload.WorkloadApiServer;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lattice's node agent (the SPIRE agent's role): attests the node to the identity server, keeps the
 * node SVID fresh, follows the node's entries and bundles, keeps an SVID per entry, and serves the
 * SPIFFE Workload API on a Unix socket.
 *
 * <p>Start-up never waits for the server: the socket is served at once and the agent attests, syncs
 * and signs in the background, retrying every {@link Settings#refreshPeriod()} while the server is
 * away. Workloads keep their SVIDs until expiry meanwhile.
 *
 * <p>Thread-safe. The owner calls {@link #stop()}; it does not close the Vert.x instance or the
 * authority.
 */
public final class NodeAgent {

  private static final Logger LOG = LoggerFactory.getLogger(NodeAgent.class);

  /**
   * @param socket the Workload API socket path
   * @param refreshPeriod how often the agent checks its node SVID, SVIDs and the sync stream
   * @param retryBackoff how long after a failed signing the agent asks again for that entry
   * @param attestBackoff how long the agent waits between failed node attestations
   */
  public record Settings(Path socket, Duration refreshPeriod, Duration retryBackoff, AttestationBackoff attestBackoff) {
    /** Settings with the default attestation backoff. */
    public Settings(Path socket, Duration refreshPeriod, Duration retryBackoff) {
      this(socket, refreshPeriod, retryBackoff, AttestationBackoff.DEFAULT);
    }

    public static Settings defaults(Path socket) {
      return new Settings(socket, Duration.ofSeconds(1), Duration.ofSeconds(5));
    }
  }

  private final Vertx vertx;
  private final SvidAuthority authority;
  private final Settings settings;
  private final NodeIdentityManager node;
  private final SvidManager svids;
  private final WorkloadApiServer server;
  private AutoCloseable sync;
  private NodeCredential syncedWith;
  private long timerId = -1;
  private boolean stopped;

  public NodeAgent(Vertx vertx, SvidAuthority authority, AttestationSource attestation,
      List<WorkloadAttestor> attestors, ProcessTable processes, Clock clock, Settings settings) {
    this.vertx = vertx;
    this.authority = authority;
    this.settings = settings;
    SvidManager[] manager = new SvidManager[1];
    this.node = new NodeIdentityManager(vertx, authority, attestation, clock,
        bundle -> manager[0].applyBundle(bundle), settings.attestBackoff());
    this.svids = new SvidManager(vertx, authority, node::current, clock, settings.retryBackoff());
    manager[0] = svids;
    this.server = new WorkloadApiServer(vertx, svids, attestors, processes);
  }

  public SvidManager svids() {
    return svids;
  }

  public NodeIdentityManager node() {
    return node;
  }

  /** Serves the socket, then attests and syncs in the background. */
  public Future<Void> start() {
    return server.listen(settings.socket()).onSuccess(v -> {
      synchronized (this) {
        timerId = vertx.setPeriodic(0, settings.refreshPeriod().toMillis(), id -> tick());
      }
    });
  }

  /** True once the node is attested and the first snapshot of its entries arrived. */
  public boolean ready() {
    return node.current().isPresent() && svids.state().snapshotRevision() >= 0;
  }

  private void tick() {
    node.refresh()
        .onSuccess(this::ensureSynced)
        .compose(c -> svids.refresh())
        .onFailure(err -> LOG.debug("agent refresh: {}", err.toString()));
  }

  /** (Re)opens the sync stream when there is none, or when the node credential changed under it. */
  private synchronized void ensureSynced(NodeCredential credential) {
    if (stopped || (sync != null && credential.equals(syncedWith))) {
      return;
    }
    closeSync();
    syncedWith = credential;
    java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();
    AutoCloseable[] handle = new AutoCloseable[1];
    handle[0] = authority.syncNode(credential,
        snapshot -> svids.applySnapshot(snapshot),
        err -> {
          LOG.warn("node sync stream ended ({}); reconnecting", err == null ? "closed" : err.toString());
          ended.set(true);
          synchronized (this) {
            if (handle[0] != null && sync == handle[0]) {
              sync = null;
            }
          }
        });
    sync = ended.get() ? null : handle[0];
  }

  private void closeSync() {
    if (sync != null) {
      try {
        sync.close();
      } catch (Exception e) {
        LOG.debug("closing the sync stream: {}", e.toString());
      }
      sync = null;
    }
  }

  /** Stops serving, ends the sync stream and the timers. */
  public Future<Void> stop() {
    synchronized (this) {
      stopped = true;
      if (timerId >= 0) {
        vertx.cancelTimer(timerId);
      }
      closeSync();
    }
    svids.close();
    return server.close();
  }

  /** The node credential in force, if any (for health output). */
  public Optional<NodeCredential> nodeCredential() {
    return node.current();
  }
}
