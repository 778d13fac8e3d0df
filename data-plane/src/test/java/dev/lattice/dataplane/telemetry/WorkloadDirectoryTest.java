package dev.lattice.dataplane.telemetry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfigFile;
import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

/** Who is behind an address, from one snapshot's cluster endpoints. */
class WorkloadDirectoryTest {
  private static final String YAML = """
      settings: {node: node-a}
      listeners:
        - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
      routes:
        - name: r1
          virtualHosts:
            - {name: v, domains: ["*"], routes: [{name: r, clusters: [{cluster: ratings-v1}]}]}
      clusters:
        - name: ratings-v1
          host: ratings.shop
          port: 9080
          endpoints:
            - {address: 127.0.0.21, port: 9080, health: HEALTHY, spiffeId: "spiffe://lattice.local/ns/shop/sa/ratings", labels: {app: ratings, version: v1}}
        - name: ratings-all
          host: ratings.shop
          port: 9080
          endpoints:
            - {address: 127.0.0.21, port: 9080, health: HEALTHY}
            - {address: 127.0.0.22, port: 9080, health: HEALTHY, spiffeId: "spiffe://lattice.local/ns/shop/sa/ratings-sa"}
        - name: shared
          host: multi.other
          port: 80
          endpoints:
            - {address: 127.0.0.30, port: 80, health: HEALTHY, labels: {app: one}}
            - {address: 127.0.0.30, port: 81, health: HEALTHY, labels: {app: two}}
      """;

  private final WorkloadDirectory dir = WorkloadDirectory.of(ProxyConfigFile.parse(YAML));

  @Test
  void endpointsNameTheirWorkloadByAppLabelElseServiceAccount() {
    WorkloadDirectory.Workload v1 = dir.endpoint("ratings-v1", new InetSocketAddress("127.0.0.21", 9080));
    assertThat(v1).isEqualTo(new WorkloadDirectory.Workload("shop", "ratings", "spiffe://lattice.local/ns/shop/sa/ratings",
        "v1", "ratings.shop"));
    // the same endpoint reached through a cluster that does not label it: the labelled entry answers
    assertThat(dir.endpoint("ratings-all", new InetSocketAddress("127.0.0.21", 9080)).name()).isEqualTo("ratings");
    assertThat(dir.endpoint(null, new InetSocketAddress("127.0.0.21", 9080)).name()).isEqualTo("ratings");
    assertThat(dir.endpoint("ratings-all", new InetSocketAddress("127.0.0.22", 9080)).name()).isEqualTo("ratings-sa");
    assertThat(dir.endpoint(null, new InetSocketAddress("127.0.0.99", 1))).isNull();
    assertThat(dir.service("ratings-v1")).isEqualTo("ratings.shop");
  }

  @Test
  void aCallerAddressNamesAWorkloadOnlyWhenUnambiguous() {
    assertThat(dir.address(new InetSocketAddress("127.0.0.21", 40000)).name()).isEqualTo("ratings");
    // two workloads share 127.0.0.30: a caller from there is nobody in particular
    assertThat(dir.address(new InetSocketAddress("127.0.0.30", 40000))).isNull();
    // the namespace of a workload without a SPIFFE ID comes from its service host
    assertThat(dir.endpoint("shared", new InetSocketAddress("127.0.0.30", 80)).namespace()).isEqualTo("other");
  }

  @Test
  void theSamplesExampleConfigNamesEverySampleWorkload() {
    WorkloadDirectory samples = WorkloadDirectory.of(ProxyConfigFile.load(java.nio.file.Path.of("../docs/examples/samples-proxy.yaml")));
    assertThat(samples.address(new InetSocketAddress("127.0.0.11", 1)).name()).isEqualTo("frontend");
    assertThat(samples.address(new InetSocketAddress("127.0.0.12", 1)).name()).isEqualTo("catalog");
    assertThat(samples.endpoint("ratings-v2", new InetSocketAddress("127.0.0.14", 9080)).version()).isEqualTo("v2");
  }
}
