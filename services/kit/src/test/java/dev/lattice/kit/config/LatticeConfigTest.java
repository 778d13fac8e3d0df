package dev.lattice.kit.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LatticeConfigTest {

  @TempDir Path dir;

  private Path yaml(String text) throws Exception {
    Path file = dir.resolve("lattice.yaml");
    Files.writeString(file, text);
    return file;
  }

  @Test
  void flagsBeatEnvironmentBeatFileBeatDefaults() throws Exception {
    Path file = yaml("""
        policy:
          http:
            port: 1001
            host: 10.0.0.1
        kafka:
          bootstrap:
            servers: file:9092
        only:
          in:
            file: yes
        """);
    LatticeConfig config = LatticeConfig.load(
            List.of("--config=" + file, "--policy.http.port=1003"),
            Map.of("LATTICE_POLICY_HTTP_PORT", "1002",
                "LATTICE_KAFKA_BOOTSTRAP_SERVERS", "env:9092",
                "HOME", "/root"))
        .withDefaults(Map.of("policy.http.port", "1000", "policy.http.host", "127.0.0.1",
            "default.only", "d"));

    assertThat(config.getInt("policy.http.port", -1)).isEqualTo(1003);
    assertThat(config.sourceOf("policy.http.port")).isEqualTo("flag --policy.http.port");
    assertThat(config.get("kafka.bootstrap.servers", null)).isEqualTo("env:9092");
    assertThat(config.sourceOf("kafka.bootstrap.servers")).isEqualTo("env LATTICE_KAFKA_BOOTSTRAP_SERVERS");
    assertThat(config.get("policy.http.host", null)).isEqualTo("10.0.0.1");
    assertThat(config.sourceOf("policy.http.host")).startsWith("file ");
    assertThat(config.getBoolean("only.in.file", false)).isTrue();
    assertThat(config.get("default.only", null)).isEqualTo("d");
    assertThat(config.sourceOf("default.only")).isEqualTo("default");
    assertThat(config.find("home")).isEmpty();
  }

  @Test
  void configFileCanComeFromTheEnvironment() throws Exception {
    Path file = yaml("identity: {trust-domain: example.org}\n");
    LatticeConfig config = LatticeConfig.load(List.of(), Map.of("LATTICE_CONFIG", file.toString()));
    assertThat(config.require("identity.trust-domain")).isEqualTo("example.org");
  }

  @Test
  void yamlListsBecomeCommaSeparatedValues() throws Exception {
    Path file = yaml("kafka:\n  bootstrap:\n    servers: [a:1, b:2]\n");
    LatticeConfig config = LatticeConfig.load(List.of("--config=" + file), Map.of());
    assertThat(config.get("kafka.bootstrap.servers", null)).isEqualTo("a:1,b:2");
  }

  @Test
  void malformedYamlNamesTheFile() throws Exception {
    Path file = yaml("policy:\n  http: [unclosed\n   port: 7\n");
    assertThatThrownBy(() -> LatticeConfig.load(List.of("--config=" + file), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("malformed YAML");
  }

  @Test
  void yamlWhoseTopLevelIsNotAMappingIsRejected() throws Exception {
    Path file = yaml("- just\n- a list\n");
    assertThatThrownBy(() -> LatticeConfig.load(List.of("--config=" + file), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("expected: a mapping of keys");
  }

  @Test
  void missingConfigFileIsAClearError() {
    Path missing = dir.resolve("nope.yaml");
    assertThatThrownBy(() -> LatticeConfig.load(List.of("--config=" + missing), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining(missing.toString())
        .hasMessageContaining("not readable");
  }

  @ParameterizedTest
  @ValueSource(strings = {"policy.http.port=7080", "-x", "--no-equals", "--=value"})
  void badFlagsAreRejectedWithTheExpectedForm(String flag) {
    assertThatThrownBy(() -> LatticeConfig.load(List.of(flag), Map.of()))
        .isInstanceOf(ConfigException.class)
        .hasMessageContaining("expected: --key=value");
  }

  @Test
  void badTypedValuesNameTheKeyAndTheirSource() {
    LatticeConfig config = LatticeConfig.load(
        List.of("--policy.http.port=eighty", "--shutdown.timeout=soon"),
        Map.of("LATTICE_TLS_ENABLED", "maybe"));
    assertThatThrownBy(() -> config.getInt("policy.http.port", 0))
        .hasMessage("policy.http.port: 'eighty' (expected: an integer; from flag --policy.http.port)");
    assertThatThrownBy(() -> config.getBoolean("tls.enabled", true))
        .hasMessageContaining("expected: true or false; from env LATTICE_TLS_ENABLED");
    assertThatThrownBy(() -> config.getDuration("shutdown.timeout", Duration.ZERO))
        .hasMessageContaining("shutdown.timeout: 'soon'");
    assertThatThrownBy(() -> config.require("kafka.bootstrap.servers"))
        .hasMessageContaining("LATTICE_KAFKA_BOOTSTRAP_SERVERS");
  }

  @Test
  void durationsAcceptUnitsAndIso8601() {
    assertThat(LatticeConfig.parseDuration("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(LatticeConfig.parseDuration("10s")).isEqualTo(Duration.ofSeconds(10));
    assertThat(LatticeConfig.parseDuration("5m")).isEqualTo(Duration.ofMinutes(5));
    assertThat(LatticeConfig.parseDuration("PT1H")).isEqualTo(Duration.ofHours(1));
  }
}
