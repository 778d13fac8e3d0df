package dev.lattice.configclient.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse;
import dev.lattice.schemas.spire.types.SPIFFEID;
import dev.lattice.schemas.spire.types.X509SVID;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.spiffe.spiffeid.TrustDomain;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The data plane's check of a NodeIdentity message: a good one parses into the node id, key, chain and
 * bundle; each kind of bad one is refused with a message naming the field.
 */
class NodeSvidTest {

  private static final TrustDomain TD = TrustDomain.parse("lattice.local");
  private static final String NODE = "spiffe://lattice.local/lattice/node/n1";

  private final TestSpiffeCa ca = TestSpiffeCa.create("lattice.local");
  private final TestSpiffeCa otherCa = TestSpiffeCa.create("lattice.local");

  private static SubscribeToNodeX509SVIDResponse message(String id, TestSvid svid, byte[] key, X509Certificate root)
      throws Exception {
    String rest = id.substring("spiffe://".length());
    int slash = rest.indexOf('/');
    X509SVID.Builder cert = X509SVID.newBuilder()
        .setId(SPIFFEID.newBuilder().setTrustDomain(rest.substring(0, slash)).setPath(rest.substring(slash)))
        .setExpiresAt(svid.leaf().getNotAfter().toInstant().getEpochSecond());
    for (X509Certificate c : svid.chain()) {
      cert.addCertChain(ByteString.copyFrom(c.getEncoded()));
    }
    return SubscribeToNodeX509SVIDResponse.newBuilder().setSvid(cert).setSvidKey(ByteString.copyFrom(key))
        .setBundle(ByteString.copyFrom(root.getEncoded())).build();
  }

  @Test
  void aGoodMessageParsesIntoTheNodeIdentity() throws Exception {
    TestSvid svid = ca.issue(NODE);
    NodeSvid parsed = NodeSvid.parse(message(NODE, svid, svid.privateKey().getEncoded(), ca.root()), TD, Instant.now());
    assertThat(parsed.id().toString()).isEqualTo(NODE);
    assertThat(parsed.node()).isEqualTo("n1");
    assertThat(parsed.chain().get(0)).isEqualTo(svid.leaf());
    assertThat(parsed.bundle()).containsExactly(ca.root());
    assertThat(parsed.key().getEncoded()).isEqualTo(svid.privateKey().getEncoded());
    assertThat(parsed.expiresAt()).isEqualTo(svid.leaf().getNotAfter().toInstant());
    assertThat(parsed.toString()).doesNotContain("PRIVATE").contains(NODE);
  }

  @Test
  void aWorkloadIdIsNotANodeSvid() throws Exception {
    String workload = "spiffe://lattice.local/ns/default/sa/web";
    TestSvid svid = ca.issue(workload);
    assertThatThrownBy(() -> NodeSvid.parse(message(workload, svid, svid.privateKey().getEncoded(), ca.root()), TD, Instant.now()))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("svid.id")
        .hasMessageContaining("expected: a node SVID spiffe://lattice.local/lattice/node/<id>");
  }

  @Test
  void anotherTrustDomainIsRefused() throws Exception {
    String id = "spiffe://other.example/lattice/node/n1";
    TestSpiffeCa other = TestSpiffeCa.create("other.example");
    TestSvid svid = other.issue(id);
    assertThatThrownBy(() -> NodeSvid.parse(message(id, svid, svid.privateKey().getEncoded(), other.root()), TD, Instant.now()))
        .hasMessageContaining("svid.id: " + id);
  }

  @Test
  void anIdThatIsNotTheLeafsIsRefused() throws Exception {
    TestSvid svid = ca.issue("spiffe://lattice.local/lattice/node/n2");
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, svid.privateKey().getEncoded(), ca.root()), TD, Instant.now()))
        .hasMessageContaining("but the leaf certifies spiffe://lattice.local/lattice/node/n2");
  }

  @Test
  void aKeyOfAnotherCertificateIsRefused() throws Exception {
    TestSvid svid = ca.issue(NODE);
    TestSvid another = ca.issue(NODE);
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, another.privateKey().getEncoded(), ca.root()), TD, Instant.now()))
        .hasMessageContaining("svid_key: does not match the leaf's public key");
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, new byte[] {1, 2, 3}, ca.root()), TD, Instant.now()))
        .hasMessageContaining("svid_key: not a PKCS#8 EC key");
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, new byte[0], ca.root()), TD, Instant.now()))
        .hasMessageContaining("svid_key: empty");
  }

  @Test
  void aChainThatDoesNotVerifyToTheBundleIsRefused() throws Exception {
    TestSvid svid = ca.issue(NODE);
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, svid.privateKey().getEncoded(), otherCa.root()), TD, Instant.now()))
        .hasMessageContaining("svid.cert_chain: does not verify to the bundle");
    TestSvid expired = ca.issue(NODE, Duration.ofMinutes(-5));
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, expired, expired.privateKey().getEncoded(), ca.root()), TD, Instant.now()))
        .hasMessageContaining("does not verify to the bundle now");
    // validity is judged at the given time, not the wall clock's
    assertThatThrownBy(() -> NodeSvid.parse(message(NODE, svid, svid.privateKey().getEncoded(), ca.root()), TD,
        Instant.now().plus(Duration.ofHours(2)))).hasMessageContaining("does not verify to the bundle now");
  }

  @Test
  void missingPartsAreNamed() throws Exception {
    TestSvid svid = ca.issue(NODE);
    SubscribeToNodeX509SVIDResponse good = message(NODE, svid, svid.privateKey().getEncoded(), ca.root());
    assertThatThrownBy(() -> NodeSvid.parse(good.toBuilder().clearSvid().build(), TD, Instant.now()))
        .hasMessageContaining("svid: no certificate chain");
    assertThatThrownBy(() -> NodeSvid.parse(good.toBuilder().clearBundle().build(), TD, Instant.now()))
        .hasMessageContaining("bundle: empty");
    assertThatThrownBy(() -> NodeSvid.parse(good.toBuilder().setBundle(ByteString.copyFromUtf8("garbage")).build(), TD, Instant.now()))
        .hasMessageContaining("bundle: not DER X.509 certificates");
    assertThatThrownBy(() -> NodeSvid.parse(good.toBuilder()
        .setSvid(good.getSvid().toBuilder().clearCertChain().addCertChain(ByteString.copyFromUtf8("x"))).build(), TD, Instant.now()))
        .hasMessageContaining("svid.cert_chain: not DER X.509 certificates");
  }
}
