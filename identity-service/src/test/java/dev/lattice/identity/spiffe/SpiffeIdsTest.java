package dev.lattice.identity.spiffe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import java.util.stream.Stream;

class SpiffeIdsTest {

  static Stream<Arguments> table() {
    String td255 = "a".repeat(255);
    String td256 = "a".repeat(256);
    String prefix = "spiffe://example.org/";
    return Stream.of(
        // valid (SPIFFE-ID §2, §2.2 examples)
        Arguments.of("spiffe://example.org/ns/default/sa/web", null),
        Arguments.of("spiffe://staging.example.com/payments/mysql", null),
        Arguments.of("spiffe://k8s-west.example.com/ns/staging/sa/default", null),
        Arguments.of("spiffe://example.com/9eebccd2-12bf-40a6-b262-65fe0487d453", null),
        Arguments.of("spiffe://lattice.local/lattice/node/n_1", null),
        Arguments.of("spiffe://example.org/A_b-c.d/E", null),
        Arguments.of("spiffe://example.org/...", null),
        Arguments.of("spiffe://trust_domain-1.x/p", null),
        Arguments.of("spiffe://" + td255 + "/p", null),
        Arguments.of(prefix + "p".repeat(2048 - prefix.length()), null),
        // invalid
        Arguments.of("", "expected: spiffe://"),
        Arguments.of("http://example.org/a", "Scheme"),
        Arguments.of("SPIFFE://example.org/a", "Scheme"),
        Arguments.of("spiffe:/example.org/a", "Scheme"),
        Arguments.of("spiffe:///a", "Trust domain is missing"),
        Arguments.of("spiffe://Example.org/a", "lowercase"),
        Arguments.of("spiffe://exa mple.org/a", "lowercase"),
        Arguments.of("spiffe://example.org:8080/a", "SPIFFE-ID §2.1"),
        Arguments.of("spiffe://user@example.org/a", "SPIFFE-ID §2.1"),
        Arguments.of("spiffe://example.org/a/", "trailing slash"),
        Arguments.of("spiffe://example.org//a", "empty segments"),
        Arguments.of("spiffe://example.org/./a", "dot segments"),
        Arguments.of("spiffe://example.org/a/..", "dot segments"),
        Arguments.of("spiffe://example.org/a%20b", "SPIFFE-ID §2.2"),
        Arguments.of("spiffe://example.org/a?x=1", "SPIFFE-ID §2.2"),
        Arguments.of("spiffe://example.org/a#frag", "SPIFFE-ID §2.2"),
        Arguments.of("spiffe://example.org/a b", "SPIFFE-ID §2.2"),
        Arguments.of("spiffe://example.org/café", "SPIFFE-ID §2.2"),
        Arguments.of("spiffe://" + td256 + "/p", "at most 255"),
        Arguments.of(prefix + "p".repeat(2049 - prefix.length()), "at most 2048"),
        Arguments.of(" spiffe://example.org/a", "SPIFFE-ID"));
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("table")
  void parsesPerSpec(String input, String expectedError) {
    if (expectedError == null) {
      assertThat(SpiffeIds.parse(input).toString()).isEqualTo(input);
    } else {
      assertThatThrownBy(() -> SpiffeIds.parse(input))
          .isInstanceOf(InvalidSpiffeIdException.class)
          .hasMessageContaining(expectedError);
    }
  }

  @org.junit.jupiter.api.Test
  void leafNeedsAPathAndTheRightTrustDomain() {
    assertThat(SpiffeIds.parse("spiffe://example.org").getPath()).isEmpty();
    assertThatThrownBy(() -> SpiffeIds.parseLeaf("spiffe://example.org"))
        .hasMessageContaining("X509-SVID §3.1");
    assertThatThrownBy(() -> SpiffeIds.parseLeafIn("spiffe://other.org/a", TrustDomains.parse("example.org")))
        .hasMessageContaining("expected: 'example.org'");
    assertThatThrownBy(() -> TrustDomains.parse("Bad.Domain")).hasMessageContaining("§2.1");
    assertThat(SpiffeIds.isNode(SpiffeIds.node(TrustDomains.parse("lattice.local"), "n1"),
        TrustDomains.parse("lattice.local"))).isTrue();
  }
}
