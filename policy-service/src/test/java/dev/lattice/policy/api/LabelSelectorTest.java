package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class LabelSelectorTest {
  static final Map<String, String> LABELS = Map.of("app", "web", "tier", "front");

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource(delimiter = '|', value = {
      "''|true", "app=web|true", "app==web|true", "app=db|false", "app!=db|true", "app!=web|false",
      "tier|true", "canary|false", "!canary|true", "!tier|false", "app=web,tier=front|true", "app=web, tier=back|false"})
  void matches(String selector, boolean expected) {
    assertThat(LabelSelector.parse(selector).matches(LABELS)).isEqualTo(expected);
  }

  @Test
  void rejectsMalformedRequirements() {
    assertThatThrownBy(() -> LabelSelector.parse("=web")).hasMessageContaining("expected: key=value");
    assertThatThrownBy(() -> LabelSelector.parse("app=web,,")).hasMessageContaining("\"\"");
  }

  @Test
  void diffShowsRemovedAndAddedLines() {
    assertThat(TextDiff.lines("a\nb\nc\n", "a\nx\nc\n")).containsExactly("  a", "- b", "+ x", "  c");
    assertThat(TextDiff.lines("a\n", "a\n")).isEmpty();
  }
}
