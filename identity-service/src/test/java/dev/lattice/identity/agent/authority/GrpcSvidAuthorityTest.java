package dev.lattice.identity.agent.authority;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.schemas.identity.v1.Bundle;
import dev.lattice.schemas.identity.v1.Entry;
import dev.lattice.schemas.identity.v1.X509SvidResponse;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Mapping what the server sends (signing.proto) into agent values; bad parts are refused or skipped. */
class GrpcSvidAuthorityTest {

  private static final Bundle BUNDLE = Bundle.newBuilder().setTrustDomain("lattice.local").setSequence(3).build();

  @Test
  void anUnusableEntryIsSkippedAndTheRestOfTheSnapshotApplies() {
    dev.lattice.schemas.identity.v1.NodeSnapshot proto = dev.lattice.schemas.identity.v1.NodeSnapshot.newBuilder()
        .addEntries(Entry.newBuilder().setId("good").setSpiffeId("spiffe://lattice.local/ns/a/sa/web")
            .addSelectors(dev.lattice.schemas.identity.v1.Selector.newBuilder().setType("unix").setValue("uid:1000"))
            .setX509SvidTtlSeconds(3600).setRevision(4))
        .addEntries(Entry.newBuilder().setId("no-selectors").setSpiffeId("spiffe://lattice.local/ns/a/sa/db"))
        .addEntries(Entry.newBuilder().setId("bad-id").setSpiffeId("http://lattice.local/x")
            .addSelectors(dev.lattice.schemas.identity.v1.Selector.newBuilder().setType("unix").setValue("uid:1")))
        .setBundle(BUNDLE).setRevision(9).build();

    NodeSnapshot snapshot = GrpcSvidAuthority.snapshot(proto);
    assertThat(snapshot.entries()).singleElement().satisfies(e -> {
      assertThat(e.id()).isEqualTo("good");
      assertThat(e.selectors()).isEqualTo(Set.of(Selector.unixUid(1000)));
      assertThat(e.revision()).isEqualTo(4);
    });
    assertThat(snapshot.revision()).isEqualTo(9);
    assertThat(snapshot.bundle().sequence()).isEqualTo(3);
    assertThat(snapshot.bundle().jwtAuthoritiesJwks()).isEqualTo("{\"keys\":[]}");
  }

  @Test
  void aCertificateThatDoesNotParseIsRefusedWithAClearMessage() {
    X509SvidResponse garbage = X509SvidResponse.newBuilder().setSpiffeId("spiffe://lattice.local/x")
        .addCertChain(ByteString.copyFromUtf8("not DER")).build();
    assertThatThrownBy(() -> GrpcSvidAuthority.svid(garbage))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("does not parse");
  }

  @Test
  void theCreationTimeOfEachEntryComesWithTheSnapshot() {
    java.time.Instant created = java.time.Instant.parse("2026-05-01T10:00:00Z");
    dev.lattice.schemas.identity.v1.NodeSnapshot proto = dev.lattice.schemas.identity.v1.NodeSnapshot.newBuilder()
        .addEntries(Entry.newBuilder().setId("web").setSpiffeId("spiffe://lattice.local/ns/a/sa/web")
            .addSelectors(dev.lattice.schemas.identity.v1.Selector.newBuilder().setType("unix").setValue("uid:1000"))
            .setCreatedAtMillis(created.toEpochMilli()))
        .addEntries(Entry.newBuilder().setId("old-server").setSpiffeId("spiffe://lattice.local/ns/a/sa/db")
            .addSelectors(dev.lattice.schemas.identity.v1.Selector.newBuilder().setType("unix").setValue("uid:1000")))
        .setBundle(BUNDLE).build();
    java.util.Map<String, AgentEntry> entries = new java.util.HashMap<>();
    GrpcSvidAuthority.snapshot(proto).entries().forEach(e -> entries.put(e.id(), e));
    assertThat(entries.get("web").createdAt()).isEqualTo(created);
    assertThat(entries.get("old-server").createdAt()).as("a server without the field").isEqualTo(java.time.Instant.EPOCH);
  }
}
