package dev.lattice.dataplane.route;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The weighted split's sequence and the raw query parser, without sockets. */
class RouteSplitTest {
  private static UpstreamCluster cluster(String name) {
    return new UpstreamCluster(ClusterConfig.newBuilder().setName(name).setHost(name).setPort(80)
        .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("127.0.0.1").setPort(1)
            .setHealth(WorkloadHealth.HEALTHY).build())).build());
  }

  private static Map<String, Integer> run(Route r, int n) {
    Map<String, Integer> by = new HashMap<>();
    for (int i = 0; i < n; i++) {
      by.merge(r.pickCluster().name(), 1, Integer::sum);
    }
    return by;
  }

  @Test
  void everyWindowHonoursTheWeightsToWithinOnePercentAndRunsInterleave() {
    Route r = new Route("r", List.of(cluster("a"), cluster("b"), cluster("c")), new int[] {70, 90, 100}, 0);
    for (int window = 0; window < 5; window++) {
      Map<String, Integer> by = run(r, 1000);
      assertThat(by.get("a")).isBetween(690, 710);
      assertThat(by.get("b")).isBetween(190, 210);
      assertThat(by.get("c")).isBetween(90, 110);
    }
    // 90/10: never more than a handful of consecutive requests to the big side
    Route canary = new Route("c", List.of(cluster("v1"), cluster("v2")), new int[] {90, 100}, 0);
    int run = 0;
    int longest = 0;
    for (int i = 0; i < 2000; i++) {
      run = canary.pickCluster().name().equals("v1") ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    assertThat(longest).isLessThan(20);
  }

  @Test
  void zeroWeightNeverPicked() {
    Route r = new Route("r", List.of(cluster("v1"), cluster("v2")), new int[] {0, 100}, 0);
    assertThat(run(r, 500)).containsOnly(Map.entry("v2", 500));
  }

  @Test
  void queryParamsAreReadRawAndFirstValueWins() {
    assertThat(RouteTable.queryParam("a=1&b=2", "b")).isEqualTo("2");
    assertThat(RouteTable.queryParam("a=1&a=2", "a")).isEqualTo("1");
    assertThat(RouteTable.queryParam("flag&x=1", "flag")).isEqualTo("");
    assertThat(RouteTable.queryParam("ab=1", "a")).isNull();
    assertThat(RouteTable.queryParam("x=a%20b", "x")).isEqualTo("a%20b");
    assertThat(RouteTable.queryParam("x=1&", "y")).isNull();
    assertThat(RouteTable.queryParam(null, "x")).isNull();
    assertThat(RouteTable.queryParam("", "x")).isNull();
  }
}
