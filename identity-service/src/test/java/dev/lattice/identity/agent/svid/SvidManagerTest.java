package dev.lattice.identity.agent.svid;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.authority.AgentEntry;
import dev.lattice.identity.agent.authority.JwtToken;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.authority.NodeAttestationResult;
import dev.lattice.identity.agent.authority.NodeCredential;
import dev.lattice.identity.agent.authority.NodeSnapshot;
import dev.lattice.identity.agent.authority.SignedX509Svid;
import dev.lattice.identity.agent.authority.SvidAuthority;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import dev.lattice.identity.ca.CaKeyStore;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.SignatureProvider;
import dev.lattice.identity.ca.X509SvidRequest;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The SVID manager alone (no socket): keys made locally, rotation at half life measured from receipt
 * (the CA backdates), and the JWT-SVID cache. The signer is the identity service's real CA; time is a
 * test clock.
 */
class SvidManagerTest {

  /** Clock moved by hand. */
  static final class StepClock extends Clock {
    volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    @Override public ZoneId getZone() { return ZoneOffset.UTC; }
    @Override public Clock withZone(ZoneId zone) { return this; }
    @Override public Instant instant() { return now; }
  }

  /** Signs with the real CA and counts calls; JWTs are opaque strings with a 60 s life. */
  static final class CountingAuthority implements SvidAuthority {
    final CertificateAuthority ca;
    final Clock clock;
    final AtomicInteger x509 = new AtomicInteger();
    final AtomicInteger jwt = new AtomicInteger();
    volatile boolean away;

    CountingAuthority(CertificateAuthority ca, Clock clock) {
      this.ca = ca;
      this.clock = clock;
    }

    @Override
    public Future<NodeAttestationResult> attestNode(NodeAttestationMaterial material, byte[] csrDer) {
      return Future.failedFuture("not used");
    }

    @Override
    public Future<SignedX509Svid> renewNode(NodeCredential current, byte[] csrDer) {
      return Future.failedFuture("not used");
    }

    @Override
    public Future<SignedX509Svid> signX509(NodeCredential node, String entryId, byte[] csrDer) {
      if (away) {
        return Future.failedFuture("UNAVAILABLE");
      }
      try {
        var key = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(csrDer)).getPublicKey();
        var issued = ca.issue(new X509SvidRequest(SpiffeId.parse("spiffe://lattice.local/ns/a/sa/" + entryId),
            key, Duration.ofSeconds(100), List.of()));
        x509.incrementAndGet();
        return Future.succeededFuture(new SignedX509Svid(issued.spiffeId().toString(), issued.chain(), entryId));
      } catch (Exception e) {
        return Future.failedFuture(e);
      }
    }

    @Override
    public Future<JwtToken> signJwt(NodeCredential node, String entryId, List<String> audiences) {
      if (away) {
        return Future.failedFuture("UNAVAILABLE");
      }
      Instant now = clock.instant();
      return Future.succeededFuture(new JwtToken("jwt-" + jwt.incrementAndGet(), "spiffe://lattice.local/x", now,
          now.plusSeconds(60)));
    }

