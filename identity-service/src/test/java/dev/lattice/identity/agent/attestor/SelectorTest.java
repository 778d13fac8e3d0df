package dev.lattice.identity.agent.attestor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SelectorTest {

  @ParameterizedTest
  @CsvSource({
      "unix:uid:1000, unix, uid:1000",
      "UNIX:gid:50, unix, gid:50",
      "k8s:pod-label:app=web, k8s, pod-label:app=web",
      "k8s:ns:default, k8s, ns:default"})
  void parsesTypeAndValue(String text, String type, String value) {
    Selector s = Selector.parse(text);
    assertThat(s.type()).isEqualTo(type);
    assertThat(s.value()).isEqualTo(value);
    assertThat(Selector.parse(s.toString())).isEqualTo(s);
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "unix", "unix:", ":uid:1", " :x"})
  void rejectsMalformedSelectorsSayingWhatItExpected(String text) {
    assertThatThrownBy(() -> Selector.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("expected");
  }

  @ParameterizedTest
  @CsvSource({
      "'9 (a b) c) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 424242 99', 424242",
      "'1 (systemd) S 0 1 1 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 17 1000', 17"})
  void readsTheProcessStartTimeEvenWithSpacesAndParensInTheCommand(String stat, long start) {
    assertThat(ProcessTable.parseStartTime(stat)).isEqualTo(start);
  }

  @ParameterizedTest
  @ValueSource(strings = {"no parens at all", "1 (x) S 1 2"})
  void rejectsTruncatedStatLines(String stat) {
    assertThatThrownBy(() -> ProcessTable.parseStartTime(stat)).isInstanceOf(IllegalArgumentException.class);
  }
}
