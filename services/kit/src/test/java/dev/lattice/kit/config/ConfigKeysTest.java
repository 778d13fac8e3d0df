package dev.lattice.kit.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The known-keys registry: unknown keys refused with the nearest known one, prefixes, aliases. */
class ConfigKeysTest {

  static final ConfigKeys KNOWN = ConfigKeys.kit(List.of("identity", "policy"))
      .and(ConfigKeys.of("identity.trust.domain", "identity.signing.port", "policy.mesh.path-normalization",
          "policy.mesh.trusted-proxies").withAlias("identity.trust-domain", "identity.trust.domain"));

  @ParameterizedTest
  @CsvSource({
      "identity.trust.domian, identity.trust.domain",
      "identity.trustdomain, identity.trust.domain",
      "identity.trust_domain, identity.trust.domain",
      "policy.mesh.path-normalisation, policy.mesh.path-normalization",
      "policy.mesh.trusted.proxies, policy.mesh.trusted-proxies",
      "identity.http.prot, identity.http.port",
      "kafka.bootstrap.server, kafka.bootstrap.servers"})
  void aMisspeltKeyIsRefusedNamingTheNearestKnownOne(String given, String suggested) {
    // kafka.* passes through as client properties, so only a non-kafka misspelling is refused there
    if (given.startsWith("kafka.")) {
      assertThat(KNOWN.knows(given)).isTrue();
      assertThat(KNOWN.nearest(given)).contains(suggested);
      return;
    }
    assertThat(KNOWN.knows(given)).isFalse();
    assertThatThrownBy(() -> KNOWN.check(Map.of(given, "x"), "--set"))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--set " + given + ": unknown key (did you mean " + suggested + "?)");
  }

  @Test
  void aKeyFarFromEveryKnownOneGetsNoSuggestion() {
    assertThatThrownBy(() -> KNOWN.check(Map.of("frobnicate", "1"), "config file"))
        .hasMessage("config file frobnicate: unknown key (no known key is close)");
  }

  @Test
  void everyUnknownKeyIsNamedAtOnce() {
    Map<String, String> given = new LinkedHashMap<>();
    given.put("identity.trust.domian", "a");
    given.put("identity.signing.port", "7071");
    given.put("policy.mesh.trusted.proxies", "1");
    assertThatThrownBy(() -> KNOWN.check(given, "--set"))
        .hasMessageContaining("identity.trust.domian: unknown key")
        .hasMessageContaining("policy.mesh.trusted.proxies: unknown key")
        .hasMessageNotContaining("identity.signing.port:");
  }

  @Test
  void knownKeysPrefixesAndAliasesPassAndAliasesBecomeTheirKey() {
    Map<String, String> given = new LinkedHashMap<>();
    given.put("identity.trust-domain", "example.org");
    given.put("kafka.producer.linger.ms", "5");
    given.put("policy.http.port", "0");
    given.put("data.dir", "/tmp/x");
    assertThat(KNOWN.check(given, "--set")).containsExactly(Map.entry("identity.trust.domain", "example.org"),
        Map.entry("kafka.producer.linger.ms", "5"), Map.entry("policy.http.port", "0"), Map.entry("data.dir", "/tmp/x"));
  }

  @Test
  void aServiceThatListsNoKeysAcceptsItsOwnPrefixOnly() {
    ConfigKeys lenient = ConfigKeys.none().withPrefix("telemetry.");
    assertThat(lenient.knows("telemetry.anything.at.all")).isTrue();
    assertThat(lenient.knows("telemetryx.port")).isFalse();
    assertThatThrownBy(() -> ConfigKeys.none().withPrefix("telemetry")).hasMessageContaining("ending with '.'");
  }
}