    @Override
    public AutoCloseable syncNode(NodeCredential node, Handler<NodeSnapshot> s, Handler<Throwable> e) {
      return () -> { };
    }
  }

  @TempDir Path dir;
  private Vertx vertx;
  private StepClock clock;
  private CountingAuthority authority;
  private SvidManager manager;
  private TrustDomainBundle bundle;

  @BeforeEach
  void setUp() throws Exception {
    vertx = Vertx.vertx();
    clock = new StepClock();
    // backdate 10 s, as in production: a 100 s SVID spans 110 s of notBefore..notAfter
    CertificateAuthority ca = CertificateAuthority.open(new CertificateAuthority.Settings(
        TrustDomain.parse("lattice.local"), Duration.ofDays(1), Duration.ofSeconds(10), Duration.ofMinutes(5),
        Optional.empty()), SignatureProvider.jdk(), CaKeyStore.open(dir, "x"), clock);
    authority = new CountingAuthority(ca, clock);
    NodeCredential node = new NodeCredential(null,
        new SignedX509Svid("spiffe://lattice.local/lattice/node/n1", ca.active().intermediateChain(), ""),
        clock.instant());
    manager = new SvidManager(vertx, authority, () -> Optional.of(node), clock, Duration.ofSeconds(5));
    bundle = new TrustDomainBundle("lattice.local", List.of(ca.active().root()), null, 1);
  }

  @AfterEach
  void tearDown() throws Exception {
    manager.close();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private static <T> T join(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get();
  }

  private AgentEntry entry(String id, long revision) {
    return new AgentEntry(id, "spiffe://lattice.local/ns/a/sa/" + id, Set.of(Selector.unixUid(1)), 100, 60,
        List.of(), "", revision);
  }

  @Test
  void signsEachEntryOnceWithAKeyMadeHereAndRotatesAtHalfLifeFromReceipt() throws Exception {
    join(manager.applySnapshot(new NodeSnapshot(List.of(entry("web", 1)), bundle, List.of(), 1)));
    WorkloadX509Svid first = manager.state().svids().get("web");
    assertThat(first).isNotNull();
    assertThat(first.key().getAlgorithm()).isEqualTo("EC");
    // the certificate is for the key the agent made: what that key signs, the certificate's key verifies
    byte[] message = "proof of possession".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    java.security.Signature signer = java.security.Signature.getInstance("SHA256withECDSA");
    signer.initSign(first.key());
    signer.update(message);
    byte[] signature = signer.sign();
    java.security.Signature verifier = java.security.Signature.getInstance("SHA256withECDSA");
    verifier.initVerify(first.signed().leaf().getPublicKey());
    verifier.update(message);
    assertThat(verifier.verify(signature)).as("the certificate is for the key the agent made").isTrue();
    assertThat(first.rotateAt()).isEqualTo(clock.instant().plusSeconds(50));

    clock.now = clock.now.plusSeconds(49);
    join(manager.refresh());
    assertThat(authority.x509.get()).isEqualTo(1);

    clock.now = clock.now.plusSeconds(1);
    join(manager.refresh());
    assertThat(authority.x509.get()).isEqualTo(2);
    assertThat(manager.state().svids().get("web")).isNotEqualTo(first);
  }

  @Test
  void aNewEntryRevisionGetsANewSvidAndARemovedEntryLosesIt() throws Exception {
    join(manager.applySnapshot(new NodeSnapshot(List.of(entry("web", 1), entry("db", 1)), bundle, List.of(), 1)));
    assertThat(manager.state().svids()).containsOnlyKeys("web", "db");
    join(manager.applySnapshot(new NodeSnapshot(List.of(entry("web", 2)), bundle, List.of(), 2)));
    assertThat(manager.state().svids()).containsOnlyKeys("web");
    assertThat(manager.state().svids().get("web").entry().revision()).isEqualTo(2);
    assertThat(authority.x509.get()).isEqualTo(3);
  }

  @Test
  void anOlderSnapshotIsIgnored() throws Exception {
    join(manager.applySnapshot(new NodeSnapshot(List.of(entry("web", 1)), bundle, List.of(), 5)));
    join(manager.applySnapshot(new NodeSnapshot(List.of(), bundle, List.of(), 4)));
    assertThat(manager.state().entries()).containsOnlyKeys("web");
  }

  @Test
  void jwtSvidsAreCachedUntilHalfLifeAndServedFromCacheWhileTheServerIsAway() throws Exception {
    AgentEntry web = entry("web", 1);
    join(manager.applySnapshot(new NodeSnapshot(List.of(web), bundle, List.of(), 1)));
    JwtToken a = join(manager.jwtSvid(web, List.of("b", "a")));
    assertThat(join(manager.jwtSvid(web, List.of("a", "b")))).isSameAs(a);
    assertThat(join(manager.jwtSvid(web, List.of("c")))).isNotEqualTo(a);

    clock.now = clock.now.plusSeconds(31);
    authority.away = true;
    assertThat(join(manager.jwtSvid(web, List.of("a", "b")))).as("cached, not expired").isSameAs(a);
    authority.away = false;
    assertThat(join(manager.jwtSvid(web, List.of("a", "b")))).as("past half life").isNotEqualTo(a);
  }
}
