package dev.lattice.testkit.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KafkaSourceChoiceTest {

  @ParameterizedTest(name = "mode={0} external={1} docker={2} -> {3}")
  @CsvSource(nullValues = "-", value = {
      "-,          -,              false, EMBEDDED",
      "-,          -,              true,  TESTCONTAINERS",
      "-,          10.0.0.1:9092,  true,  EXTERNAL",
      "embedded,   10.0.0.1:9092,  true,  EMBEDDED",
      "Docker,     -,              false, TESTCONTAINERS",
      "external,   10.0.0.1:9092,  false, EXTERNAL",
  })
  void choosesByModeThenAddressThenDocker(String mode, String external, boolean docker,
      KafkaCluster.Source expected) {
    assertThat(KafkaExtension.chooseSource(mode, external, () -> docker)).isEqualTo(expected);
  }

  @ParameterizedTest
  @CsvSource({"kraft, 'LATTICE_TEST_KAFKA: ''kraft'' (expected: embedded, testcontainers or external)'",
      "external, 'LATTICE_TEST_KAFKA=external but KAFKA_BOOTSTRAP_SERVERS is not set'"})
  void badSettingsAreClearErrors(String mode, String message) {
    assertThatThrownBy(() -> KafkaExtension.chooseSource(mode, null, () -> false)).hasMessage(message);
  }
}
