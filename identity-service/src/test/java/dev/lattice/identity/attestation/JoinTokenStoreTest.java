package dev.lattice.identity.attestation;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTokenStoreTest {

  @TempDir Path dir;
  final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));

  @Test
  void aTokenWorksOnceAndTheBurnSurvivesARestart() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken token = store.create(Duration.ofMinutes(10));
    assertThat(store.pendingNodes(TrustDomains.parse("lattice.local")))
        .containsExactly(SpiffeIds.node(TrustDomains.parse("lattice.local"), token.nodeId()));
    assertThat(store.burn(token.token())).isEqualTo(token.nodeId());
    assertThatThrownBy(() -> store.burn(token.token())).isInstanceOf(AttestationException.class)
        .hasMessageContaining("already used");
    assertThat(store.pendingNodes(TrustDomains.parse("lattice.local"))).isEmpty();

    JoinTokenStore reopened = JoinTokenStore.open(dir, clock);
    assertThatThrownBy(() -> reopened.burn(token.token())).hasMessageContaining("already used");
    // the secret itself is never stored, only its SHA-256
    String file = Files.readString(dir.resolve("join-tokens.json"));
    assertThat(file).doesNotContain(token.token()).contains(token.nodeId());
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("join-tokens.json"))))
        .isEqualTo("rw-------");
  }

  @Test
  void expiredAndUnknownTokensAreRefused() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken token = store.create(Duration.ofMinutes(10));
    clock.advance(Duration.ofMinutes(10));
    assertThatThrownBy(() -> store.burn(token.token())).hasMessageContaining("expired at 2026-01-01T00:10:00Z");
    assertThatThrownBy(() -> store.burn("not-a-token")).hasMessageContaining("unknown");
    assertThatThrownBy(() -> store.create(Duration.ZERO)).hasMessageContaining("ttl");
  }

  @Test
  void aFixedNodeIdSurvivesReattestationAndANewTokenReplacesAPendingOne() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken first = store.create(Duration.ofMinutes(10), Optional.of("local"));
    assertThat(first.nodeId()).isEqualTo("local");
    assertThat(store.burn(first.token())).isEqualTo("local");
    // the agent restarts: a new token for the same node attests as the same node again
    JoinTokenStore.IssuedJoinToken second = store.create(Duration.ofMinutes(10), Optional.of("local"));
    assertThat(JoinTokenStore.open(dir, clock).burn(second.token())).isEqualTo("local");

    // at most one pending token per node: the newer one wins, the older one is dead at once
    JoinTokenStore reopened = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken stale = reopened.create(Duration.ofMinutes(10), Optional.of("local"));
    JoinTokenStore.IssuedJoinToken fresh = reopened.create(Duration.ofMinutes(10), Optional.of("local"));
    assertThatThrownBy(() -> reopened.burn(stale.token())).isInstanceOf(AttestationException.class)
        .hasMessageContaining("expired");
    assertThat(reopened.burn(fresh.token())).isEqualTo("local");
    // generated ids stay distinct from chosen ones
    assertThat(reopened.create(Duration.ofMinutes(1)).nodeId()).startsWith("jt-");
  }

  @Test
  void badNodeIdsAreRefusedWithTheRule() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    for (String bad : new String[] {"", "jt-0123", "a/b", "../x", "-lead", "x".repeat(65), "sp ace"}) {
      assertThatThrownBy(() -> store.create(Duration.ofMinutes(10), Optional.of(bad)))
          .as(bad).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("nodeId: '" + bad + "'")
          .hasMessageContaining("not starting with 'jt-'");
    }
    assertThat(store.create(Duration.ofMinutes(10), Optional.of("edge-1.rack_2")).nodeId()).isEqualTo("edge-1.rack_2");
  }

  @Test
  void aClaimedTokenIsHeldUntilBurnedOrReleasedAndOnlyABurnReachesTheDisk() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken token = store.create(Duration.ofMinutes(10), Optional.of("edge"));
    JoinTokenStore.Claim claim = store.claim(token.token());
    assertThat(claim.nodeId()).isEqualTo("edge");
    // while one attestation holds it, a second is refused (no two nodes from one token)
    assertThatThrownBy(() -> store.claim(token.token())).isInstanceOf(AttestationException.class)
        .hasMessageContaining("in progress for node edge");
    // the node entry could not be written (Kafka away): released, the same token works again
    store.release(claim);
    assertThatThrownBy(() -> store.burn(claim)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("was released");
    assertThat(JoinTokenStore.open(dir, clock).claim(token.token()).nodeId())
        .as("a claim is not on disk").isEqualTo("edge");
    JoinTokenStore.Claim again = store.claim(token.token());
    store.burn(again);
    store.release(again); // after a burn: a no-op
    assertThatThrownBy(() -> store.claim(token.token())).hasMessageContaining("already used");
    assertThatThrownBy(() -> JoinTokenStore.open(dir, clock).claim(token.token())).hasMessageContaining("already used");
  }

  @Test
  void pendingNodesDoesNotWaitForAWriterHoldingTheLock() throws Exception {
    JoinTokenStore store = JoinTokenStore.open(dir, clock);
    JoinTokenStore.IssuedJoinToken token = store.create(Duration.ofMinutes(10), Optional.of("n1"));
    // a writer holds the store's lock (as create/burn do while the file is written)
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Thread writer = new Thread(() -> {
      synchronized (store) {
        held.countDown();
        try {
          done.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    writer.start();
    try {
      assertThat(held.await(10, TimeUnit.SECONDS)).isTrue();
      // a reader (the registry on the event loop) still gets the pending nodes, without the lock
      var pending = CompletableFuture.supplyAsync(() -> store.pendingNodes(TrustDomains.parse("lattice.local")))
          .get(10, TimeUnit.SECONDS);
      assertThat(pending).containsExactly(SpiffeIds.node(TrustDomains.parse("lattice.local"), token.nodeId()));
    } finally {
      done.countDown();
      writer.join(10_000);
    }
    // a burn's result is visible to the lock-free read once the burn returns
    store.burn(token.token());
    assertThat(store.pendingNodes(TrustDomains.parse("lattice.local"))).isEmpty();
  }
}
