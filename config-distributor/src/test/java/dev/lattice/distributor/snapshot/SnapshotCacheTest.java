package dev.lattice.distributor.snapshot;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.inboundListener;
import static dev.lattice.distributor.ConfigFixtures.key;
import static dev.lattice.distributor.ConfigFixtures.listener;
import static dev.lattice.distributor.ConfigFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.distributor.ConfigFixtures;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SnapshotCacheTest {

  private final SnapshotCache cache = new SnapshotCache(Clock.fixed(Instant.parse("2026-12-03T10:00:00Z"), ZoneOffset.UTC));

  private void put(ConfigResource r) {
    assertThat(cache.upsert(key(r.getNode(), r.getType(), r.getName()), r)).isEmpty();
  }

  @Test
  void consistentResourcesAreServedPerNodeWithVersionsAndRevisions() {
    put(cluster("n1", "c1", 80));
    put(route("n1", "r1", "c1"));
    put(listener("n1", "l1", 9080, "r1"));
    put(cluster("n2", "c1", 80));

    NodeSnapshot n1 = cache.snapshot("n1");
    assertThat(n1.size()).isEqualTo(3);
    assertThat(n1.heldBack()).isEmpty();
    assertThat(n1.resources(ConfigType.LISTENER)).containsOnlyKeys("l1");
    assertThat(cache.snapshot("n2").size()).isEqualTo(1);
    assertThat(cache.nodes()).containsExactlyInAnyOrder("n1", "n2");
    // the same cluster on two nodes has the same type version: versions are content hashes
    assertThat(cache.snapshot("n2").version(ConfigType.CLUSTER)).isEqualTo(n1.version(ConfigType.CLUSTER));
    assertThat(n1.revision()).isLessThan(cache.snapshot("n2").revision());
    assertThat(cache.snapshot("unknown").size()).isZero();
  }

  @Test
  void snapshotsAreImmutableValues() {
    put(cluster("n1", "c1", 80));
    NodeSnapshot before = cache.snapshot("n1");
    put(cluster("n1", "c2", 81));
    assertThat(before.resources(ConfigType.CLUSTER)).containsOnlyKeys("c1");
    assertThat(cache.snapshot("n1").resources(ConfigType.CLUSTER)).containsOnlyKeys("c1", "c2");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> before.resources(ConfigType.CLUSTER).clear())
        .isInstanceOf(UnsupportedOperationException.class);
  }

  @Test
  void aListenerWhoseRouteIsMissingIsHeldBackWithBothEndsNamedUntilTheRouteArrives() {
    put(cluster("n1", "c1", 80));
    put(listener("n1", "l1", 9080, "r1"));

    NodeSnapshot held = cache.snapshot("n1");
    assertThat(held.resources(ConfigType.LISTENER)).isEmpty();
    assertThat(held.heldBack()).singleElement().satisfies(h -> {
      assertThat(h.key()).isEqualTo("n1/LISTENER/l1");
      assertThat(h.change()).isEqualTo(HeldBack.Change.UPSERT);
      assertThat(h.reason()).isEqualTo("LISTENER l1 references ROUTE r1, which is not in the snapshot");
    });

    put(route("n1", "r1", "c1"));
    NodeSnapshot fixed = cache.snapshot("n1");
    assertThat(fixed.heldBack()).isEmpty();
    assertThat(fixed.resources(ConfigType.LISTENER)).containsOnlyKeys("l1");
  }

  @Test
  void aChangedRouteWithADanglingClusterKeepsItsServedVersion() {
    put(cluster("n1", "c1", 80));
    ConfigResource r1 = route("n1", "r1", "c1");
    put(r1);
    put(route("n1", "r1", "c9"));

    NodeSnapshot s = cache.snapshot("n1");
    assertThat(s.get(ConfigType.ROUTE, "r1").version()).isEqualTo(r1.getVersion());
    assertThat(s.heldBack()).singleElement()
        .satisfies(h -> assertThat(h.reason()).contains("ROUTE r1 references CLUSTER c9"));
  }

  @Test
  void removingAClusterARouteStillUsesIsHeldBackUntilTheRouteStopsUsingIt() {
    put(cluster("n1", "c1", 80));
    put(cluster("n1", "c2", 80));
    put(route("n1", "r1", "c1"));
    put(listener("n1", "l1", 9080, "r1"));
    cache.remove(key("n1", ConfigType.CLUSTER, "c1"));

    NodeSnapshot s = cache.snapshot("n1");
    assertThat(s.resources(ConfigType.CLUSTER)).containsKeys("c1");
    assertThat(s.heldBack()).singleElement().satisfies(h -> {
      assertThat(h.change()).isEqualTo(HeldBack.Change.REMOVAL);
      assertThat(h.key()).isEqualTo("n1/CLUSTER/c1");
      assertThat(h.reason()).contains("ROUTE r1 references CLUSTER c1");
    });

    put(route("n1", "r1", "c2"));
    assertThat(cache.snapshot("n1").resources(ConfigType.CLUSTER)).containsOnlyKeys("c2");
    assertThat(cache.snapshot("n1").heldBack()).isEmpty();
  }

  @Test
  void aNewRouteWithAMissingClusterHoldsBackTheListenerThatUsesItToo() {
    put(route("n1", "r1", "c1"));
    put(listener("n1", "l1", 9080, "r1"));
    NodeSnapshot s = cache.snapshot("n1");
    assertThat(s.size()).isZero();
    assertThat(s.heldBack()).extracting(HeldBack::key).containsExactlyInAnyOrder("n1/ROUTE/r1", "n1/LISTENER/l1");
  }

  @Test
  void listenerReferencesToAuthorizationAreChecked() {
    put(inboundListener("n1", "inbound|8080", 8080, "authz-a"));
    assertThat(cache.snapshot("n1").heldBack()).singleElement()
        .satisfies(h -> assertThat(h.reason()).isEqualTo(
            "LISTENER inbound|8080 references AUTHORIZATION authz-a, which is not in the snapshot"));
    put(ConfigFixtures.authorization("n1", "authz-a"));
    assertThat(cache.snapshot("n1").resources(ConfigType.LISTENER)).containsOnlyKeys("inbound|8080");
  }

  @Test
  void badKeysAndMismatchedValuesAreRejectedAndChangeNothing() {
    put(cluster("n1", "c1", 80));
    NodeSnapshot before = cache.snapshot("n1");
    assertThat(cache.upsert("n1-CLUSTER-c1", cluster("n1", "c1", 81))).get().asString().contains("expected: node/TYPE/name");
    assertThat(cache.upsert("n1/BOGUS/c1", cluster("n1", "c1", 81))).get().asString().contains("type \"BOGUS\"");
    assertThat(cache.upsert("n2/CLUSTER/c1", cluster("n1", "c1", 81))).get().asString().contains("does not match");
    ConfigResource wrongBranch = ConfigFixtures.resource("n1", ConfigType.ROUTE, "c1",
        ClusterConfig.newBuilder().setName("c1").setHost("h").setPort(1).build());
    assertThat(cache.upsert("n1/ROUTE/c1", wrongBranch)).get().asString().contains("expected: RouteConfig");
    assertThat(cache.snapshot("n1")).isSameAs(before);
  }

  @Test
  void watchersSeeEachNewSnapshotOfTheirNodeOnly() {
    List<NodeSnapshot> seen = new ArrayList<>();
    SnapshotCache.Watch w = cache.watch("n1", seen::add);
    put(cluster("n1", "c1", 80));
    put(cluster("n2", "c1", 80));
    put(cluster("n1", "c1", 80)); // same version: no new snapshot
    put(cluster("n1", "c1", 81));
    w.close();
    put(cluster("n1", "c1", 82));
    assertThat(seen).hasSize(2);
    assertThat(seen.get(1).revision()).isGreaterThan(seen.get(0).revision());
  }

  @Test
  void deletingEverythingLeavesAnEmptySnapshot() {
    put(cluster("n1", "c1", 80));
    cache.remove(key("n1", ConfigType.CLUSTER, "c1"));
    cache.remove(key("n1", ConfigType.CLUSTER, "never-there"));
    cache.remove("garbage");
    assertThat(cache.snapshot("n1").size()).isZero();
    assertThat(cache.snapshot("n1").version(ConfigType.CLUSTER)).isEmpty();
  }
}
