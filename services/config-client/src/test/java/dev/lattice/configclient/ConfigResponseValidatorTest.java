package dev.lattice.configclient;

import static dev.lattice.configclient.ConfigClientFixtures.cluster;
import static dev.lattice.configclient.ConfigClientFixtures.response;
import static dev.lattice.configclient.ConfigClientFixtures.route;
import static dev.lattice.configclient.ConfigClientFixtures.wire;
import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import java.util.List;
import org.junit.jupiter.api.Test;

class ConfigResponseValidatorTest {

  private final ConfigSnapshot empty = ConfigSnapshot.empty("node-a");

  @Test
  void clustersThenARouteReferencingThemMakeTheNextSnapshots() {
    ConfigResponseValidator.Result clusters = ConfigResponseValidator.validate(empty,
        response(ConfigType.CLUSTER, List.of(cluster("node-a", "c1", 80)), List.of()));
    assertThat(clusters.ok()).isTrue();
    ConfigResponseValidator.Result routes = ConfigResponseValidator.validate(clusters.next(),
        response(ConfigType.ROUTE, List.of(route("node-a", "r1", "c1")), List.of()));
    assertThat(routes.ok()).isTrue();
    assertThat(routes.next().get(ConfigType.ROUTE, "r1")).isNotNull();
    assertThat(routes.next().revision()).isEqualTo(2);
    // removing the cluster the route still references is refused, naming both ends
    ConfigResponseValidator.Result removal = ConfigResponseValidator.validate(routes.next(),
        response(ConfigType.CLUSTER, List.of(), List.of("c1")));
    assertThat(removal.problem()).isEqualTo("ROUTE r1 references CLUSTER c1, which is not in the snapshot");
  }

  @Test
  void routeToAMissingClusterIsRefused() {
    ConfigResponseValidator.Result r = ConfigResponseValidator.validate(empty,
        response(ConfigType.ROUTE, List.of(route("node-a", "r1", "nope")), List.of()));
    assertThat(r.problem()).contains("ROUTE r1 references CLUSTER nope");
  }

  @Test
  void garbagePayloadNamesTheResource() {
    DeltaConfigResponse bad = response(ConfigType.CLUSTER, List.of(), List.of()).toBuilder()
        .addResources(wire(cluster("node-a", "c1", 80)).toBuilder().setPayload(ByteString.copyFromUtf8("garbage")))
        .build();
    assertThat(ConfigResponseValidator.validate(empty, bad).problem())
        .startsWith("CLUSTER/c1: payload does not decode as a ConfigResource");
  }

  @Test
  void payloadOfAnotherNodeOrTypeOrNameOrVersionIsRefused() {
    assertThat(ConfigResponseValidator.validate(empty,
        response(ConfigType.CLUSTER, List.of(cluster("node-b", "c1", 80)), List.of())).problem())
        .isEqualTo("CLUSTER/c1: node node-b (expected: node-a)");
    assertThat(ConfigResponseValidator.validate(empty,
        response(ConfigType.ROUTE, List.of(cluster("node-a", "c1", 80)), List.of())).problem())
        .isEqualTo("ROUTE/c1: type CLUSTER (expected: ROUTE, the response's type_url)");
    DeltaConfigResponse renamed = response(ConfigType.CLUSTER, List.of(), List.of()).toBuilder()
        .addResources(wire(cluster("node-a", "c1", 80)).toBuilder().setName("c2")).build();
    assertThat(ConfigResponseValidator.validate(empty, renamed).problem())
        .isEqualTo("CLUSTER/c2: payload names c1 (expected: c2)");
    DeltaConfigResponse reversioned = response(ConfigType.CLUSTER, List.of(), List.of()).toBuilder()
        .addResources(wire(cluster("node-a", "c1", 80)).toBuilder().setVersion("v0")).build();
    assertThat(ConfigResponseValidator.validate(empty, reversioned).problem())
        .startsWith("CLUSTER/c1: version v0 (expected: the payload's version ");
  }

  @Test
  void unknownTypeUrlAndDuplicatesAreRefused() {
    assertThat(ConfigResponseValidator.validate(empty, DeltaConfigResponse.newBuilder().setTypeUrl("x/y").build())
        .problem()).startsWith("type_url: \"x/y\"");
    DeltaConfigResponse twice = response(ConfigType.CLUSTER, List.of(cluster("node-a", "c1", 80),
        cluster("node-a", "c1", 81)), List.of());
    assertThat(ConfigResponseValidator.validate(empty, twice).problem()).isEqualTo("CLUSTER/c1: sent twice in one response");
  }
}
