package dev.lattice.dataplane.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/** A config-client snapshot as the proxy serves it: every typed payload by name, bad payloads named, references checked. */
class StreamedConfigTest {
  private static final ProxySettings SETTINGS = ProxySettings.defaults("node-a");

  private static ConfigResource resource(ConfigType type, String name, SpecificRecord payload) {
    return ConfigResource.newBuilder().setNode("node-a").setType(type).setName(name).setVersion("v-" + name)
        .setPayload(payload).build();
  }

  private static ConfigResource listener(String route) {
    return resource(ConfigType.LISTENER, "out", ListenerConfig.newBuilder().setName("out").setPort(0)
        .setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP).setRouteConfig(route).build());
  }

  private static ConfigResource route() {
    RouteRule rule = RouteRule.newBuilder().setName("r-0")
        .setClusters(List.of(WeightedCluster.newBuilder().setCluster("c").setWeight(100).build())).build();
    return resource(ConfigType.ROUTE, "r", RouteConfig.newBuilder().setName("r").setVirtualHosts(List.of(
        VirtualHost.newBuilder().setName("r").setDomains(List.of("*")).setRoutes(List.of(rule)).build())).build());
  }

  private static ConfigResource cluster() {
    return resource(ConfigType.CLUSTER, "c", ClusterConfig.newBuilder().setName("c").setHost("c.svc").setPort(80).build());
  }

  @Test
  void aSnapshotBecomesTheProxyConfigItNames() {
    ConfigSnapshot s = ConfigSnapshot.of("node-a", List.of(listener("r"), route(), cluster(),
        resource(ConfigType.RATE_LIMIT, "rl", RateLimitConfig.newBuilder().setName("rl").build())), 7, ConfigSnapshot.Source.STREAM);
    ProxyConfig c = StreamedConfig.of(s, SETTINGS);
    assertThat(c.version()).isEqualTo("stream-7");
    assertThat(c.settings().node()).isEqualTo("node-a");
    assertThat(c.listeners()).containsOnlyKeys("out");
    assertThat(c.routes()).containsOnlyKeys("r");
    assertThat(c.clusters()).containsOnlyKeys("c");
  }

  @Test
  void aPayloadOfTheWrongTypeIsRefusedNamingTheResource() {
    ConfigSnapshot s = ConfigSnapshot.of("node-a", List.of(resource(ConfigType.LISTENER, "out",
        ClusterConfig.newBuilder().setName("out").setHost("h").setPort(1).build())), 1, ConfigSnapshot.Source.STREAM);
    assertThatThrownBy(() -> StreamedConfig.of(s, SETTINGS)).isInstanceOf(ConfigFileException.class)
        .hasMessage("LISTENER out: payload is ClusterConfig (expected: ListenerConfig)");
  }

  @Test
  void aDanglingReferenceIsRefusedByTheProxyConfigCheck() {
    ConfigSnapshot s = ConfigSnapshot.of("node-a", List.of(listener("missing")), 1, ConfigSnapshot.Source.STREAM);
    assertThatThrownBy(() -> StreamedConfig.of(s, SETTINGS)).isInstanceOf(ConfigFileException.class).hasMessageContaining("missing");
  }
}
