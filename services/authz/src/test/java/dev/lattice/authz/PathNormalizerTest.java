package dev.lattice.authz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.authz.normalize.MalformedRequestException;
import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.authz.normalize.PathNormalizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link PathNormalizer}: each option on the attack shapes of Istio's normalization reference. */
class PathNormalizerTest {

  @ParameterizedTest(name = "{0} {1} -> {2}")
  @CsvSource(delimiter = ' ', value = {
      "BASE /a/b /a/b",
      "BASE /a/b?x=1 /a/b",
      "BASE /a/./b /a/b",
      "BASE /a/../b /b",
      "BASE /a/b/.. /a/",
      "BASE /a/b/. /a/b/",
      "BASE /../a /a",
      "BASE /%2e%2E/a /a",
      "BASE /a/%2e/b /a/b",
      "BASE /%7Euser /~user",
      "BASE /%61%62 /ab",
      "BASE /a%2fb /a%2Fb",
      "BASE /a%3a /a%3A",
      "BASE /a\\b /a/b",
      "BASE //a//b //a//b",
      "BASE /.well-known/x /.well-known/x",
      "BASE * *",
      "MERGE_SLASHES //a///b /a/b",
      "MERGE_SLASHES //a/../b /b",
      "MERGE_SLASHES /a%2F%2Fb /a%2F%2Fb",
      "DECODE_AND_MERGE_SLASHES /a%2F%2fb /a/b",
      "DECODE_AND_MERGE_SLASHES /a%5cb /a/b",
      "DECODE_AND_MERGE_SLASHES /a%2F..%2Fadmin /admin",
      "NONE /a/../b /a/../b",
      "NONE /a%2fb?q /a%2fb",
  })
  void normalizes(PathNormalization mode, String raw, String expected) throws MalformedRequestException {
    assertThat(PathNormalizer.normalize(raw, mode)).isEqualTo(expected);
  }

  @Test
  void aPathNeedingNoChangeIsReturnedAsIs() throws MalformedRequestException {
    String raw = "/api/items/7";
    assertThat(PathNormalizer.normalize(raw, PathNormalization.BASE)).isSameAs(raw);
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "/a\u0000b|a NUL byte",
      "/a%zz|invalid percent-encoding",
      "/a%|invalid percent-encoding",
      "/a%2|invalid percent-encoding",
      "/a%00|a percent-encoded NUL",
      "/a b|character 0x20",
      "/a\u007f|character 0x7f",
      "/caf\u00e9|character 0xe9",
      "admin|no leading '/'",
      "?x=1|no leading '/'",
  })
  void rejectsWhatCannotBeNormalizedSafely(String raw, String why) {
    assertThatThrownBy(() -> PathNormalizer.normalize(raw, PathNormalization.BASE))
        .isInstanceOf(MalformedRequestException.class)
        .hasMessageContaining(why)
        .hasMessageContaining("expected: a path of printable ASCII");
  }

  @Test
  void aRejectionQuotesOnlyAnEscapedExcerpt() {
    String hostile = "/" + "A".repeat(500) + "\u0001";
    assertThatThrownBy(() -> PathNormalizer.normalize(hostile, PathNormalization.BASE))
        .hasMessageNotContaining("A".repeat(100)).hasMessageContaining("…");
  }
}
