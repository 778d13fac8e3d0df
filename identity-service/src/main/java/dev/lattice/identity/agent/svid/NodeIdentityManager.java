package dev.lattice.identity.agent.svid;

import dev.lattice.identity.agent.authority.AttestationRefusedException;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.authority.NodeAttestationResult;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's own identity: attests with an {@link AttestationSource}, renews the node SVID from half
 * life on (RenewNodeSvid, with a new key) and, if the node SVID expired anyway (server away too long),
 * attests again with fresh material — no restart needed.
 *
 * <p>A failed attestation is not retried at every {@link #refresh()}: the next attempt waits by
 * {@link AttestationBackoff} (1 s doubling to 5 min by default), measured on the manager's clock. When
 * the server <em>refused</em> the material (a join token already used, unknown or expired) one ERROR
 * line says so and what to do. The same material is only tried again at the backoff's pace; new
 * material (another token in the file) is tried at once. A server that is away gets one WARN per outage.
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
  private final AttestationBackoff backoff;
  private volatile NodeCredential credential;
  private Future<NodeCredential> inFlight;
  private long attestations;
  private long failures;
  private Instant nextAttestAt = Instant.MIN;
  private byte[] failedMaterial;
  private boolean refused;
  private String lastFailure = "";

  /** @param onBundle receives the bundle that comes with each attestation */
  public NodeIdentityManager(Vertx vertx, SvidAuthority authority, AttestationSource source, Clock clock,
      Consumer<TrustDomainBundle> onBundle) {
    this(vertx, authority, source, clock, onBundle, AttestationBackoff.DEFAULT);
  }

  /** @param backoff how long to wait between failed attestations */
  public NodeIdentityManager(Vertx vertx, SvidAuthority authority, AttestationSource source, Clock clock,
      Consumer<TrustDomainBundle> onBundle, AttestationBackoff backoff) {
    this.backoff = backoff;
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
      if (held != null && failures == 0) {
        LOG.warn("node SVID {} expired at {}; attesting again", held.svid().spiffeId(), held.svid().notAfter());
      }
      next = attest(now);
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

  /** Consecutive failed attestations since the last success. */
  public synchronized long failedAttestations() {
    return failures;
  }

  /** When the next attestation may be tried (after a failure), else {@link Instant#MIN}. */
  public synchronized Instant nextAttestationAt() {
    return nextAttestAt;
  }

  private Future<NodeCredential> attest(Instant now) {
    boolean waiting;
    byte[] failedWith;
    synchronized (this) {
      waiting = now.isBefore(nextAttestAt);
      failedWith = failedMaterial;
    }
    if (waiting && failedWith == null) {
      return Future.failedFuture(waiting());
    }
    return source.material().compose(material -> {
      if (waiting && Arrays.equals(failedWith, digest(material))) {
        return Future.failedFuture(waiting());
      }
      return vertx.executeBlocking(() -> KeyAndCsr.generate(null, java.util.List.of()), false)
          .compose(keyAndCsr -> authority.attestNode(material, keyAndCsr.csrDer())
              .map(result -> accept(keyAndCsr, result)))
          .onFailure(err -> failed(material, err));
    }, err -> {
      failed(null, err);
      return Future.failedFuture(err);
    });
  }

  private synchronized IllegalStateException waiting() {
    return new IllegalStateException("node attestation: next attempt at " + nextAttestAt + " after " + failures
        + " failed attempt(s): " + lastFailure);
  }

  private synchronized void failed(NodeAttestationMaterial material, Throwable err) {
    failures++;
    Duration wait = backoff.after(failures);
    nextAttestAt = clock.instant().plus(wait);
    lastFailure = err.getMessage() == null ? err.toString() : err.getMessage();
    byte[] digest = material == null ? null : digest(material);
    boolean sameAsBefore = digest != null && Arrays.equals(digest, failedMaterial);
    boolean wasRefused = refused;
    failedMaterial = digest;
    refused = err instanceof AttestationRefusedException;
    if (refused && material != null) {
      if (!(sameAsBefore && wasRefused)) {
        LOG.error("node attestation refused by the identity server: {}. The agent cannot attest with this {} again;"
            + " give it a new one ({}). Until then it tries again at most every {}.", lastFailure,
            material.kind() == NodeAttestationMaterial.Kind.JOIN_TOKEN ? "join token" : "service-account token",
            material.kind() == NodeAttestationMaterial.Kind.JOIN_TOKEN
                ? "'lattice token create --node-id <id>', written to the agent.join.token.file it reads"
                : "a projected token the server's identity.attestation.k8s.* settings accept",
            AttestationBackoff.human(backoff.max()));
      } else {
        LOG.debug("node attestation refused again: {}; next attempt in {}", lastFailure, wait);
      }
      return;
    }
    if (failures == 1 || wasRefused) {
      LOG.warn("node attestation failed: {}; trying again in {}, then backing off up to {}", lastFailure,
          AttestationBackoff.human(wait), AttestationBackoff.human(backoff.max()));
    } else {
      LOG.debug("node attestation failed ({} in a row): {}; next attempt in {}", failures, lastFailure, wait);
    }
  }

  /** A digest of the material, so the refused secret itself is not kept. */
  private static byte[] digest(NodeAttestationMaterial material) {
    try {
      return MessageDigest.getInstance("SHA-256").digest((material.kind() + ":" + material.secret()).getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private NodeCredential accept(KeyAndCsr keyAndCsr, NodeAttestationResult result) {
    NodeCredential c = new NodeCredential(keyAndCsr.keyPair().getPrivate(), result.nodeSvid(), clock.instant());
    long failedBefore;
    synchronized (this) {
      credential = c;
      attestations++;
      failedBefore = failures;
      failures = 0;
      nextAttestAt = Instant.MIN;
      failedMaterial = null;
      refused = false;
    }
    LOG.info("node attested as {} until {}{}", c.svid().spiffeId(), c.svid().notAfter(),
        failedBefore == 0 ? "" : " (after " + failedBefore + " failed attempts)");
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
