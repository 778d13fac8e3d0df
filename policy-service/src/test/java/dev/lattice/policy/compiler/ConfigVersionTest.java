package dev.lattice.policy.compiler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ConfigType;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Canonical bytes and versions of compiled payloads; config keys. */
class ConfigVersionTest {

  @Test
  void mapInsertionOrderDoesNotChangeTheVersion() {
    Map<String, String> ab = new LinkedHashMap<>();
    ab.put("a", "1");
    ab.put("b", "2");
    Map<String, String> ba = new LinkedHashMap<>();
    ba.put("b", "2");
    ba.put("a", "1");
    ClusterEndpoint one = ClusterEndpoint.newBuilder().setAddress("10.0.0.1").setPort(80).setHealth(dev.lattice.events.WorkloadHealth.HEALTHY).setLabels(ab).build();
    ClusterEndpoint two = ClusterEndpoint.newBuilder().setAddress("10.0.0.1").setPort(80).setHealth(dev.lattice.events.WorkloadHealth.HEALTHY).setLabels(ba).build();
    assertThat(ConfigVersion.encode(one)).isNotEqualTo(ConfigVersion.encode(two)); // Avro writes in map order
    assertThat(ConfigVersion.of(ConfigVersion.canonical(one))).isEqualTo(ConfigVersion.of(ConfigVersion.canonical(two)))
        .matches("[0-9a-f]{64}");
    ClusterEndpoint other = ClusterEndpoint.newBuilder(one).setLabels(new HashMap<>(Map.of("a", "9"))).build();
    assertThat(ConfigVersion.of(ConfigVersion.canonical(other))).isNotEqualTo(ConfigVersion.of(ConfigVersion.canonical(one)));
    assertThat(CompiledResource.of(ConfigType.CLUSTER, "x", one, List.of("b", "a", "b")).sources())
        .containsExactly("a", "b");
  }

  @Test
  void configKeysSplitOnTheFirstTwoSlashes() {
    ConfigKey k = ConfigKey.parse("node-a/AUTHORIZATION/inbound|default/reviews/reviews-v1");
    assertThat(k.node()).isEqualTo("node-a");
    assertThat(k.type()).isEqualTo(ConfigType.AUTHORIZATION);
    assertThat(k.name()).isEqualTo("inbound|default/reviews/reviews-v1");
    assertThat(k.asString()).isEqualTo("node-a/AUTHORIZATION/inbound|default/reviews/reviews-v1");
    assertThat(MeshCompiler.unitOf(k.name())).isEqualTo("default/reviews/reviews-v1");
    assertThat(MeshCompiler.unitOf("outbound|9080|v1|reviews.default")).isEqualTo("reviews.default");
    assertThatThrownBy(() -> ConfigKey.parse("no-slashes")).hasMessageContaining("expected: node/TYPE/name");
  }
}
