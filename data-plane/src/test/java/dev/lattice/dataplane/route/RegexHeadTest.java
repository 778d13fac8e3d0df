package dev.lattice.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * The literal head a uri/header regex is pre-checked with: what it is for the usual shapes, and that it never
 * refuses a value the regex fully matches (the check only saves building a Matcher).
 */
class RegexHeadTest {

  @ParameterizedTest
  @CsvSource(delimiter = ';', value = {
      "/svc-3/items/[0-9]+; /svc-3/items/",
      "^/api/v1/.*; /api/v1/",
      "/items/\\d+; /items/",
      "/ab*; /a",
      "/ab?c; /a",
      "/ab+; /a",
      "/ab{2}; /a",
      "/a|/b; ''",
      "(/api)/.*; ''",
      "[/]api; ''",
      "\\/api; ''",
      "(?i)/api; ''",
      ".*; ''",
      "/exact; /exact",
      "/v1$; /v1"})
  void headOfTheUsualShapes(String regex, String head) {
    assertThat(RouteTable.literalHead(regex)).isEqualTo(head);
  }

  @Test
  void aValueTheRegexMatchesAlwaysStartsWithItsHead() {
    List<String> regexes = List.of("/svc-3/items/[0-9]+", "^/api/v1/.*", "/ab*c?", "/ab+", "/ab{0,2}x", "/a|/b.*", "/x(y|z)*",
        "/x.y", "/q\\?.*", "/$", "/a(?i)BC", "/v[12]/.*");
    List<String> values = List.of("/", "/a", "/ac", "/abbc", "/abx", "/ax", "/b", "/bz", "/x", "/xyz", "/xay", "/q?1", "/aBc", "/abc",
        "/api/v1/", "/api/v1/x", "/api/v2/x", "/svc-3/items/12", "/svc-3/items/", "/v1/x", "/v3/x", "");
    int matched = 0;
    for (String r : regexes) {
      Pattern p = Pattern.compile(r);
      String head = RouteTable.literalHead(r);
      for (String v : values) {
        if (p.matcher(v).matches()) {
          matched++;
          assertThat(v).as("%s matches %s", r, v).startsWith(head);
        }
      }
    }
    assertThat(matched).as("the table exercises real matches").isGreaterThan(15);
  }
}
