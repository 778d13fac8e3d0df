package dev.lattice.identity.attestation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.identity.ca.TestClock;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JoinTokenStoreTest {

  @TempDir Path dir;
  final TestClock clock = new TestClock(Instant.parse("2026-01-01T00:00:00Z"));

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
}
