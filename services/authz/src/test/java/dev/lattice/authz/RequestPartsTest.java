package dev.lattice.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.authz.normalize.MalformedRequestException;
import dev.lattice.authz.normalize.RequestSyntax;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Peer identities, client addresses, JWT claims, request syntax and the decision value. */
class RequestPartsTest {

  @Test
  void aPeerIdentityKnowsItsNamespaceAndServiceAccount() {
    PeerIdentity p = PeerIdentity.of("spiffe://lattice.local/ns/shop/sa/web");
    assertThat(p.trustDomain()).isEqualTo("lattice.local");
    assertThat(p.namespace()).isEqualTo("shop");
    assertThat(p.serviceAccount()).isEqualTo("web");
    assertThat(p.serviceAccountKey()).isEqualTo("shop/web");
    assertThat(PeerIdentity.of("lattice.local/ns/shop/sa/web").spiffeId()).isEqualTo("spiffe://lattice.local/ns/shop/sa/web");
    PeerIdentity node = PeerIdentity.of("spiffe://lattice.local/lattice/node/a");
    assertThat(node.namespace()).isNull();
    assertThat(node.serviceAccountKey()).isNull();
    assertThatThrownBy(() -> PeerIdentity.of("spiffe:///ns/x")).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no trust domain");
  }

  @Test
  void aPeerIdentityBuiltByHandMustAgreeWithItsId() {
    // the index files principal prefixes by namespace and compares IDs with their scheme: both rely on this
    assertThat(new PeerIdentity("spiffe://td/ns/a/sa/b", "td", "a", "b")).isEqualTo(PeerIdentity.of("td/ns/a/sa/b"));
    assertThatThrownBy(() -> new PeerIdentity("spiffe://td/ns/a/sa/b", "td", "other", "b"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("PeerIdentity.of");
    assertThatThrownBy(() -> new PeerIdentity("td/ns/a/sa/b", "td", "a", "b")).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void theClientAddressIsTakenFromTheRightOfXForwardedFor() {
    byte[] peer = IpBlock.literal("10.0.0.1");
    assertThat(ClientAddress.remote(peer, "1.1.1.1, 2.2.2.2", 0)).isEqualTo(peer);
    assertThat(ClientAddress.remote(peer, "1.1.1.1, 2.2.2.2", 1)).isEqualTo(IpBlock.literal("2.2.2.2"));
    assertThat(ClientAddress.remote(peer, "1.1.1.1, 2.2.2.2", 2)).isEqualTo(IpBlock.literal("1.1.1.1"));
    assertThat(ClientAddress.remote(peer, "1.1.1.1", 2)).isEqualTo(peer);
    assertThat(ClientAddress.remote(peer, "garbage", 1)).isEqualTo(peer);
    assertThat(ClientAddress.remote(peer, "1.1.1.1:443", 1)).isEqualTo(IpBlock.literal("1.1.1.1"));
    assertThat(ClientAddress.remote(peer, "[fd00::1]:443", 1)).isEqualTo(IpBlock.literal("fd00::1"));
    assertThat(ClientAddress.remote(peer, null, 1)).isEqualTo(peer);
  }

  @Test
  void jwtClaimsGiveStringsListsAndNestedValues() {
    JwtClaims c = JwtClaims.of(Map.of("iss", "i", "sub", "s", "aud", List.of("a", "b"), "azp", "web",
        "realm", Map.of("roles", List.of("admin", 7))));
    assertThat(c.principal()).isEqualTo("i/s");
    assertThat(c.audiences()).containsExactly("a", "b");
    assertThat(c.presenter()).isEqualTo("web");
    assertThat(c.claim(List.of("realm", "roles"))).containsExactly("admin");
    assertThat(c.claim(List.of("realm", "missing"))).isEmpty();
    assertThat(c.claim(List.of("iss", "deeper"))).isEmpty();
    assertThat(JwtClaims.of(Map.of("sub", "s")).principal()).isEmpty();
  }

  @Test
  void methodsAndHeaderNamesMustBeTokens() throws MalformedRequestException {
    RequestSyntax.checkMethod("GET");
    RequestSyntax.checkMethod("get");
    RequestSyntax.checkHeaderName("x-user_id");
    assertThatThrownBy(() -> RequestSyntax.checkMethod("GE T")).isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("not a token");
    assertThatThrownBy(() -> RequestSyntax.checkMethod("")).isInstanceOf(MalformedRequestException.class);
    assertThatThrownBy(() -> RequestSyntax.checkHeaderName("x:y")).isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("header name");
    assertThatThrownBy(() -> RequestSyntax.checkHeaderValue("x", "a\r\nb")).isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining("control character 0xd");
  }

  @Test
  void reasonsHaveStableWireCodes() {
    assertThat(Reason.values()).extracting(Reason::code).containsExactly("no_policies", "no_allow_policies",
        "allow_matched", "deny_matched", "no_allow_match", "rejected_before_authz");
    assertThat(Reason.ofCode("deny_matched")).isEqualTo(Reason.DENY_MATCHED);
    Decision rejected = Decision.rejectedBeforeAuthz("path \"/a%zz\": invalid percent-encoding");
    assertThat(rejected.allowed()).isFalse();
    assertThat(rejected.reason()).isEqualTo(Reason.REJECTED_BEFORE_AUTHZ);
    assertThat(PolicyRef.parse("shop/a")).isEqualTo(new PolicyRef("shop", "a"));
    assertThatThrownBy(() -> PolicyRef.parse("shop")).hasMessageContaining("expected: namespace/name");
  }

  @Test
  void theEngineUsesTheConfigsMeshSettings() {
    var config = PolicyText.config("ALLOW shop/a: {}");
    config.setPathNormalization("MERGE_SLASHES");
    config.setTrustedProxies(2);
    AuthorizationEngine e = AuthorizationEngine.of(config);
    assertThat(e.pathNormalization()).isEqualTo(dev.lattice.authz.normalize.PathNormalization.MERGE_SLASHES);
    assertThat(e.trustedProxies()).isEqualTo(2);
    config.setPathNormalization("SOMETHING_NEWER");
    assertThat(AuthorizationEngine.of(config).pathNormalization())
        .as("an unknown option normalizes as strictly as this engine can")
        .isEqualTo(dev.lattice.authz.normalize.PathNormalization.DECODE_AND_MERGE_SLASHES);
    assertThat(AuthorizationEngine.empty().evaluate(SimpleRequest.builder().method("GET").path("/").build()).reason())
        .isEqualTo(Reason.NO_POLICIES);
  }
}
