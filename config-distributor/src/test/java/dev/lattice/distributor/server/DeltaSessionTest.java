package dev.lattice.distributor.server;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.key;
import static dev.lattice.distributor.ConfigFixtures.listener;
import static dev.lattice.distributor.ConfigFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.rpc.Status;
import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Node;
import dev.lattice.schemas.config.v1.Resource;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DeltaSessionTest {

  private final SnapshotCache cache = new SnapshotCache(Clock.systemUTC());

  private void put(ConfigResource r) {
    assertThat(cache.upsert(key(r.getNode(), r.getType(), r.getName()), r)).isEmpty();
  }

  private static DeltaConfigRequest subscribe(ConfigType type, Map<String, String> initial) {
    return DeltaConfigRequest.newBuilder().setNode(Node.newBuilder().setId("n1")).setTypeUrl(ConfigTypeUrls.of(type))
        .addResourceNamesSubscribe("*").putAllInitialResourceVersions(initial).build();
  }

  private static DeltaConfigRequest ack(DeltaConfigResponse r) {
    return DeltaConfigRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce()).build();
  }

  private static DeltaConfigRequest nack(DeltaConfigResponse r, String why) {
    return DeltaConfigRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce())
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage(why)).build();
  }

  private DeltaSession subscribedToAll(Map<ConfigType, Map<String, String>> initial) throws Exception {
    DeltaSession s = new DeltaSession("n1", "t", cache.snapshot("n1"));
    for (ConfigType t : ConfigTypeUrls.TYPES) {
      s.onRequest(subscribe(t, initial.getOrDefault(t, Map.of()))).responses().forEach(sent::add);
    }
    return s;
  }

  private final List<DeltaConfigResponse> sent = new ArrayList<>();

  /** ACKs everything in flight until the session is quiet; returns every response in send order. */
  private List<DeltaConfigResponse> ackAll(DeltaSession s) throws Exception {
    List<DeltaConfigResponse> all = new ArrayList<>(sent);
    List<DeltaConfigResponse> queue = new ArrayList<>(sent);
    sent.clear();
    while (!queue.isEmpty()) {
      DeltaConfigResponse r = queue.remove(0);
      List<DeltaConfigResponse> more = s.onRequest(ack(r)).responses();
      all.addAll(more);
      queue.addAll(more);
    }
    return all;
  }

  @Test
  void clustersGoBeforeRoutesAndRoutesBeforeListenersThenOnlyTheChangedResource() throws Exception {
    put(cluster("n1", "c1", 80));
    put(route("n1", "r1", "c1"));
    put(listener("n1", "l1", 9080, "r1"));
    DeltaSession s = subscribedToAll(Map.of());
    List<DeltaConfigResponse> all = ackAll(s);
    assertThat(all).extracting(DeltaConfigResponse::getTypeUrl).containsExactly(
        ConfigTypeUrls.of(ConfigType.CLUSTER), ConfigTypeUrls.of(ConfigType.ROUTE), ConfigTypeUrls.of(ConfigType.LISTENER));
    assertThat(all).extracting(DeltaConfigResponse::getNonce).doesNotHaveDuplicates();

    put(cluster("n1", "c1", 81));
    put(cluster("n1", "c2", 82));
    sent.addAll(s.onSnapshot(cache.snapshot("n1")));
    List<DeltaConfigResponse> change = ackAll(s);
    assertThat(change).singleElement().satisfies(r ->
        assertThat(r.getResourcesList()).extracting(Resource::getName).containsExactly("c1", "c2"));
  }

  @Test
  void removalsOfARouteAndItsClusterComeAfterTheListenerStopsUsingThem() throws Exception {
    put(cluster("n1", "c1", 80));
    put(route("n1", "r1", "c1"));
    put(listener("n1", "l1", 9080, "r1"));
    DeltaSession s = subscribedToAll(Map.of());
    ackAll(s);
    cache.remove(key("n1", ConfigType.LISTENER, "l1"));
    cache.remove(key("n1", ConfigType.ROUTE, "r1"));
    cache.remove(key("n1", ConfigType.CLUSTER, "c1"));
    sent.addAll(s.onSnapshot(cache.snapshot("n1")));
    List<DeltaConfigResponse> all = ackAll(s);
    assertThat(all).extracting(r -> r.getTypeUrl() + r.getRemovedResourcesList()).containsExactly(
        ConfigTypeUrls.of(ConfigType.LISTENER) + "[l1]", ConfigTypeUrls.of(ConfigType.ROUTE) + "[r1]",
        ConfigTypeUrls.of(ConfigType.CLUSTER) + "[c1]");
  }

  @Test
  void aNackedVersionIsNotResentAndAFixedOneIs() throws Exception {
    put(cluster("n1", "c1", 80));
    DeltaSession s = subscribedToAll(Map.of());
    ackAll(s);
    put(cluster("n1", "c1", 99999));
    List<DeltaConfigResponse> bad = s.onSnapshot(cache.snapshot("n1"));
    assertThat(bad).hasSize(1);
    DeltaSession.Outcome outcome = s.onRequest(nack(bad.get(0), "CLUSTER c1: port 99999 (expected: 1..65535)"));
    assertThat(outcome.kind()).isEqualTo(DeltaSession.Outcome.Kind.NACK);
    assertThat(outcome.rejected()).containsOnlyKeys("c1");
    assertThat(outcome.responses()).isEmpty();
    assertThat(s.onSnapshot(cache.snapshot("n1"))).isEmpty();
    assertThat(s.acked(ConfigType.CLUSTER).get("c1")).isEqualTo(cluster("n1", "c1", 80).getVersion());

    put(cluster("n1", "c1", 8080));
    List<DeltaConfigResponse> fixed = s.onSnapshot(cache.snapshot("n1"));
    assertThat(fixed).singleElement().satisfies(r -> assertThat(r.getResources(0).getVersion())
        .isEqualTo(cluster("n1", "c1", 8080).getVersion()));
    assertThat(s.onRequest(ack(fixed.get(0))).kind()).isEqualTo(DeltaSession.Outcome.Kind.ACK);
  }

  @Test
  void aReconnectWithInitialVersionsGetsOnlyTheDifference() throws Exception {
    ConfigResource kept = cluster("n1", "c1", 80);
    ConfigResource old = cluster("n1", "c2", 80);
    put(kept);
    put(cluster("n1", "c2", 81));
    put(cluster("n1", "c3", 80));
    DeltaSession s = subscribedToAll(Map.of(ConfigType.CLUSTER,
        Map.of("c1", kept.getVersion(), "c2", old.getVersion(), "gone", "abc")));
    assertThat(sent).singleElement().satisfies(r -> {
      assertThat(r.getResourcesList()).extracting(Resource::getName).containsExactly("c2", "c3");
      assertThat(r.getRemovedResourcesList()).containsExactly("gone");
    });
  }

  @Test
  void staleNoncesAreIgnoredAndBadRequestsRefused() throws Exception {
    DeltaSession s = subscribedToAll(Map.of());
    assertThat(s.onRequest(DeltaConfigRequest.newBuilder().setTypeUrl(ConfigTypeUrls.of(ConfigType.CLUSTER))
        .setResponseNonce("nope").build()).kind()).isEqualTo(DeltaSession.Outcome.Kind.STALE);
    assertThatThrownBy(() -> s.onRequest(DeltaConfigRequest.newBuilder().setTypeUrl("lattice.dev/config/v1/SECRET").build()))
        .isInstanceOfSatisfying(DeltaSession.Refused.class, e -> assertThat(e.code).isEqualTo("INVALID_ARGUMENT"))
        .hasMessageContaining("type_url: \"lattice.dev/config/v1/SECRET\"");
    assertThatThrownBy(() -> s.onRequest(DeltaConfigRequest.newBuilder().setNode(Node.newBuilder().setId("n2"))
        .setTypeUrl(ConfigTypeUrls.of(ConfigType.CLUSTER)).build()))
        .isInstanceOfSatisfying(DeltaSession.Refused.class, e -> assertThat(e.code).isEqualTo("PERMISSION_DENIED"));
  }
}
