package dev.lattice.dataplane.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.delegated.v1.X509SVIDWithKey;
import dev.lattice.schemas.spire.types.SPIFFEID;
import dev.lattice.schemas.spire.types.X509SVID;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import java.security.PrivateKey;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the client accepts from the agent, and the malformed or mismatched messages it refuses whole. */
class DelegatedMessagesTest {

  private static final TestSpiffeCa CA = TestSpiffeCa.create("lattice.local");
  private static final String WEB = "spiffe://lattice.local/ns/default/sa/web";

  private static X509SVIDWithKey message(String trustDomain, String path, List<ByteString> chain, PrivateKey key) {
    return X509SVIDWithKey.newBuilder()
        .setX509Svid(X509SVID.newBuilder().setId(SPIFFEID.newBuilder().setTrustDomain(trustDomain).setPath(path))
            .addAllCertChain(chain))
        .setX509SvidKey(ByteString.copyFrom(key.getEncoded()))
        .build();
  }

  private static List<ByteString> der(TestSvid svid) throws Exception {
    List<ByteString> out = new java.util.ArrayList<>();
    for (var c : svid.chain()) {
      out.add(ByteString.copyFrom(c.getEncoded()));
    }
    return out;
  }

  @Test
  void aWellFormedSvidBecomesAHeldSvid() throws Exception {
    TestSvid web = CA.issue(WEB);
    List<HeldSvid> held = DelegatedMessages.svids(SubscribeToX509SVIDsResponse.newBuilder()
        .addX509Svids(message("lattice.local", "/ns/default/sa/web", der(web), web.privateKey())).build());
    assertThat(held).hasSize(1);
    assertThat(held.get(0).spiffeId()).isEqualTo(WEB);
    assertThat(held.get(0).leaf()).isEqualTo(web.leaf());
    assertThat(held.get(0).notAfter()).isEqualTo(web.leaf().getNotAfter().toInstant());
    assertThat(held.get(0).toString()).doesNotContain("PRIVATE").contains(WEB);
  }

  @Test
  void malformedOrMismatchedSvidsAreRefusedWithTheReason() throws Exception {
    TestSvid web = CA.issue(WEB);
    TestSvid other = CA.issue("spiffe://lattice.local/ns/default/sa/other");
    assertThatThrownBy(() -> DelegatedMessages.svid(message("lattice.local", "/ns/default/sa/web",
        List.of(ByteString.copyFromUtf8("garbage")), web.privateKey())))
        .hasMessageContaining("the chain of " + WEB + ": not DER certificates");
    assertThatThrownBy(() -> DelegatedMessages.svid(message("lattice.local", "/ns/default/sa/web",
        List.of(), web.privateKey())))
        .hasMessageContaining("empty certificate chain");
    assertThatThrownBy(() -> DelegatedMessages.svid(message("lattice.local", "/ns/default/sa/web",
        der(other), other.privateKey())))
        .hasMessageContaining("leaf URI SANs [spiffe://lattice.local/ns/default/sa/other] (expected: exactly [" + WEB + "])");
    assertThatThrownBy(() -> DelegatedMessages.svid(message("lattice.local", "/ns/default/sa/web",
        der(web), other.privateKey())))
        .hasMessageContaining("the private key does not belong to the leaf");
    assertThatThrownBy(() -> DelegatedMessages.svid(message("", "", der(web), web.privateKey())))
        .hasMessageContaining("SVID without a SPIFFE ID");
    X509SVIDWithKey badKey = message("lattice.local", "/ns/default/sa/web", der(web), web.privateKey()).toBuilder()
        .setX509SvidKey(ByteString.copyFromUtf8("not a key")).build();
    assertThatThrownBy(() -> DelegatedMessages.svid(badKey))
        .hasMessageContaining("key is not PKCS#8 EC")
        .hasMessageNotContaining("not a key");
  }

  @Test
  void bundlesAreKeyedByTrustDomainNameFromEitherWireForm() throws Exception {
    ByteString root = ByteString.copyFrom(CA.root().getEncoded());
    assertThat(DelegatedMessages.bundles(SubscribeToX509BundlesResponse.newBuilder()
        .putCaCertificates("spiffe://lattice.local", root).putCaCertificates("partner.example", root).build()))
        .containsOnlyKeys("lattice.local", "partner.example")
        .allSatisfy((td, roots) -> assertThat(roots).containsExactly(CA.root()));
    assertThatThrownBy(() -> DelegatedMessages.bundles(SubscribeToX509BundlesResponse.newBuilder()
        .putCaCertificates("spiffe://lattice.local/ns", root).build()))
        .hasMessageContaining("bundle key: 'spiffe://lattice.local/ns'");
    assertThatThrownBy(() -> DelegatedMessages.bundles(SubscribeToX509BundlesResponse.newBuilder()
        .putCaCertificates("spiffe://lattice.local", ByteString.copyFromUtf8("junk")).build()))
        .hasMessageContaining("the bundle of lattice.local: not DER certificates");
  }

  @Test
  void workloadSelectorsAreValidatedAndOrderFree() {
    assertThat(WorkloadSelectors.parse("unix:uid:1000, K8S:ns:default"))
        .isEqualTo(WorkloadSelectors.of("k8s:ns:default", "unix:uid:1000"));
    assertThatThrownBy(() -> WorkloadSelectors.parse("")).hasMessageContaining("none");
    assertThatThrownBy(() -> WorkloadSelectors.of("uid")).hasMessageContaining("selector: 'uid' (expected: type:value");
    assertThatThrownBy(() -> WorkloadSelectors.of(":1000")).hasMessageContaining("selector: ':1000'");
    assertThatThrownBy(() -> WorkloadSelectors.of("unix:")).hasMessageContaining("selector: 'unix:'");
  }
}
