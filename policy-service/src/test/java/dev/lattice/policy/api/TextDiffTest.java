package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class TextDiffTest {

  private static String lines(int from, int to, String prefix) {
    return IntStream.range(from, to).mapToObj(i -> prefix + i).collect(Collectors.joining("\n"));
  }

  @Test
  void equalTextsHaveNoDiff() {
    assertThat(TextDiff.lines("a\nb\n", "a\nb\n")).isEmpty();
    assertThat(TextDiff.lines("", "")).isEmpty();
  }

  @Test
  void aChangeInTheMiddleKeepsTheCommonHeadAndTail() {
    assertThat(TextDiff.lines("a\nb\nc\nd\n", "a\nb\nX\nd\n")).containsExactly("  a", "  b", "- c", "+ X", "  d");
    assertThat(TextDiff.lines("", "a\nb")).containsExactly("+ a", "+ b");
    assertThat(TextDiff.lines("a\nb", "")).containsExactly("- a", "- b");
    // the middle is diffed by LCS: a moved line shows as one removal and one addition
    assertThat(TextDiff.lines("h\nx\ny\nz\nt", "h\ny\nz\nx\nt")).containsExactly("  h", "- x", "  y", "  z", "+ x", "  t");
  }

  @Test
  void aHugeRewriteIsBoundedAndStillCorrect() {
    // 40,000 × 40,000 changed lines would be a 6 GB LCS table; past the bound the middle is replaced whole.
    String before = lines(0, 40_000, "old-") + "\ntail";
    String after = lines(0, 40_000, "new-") + "\ntail";
    List<String> diff = TextDiff.lines(before, after);
    assertThat(diff).hasSize(80_001);
    assertThat(diff.get(0)).isEqualTo("- old-0");
    assertThat(diff.get(40_000)).isEqualTo("+ new-0");
    assertThat(diff.get(80_000)).isEqualTo("  tail");
  }

  @Test
  void aSmallEditOfAHugeTextIsDiffedExactly() {
    String before = lines(0, 100_000, "line-");
    String after = before.replace("line-50000\n", "line-50000-edited\n");
    List<String> diff = TextDiff.lines(before, after);
    assertThat(diff.stream().filter(l -> !l.startsWith("  "))).containsExactly("- line-50000", "+ line-50000-edited");
  }
}
