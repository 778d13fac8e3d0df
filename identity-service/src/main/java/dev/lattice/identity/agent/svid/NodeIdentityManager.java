package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.authority.NodeAttestationResult;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Clock;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's own identity: attests with an {@link AttestationSource}, renews the node SVID from half
 * life on (RenewNodeSvid, with a new key) and, if the node SVID expired anyway (server away too long),
 * attests again with fresh material — no restart needed.
 *
 * <p>Thread-safe. Call {@link #refresh()} periodically (the owner's timer); at most one attestation or
 * renewal runs at a time.
 */
public final class NodeIdentityManager {

  private static final Logger LOG = LoggerFactory.getLogger(NodeIdentityManager.class);

  private final Vertx vertx;
  private final SvidAuthority authority;
  private final AttestationSource source;
  private final Clock clock;
  private final Consumer<TrustDomainBundle> onBundle;
  private volatile NodeCredential credential;
  private Future<NodeCredential> inFlight;
  private long attestations;

  /** @param onBundle receives the bundle that comes with each attestation */
  public NodeIdentityManager(Vertx vertx, SvidAuthority authority, AttestationSource source, Clock clock,
      Consumer<TrustDomainBundle> onBundle) {
    this.vertx = vertx;
    this.authority = authority;
    this.source = source;
    this.clock = clock;
    this.onBundle = onBundle;
  }

  /** The node credential, unless there is none yet or it expired. */
  public Optional<NodeCredential> current() {
    NodeCredential c = credential;
    return c == null || c.expiredAt(clock.instant()) ? Optional.empty() : Optional.of(c);
  }

  /** How many successful attestations this manager made (the first one included). */
  public synchronized long attestations() {
    return attestations;
  }

  /**
   * Attests when there is no valid node SVID, renews when it is past half life, else does nothing. The
   * future completes with the credential in force afterwards.
   */
  public synchronized Future<NodeCredential> refresh() {
    if (inFlight != null) {
      return inFlight;
    }
    Instant now = clock.instant();
    NodeCredential held = credential;
    Future<NodeCredential> next;
    if (held == null || held.expiredAt(now)) {
      if (held != null) {
        LOG.warn("node SVID {} expired at {}; attesting again", held.svid().spiffeId(), held.svid().notAfter());
      }
      next = attest();
    } else if (!now.isBefore(held.renewAt())) {
      next = renew(held);
    } else {
      return Future.succeededFuture(held);
    }
    inFlight = next;
    return next.andThen(ar -> {
      synchronized (this) {
        inFlight = null;
      }
    });
  }

  private Future<NodeCredential> attest() {
    return source.material()
        .compose(material -> vertx.executeBlocking(() -> KeyAndCsr.generate(null, java.util.List.of()), false)
            .compose(keyAndCsr -> authority.attestNode(material, keyAndCsr.csrDer())
                .map(result -> accept(keyAndCsr, result))))
        .onFailure(err -> LOG.warn("node attestation failed: {}", err.toString()));
  }

  private NodeCredential accept(KeyAndCsr keyAndCsr, NodeAttestationResult result) {
    NodeCredential c = new NodeCredential(keyAndCsr.keyPair().getPrivate(), result.nodeSvid(), clock.instant());
    synchronized (this) {
      credential = c;
      attestations++;
    }
    LOG.info("node attested as {} until {}", c.svid().spiffeId(), c.svid().notAfter());
    onBundle.accept(result.bundle());
    return c;
  }

  private Future<NodeCredential> renew(NodeCredential held) {
    return vertx.executeBlocking(() -> KeyAndCsr.generate(null, java.util.List.of()), false)
        .compose(keyAndCsr -> authority.renewNode(held, keyAndCsr.csrDer())
            .map(svid -> {
              NodeCredential c = new NodeCredential(keyAndCsr.keyPair().getPrivate(), svid, clock.instant());
              credential = c;
              LOG.info("node SVID renewed until {}", svid.notAfter());
              return c;
            }))
        .recover(err -> {
          LOG.warn("node SVID renewal failed ({}); current one is valid until {}", err.toString(),
              held.svid().notAfter());
          return Future.succeededFuture(held);
        });
  }
}
