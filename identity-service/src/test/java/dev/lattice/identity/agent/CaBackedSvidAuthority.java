package dev.lattice.identity.agent;

import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.JwtToken;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.authority.NodeAttestationResult;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.NodeSnapshot;
import dev.lattice.identity.agent.authority.SignedX509Svid;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import dev.lattice.identity.bundle.BundleJwks;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import dev.lattice.identity.ca.CaKeyStore;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.IssuedX509Svid;
import dev.lattice.identity.ca.SignatureProvider;
import dev.lattice.identity.ca.X509SvidRequest;
import dev.lattice.identity.jwt.JwtSvidIssuer;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.operator.jcajce.JcaContentVerifierProviderBuilder;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * The identity server's signing side in-process: the real {@link CertificateAuthority} and
 * {@link JwtSvidIssuer} of the identity service behind the agent's {@link SvidAuthority} interface,
 * with one-time join tokens, per-node entries and a switch that makes the server "go away" (every call
 * and stream fails, as when the network or the server is down).
 *
 * <p>Used where the test needs control the gRPC transport does not give (a test clock, an outage).
 * Thread-safe.
 */
final class CaBackedSvidAuthority implements SvidAuthority {

  private final Vertx vertx;
  private final CertificateAuthority ca;
  private final JwtSvidIssuer jwt;
  private final Clock clock;
  private final Duration nodeTtl;
  private final Set<String> joinTokens = ConcurrentHashMap.newKeySet();
  private final Map<String, AgentEntry> entries = new ConcurrentHashMap<>();
  // every node SVID issued, by node: like the real server, any unexpired one authenticates (the agent's
  // own and the data plane's, DataPlaneNodeSvid, are both valid at once)
  private final Map<String, java.util.Set<String>> nodeSerials = new ConcurrentHashMap<>();
  private final List<Stream> streams = new CopyOnWriteArrayList<>();
  private final AtomicLong revision = new AtomicLong();
  private final AtomicInteger nodeCounter = new AtomicInteger();
  final AtomicInteger x509Signed = new AtomicInteger();
  final AtomicInteger nodeRenewals = new AtomicInteger();
  private volatile boolean available = true;

  private record Stream(Handler<NodeSnapshot> onSnapshot, Handler<Throwable> onEnd) {}

  CaBackedSvidAuthority(Vertx vertx, Path caDir, String trustDomain, Clock clock, Duration nodeTtl)
      throws Exception {
    this.vertx = vertx;
    this.clock = clock;
    this.nodeTtl = nodeTtl;
    CertificateAuthority.Settings settings = new CertificateAuthority.Settings(TrustDomain.parse(trustDomain),
        Duration.ofDays(1), Duration.ofSeconds(1), Duration.ofMinutes(5), java.util.Optional.empty());
    this.ca = CertificateAuthority.open(settings, SignatureProvider.jdk(), CaKeyStore.open(caDir, "test"), clock);
    this.jwt = new JwtSvidIssuer(ca);
    ca.onBundleChange(b -> publish());
  }

  CertificateAuthority ca() {
    return ca;
  }

  void addJoinToken(String token) {
    joinTokens.add(token);
  }

  void putEntry(AgentEntry entry) {
    entries.put(entry.id(), entry);
    publish();
  }

  void removeEntry(String id) {
    entries.remove(id);
    publish();
  }

  /** Makes the server unreachable (true) or back (false); going away ends the open sync streams. */
  void setAway(boolean away) {
    available = !away;
    if (away) {
      for (Stream s : streams) {
        streams.remove(s);
        vertx.runOnContext(v -> s.onEnd().handle(new IllegalStateException("UNAVAILABLE: server away")));
      }
    }
  }

  TrustDomainBundle bundle() {
    TrustBundleSnapshot b = ca.bundle();
    return new TrustDomainBundle(b.trustDomain().getName(), b.x509Authorities(),
        BundleJwks.jwtAuthoritiesJson(b), b.sequence());
  }

  private NodeSnapshot snapshot() {
    return new NodeSnapshot(List.copyOf(entries.values()), bundle(), List.of(), revision.incrementAndGet());
  }

  private void publish() {
    if (!available) {
      return;
    }
    NodeSnapshot s = snapshot();
    streams.forEach(stream -> vertx.runOnContext(v -> stream.onSnapshot().handle(s)));
  }

  private <T> Future<T> call(java.util.concurrent.Callable<T> work) {
    if (!available) {
      return Future.failedFuture(new IllegalStateException("UNAVAILABLE: server away"));
    }
    return vertx.executeBlocking(work, false);
  }

  private void authenticate(NodeCredential node) {
    String id = node.svid().spiffeId();
    if (!nodeSerials.getOrDefault(id, java.util.Set.of()).contains(node.svid().leaf().getSerialNumber().toString(16))
        || node.expiredAt(clock.instant())) {
      throw new IllegalStateException("UNAUTHENTICATED: node SVID of " + id + " is not current");
    }
  }

  private static PublicKey publicKeyOf(byte[] csrDer) throws Exception {
    JcaPKCS10CertificationRequest csr = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csrDer));
    PublicKey key = csr.getPublicKey();
    if (!csr.isSignatureValid(new JcaContentVerifierProviderBuilder().build(key))) {
      throw new IllegalArgumentException("INVALID_ARGUMENT: CSR signature invalid");
    }
    return key;
  }

  private SignedX509Svid node(String nodeId, byte[] csrDer) throws Exception {
    IssuedX509Svid issued = ca.issue(new X509SvidRequest(SpiffeId.parse(nodeId), publicKeyOf(csrDer), nodeTtl, List.of()));
    nodeSerials.computeIfAbsent(nodeId, k -> ConcurrentHashMap.newKeySet()).add(issued.serialHex());
    return new SignedX509Svid(nodeId, issued.chain(), "");
  }

  @Override
  public Future<NodeAttestationResult> attestNode(NodeAttestationMaterial material, byte[] csrDer) {
    return call(() -> {
      if (!joinTokens.remove(material.secret())) {
        throw new IllegalStateException("PERMISSION_DENIED: join token unknown or already used");
      }
      String nodeId = "spiffe://" + ca.trustDomain().getName() + "/lattice/node/n" + nodeCounter.incrementAndGet();
      return new NodeAttestationResult(node(nodeId, csrDer), bundle());
    });
  }

  @Override
  public Future<SignedX509Svid> renewNode(NodeCredential current, byte[] csrDer) {
    return call(() -> {
      authenticate(current);
      nodeRenewals.incrementAndGet();
      return node(current.svid().spiffeId(), csrDer);
    });
  }

  @Override
  public Future<SignedX509Svid> signX509(NodeCredential node, String entryId, byte[] csrDer) {
    return call(() -> {
      authenticate(node);
      AgentEntry entry = entries.get(entryId);
      if (entry == null) {
        throw new IllegalStateException("NOT_FOUND: entry " + entryId);
      }
      IssuedX509Svid issued = ca.issue(new X509SvidRequest(SpiffeId.parse(entry.spiffeId()), publicKeyOf(csrDer),
          Duration.ofSeconds(entry.x509SvidTtlSeconds()), entry.dnsNames()));
      x509Signed.incrementAndGet();
      return new SignedX509Svid(entry.spiffeId(), issued.chain(), entryId);
    });
  }

  @Override
  public Future<JwtToken> signJwt(NodeCredential node, String entryId, List<String> audiences) {
    return call(() -> {
      authenticate(node);
      AgentEntry entry = entries.get(entryId);
      if (entry == null) {
        throw new IllegalStateException("NOT_FOUND: entry " + entryId);
      }
      JwtSvidIssuer.MintedJwtSvid minted = jwt.mint(SpiffeId.parse(entry.spiffeId()), audiences,
          Duration.ofSeconds(entry.jwtSvidTtlSeconds()));
      return new JwtToken(minted.token(), entry.spiffeId(), clock.instant(), minted.expiresAt());
    });
  }

  @Override
  public AutoCloseable syncNode(NodeCredential node, Handler<NodeSnapshot> onSnapshot, Handler<Throwable> onEnd) {
    Stream stream = new Stream(onSnapshot, onEnd);
    if (!available) {
      vertx.runOnContext(v -> onEnd.handle(new IllegalStateException("UNAVAILABLE: server away")));
      return () -> { };
    }
    streams.add(stream);
    NodeSnapshot first = snapshot();
    vertx.runOnContext(v -> onSnapshot.handle(first));
    return () -> streams.remove(stream);
  }
}
