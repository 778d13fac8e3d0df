package dev.lattice.policy.compiler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.authz.Decision;
import dev.lattice.policy.explain.Explainer;
import dev.lattice.authz.Verdict;
import dev.lattice.policy.model.ParseResult;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceParser;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Simulation table: YAML resources (parsed and mapped by the resource API's own code) and a registry are
 * compiled by the topology; each call is then resolved against the compiled config of a node, for routing
 * (listener → rule → cluster → endpoints) and for authorization (the shared engine over the compiled
 * table).
 */
class CompilerSimulationTest {

  static final String YAML = """
      apiVersion: lattice.dev/v1alpha1
      kind: DestinationPolicy
      metadata: {name: reviews, namespace: default}
      spec:
        host: reviews
        subsets:
        - {name: v1, labels: {version: v1}}
        - {name: v2, labels: {version: v2}}
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: TrafficRoute
      metadata: {name: reviews, namespace: default}
      spec:
        hosts: [reviews]
        http:
        - name: jason
          match:
          - headers: {end-user: {exact: jason}}
          route:
          - destination: {host: reviews, subset: v2}
        - name: everyone
          route:
          - destination: {host: reviews, subset: v1}
            weight: 90
          - destination: {host: reviews, subset: v2}
            weight: 10
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: TrafficRoute
      metadata: {name: productpage, namespace: default}
      spec:
        hosts: [productpage]
        http:
        - name: ratings-api
          match:
          - uri: {prefix: /api/ratings}
          route:
          - destination: {host: ratings}
        - name: pages
          match:
          - uri: {regex: "/(index|about)\\\\.html"}
          - uri: {exact: /}
          route:
          - destination: {host: productpage}
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: ratings-viewer, namespace: default}
      spec:
        selector: {matchLabels: {app: ratings}}
        action: ALLOW
        rules:
        - from: [{source: {principals: ["spiffe://lattice.local/ns/default/sa/reviews"]}}]
          to: [{operation: {methods: [GET]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: no-admin, namespace: lattice-system}
      spec:
        action: DENY
        rules:
        - to: [{operation: {paths: ["/admin*"]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata:
        name: no-delete
        namespace: default
        annotations: {lattice.dev/dry-run: "true"}
      spec:
        selector: {matchLabels: {app: productpage}}
        action: DENY
        rules:
        - to: [{operation: {methods: [DELETE]}}]
      """;

  static CompilerDriver driver;
  static Simulation sim;

  @BeforeAll
  static void compile() {
    driver = new CompilerDriver(CompilerOptions.defaults(ValidatedAdmission.INSTANCE));
    for (WorkloadEndpoint w : List.of(CompilerTopologyTest.PRODUCTPAGE, CompilerTopologyTest.REVIEWS_V1,
        CompilerTopologyTest.REVIEWS_V2, CompilerTopologyTest.RATINGS)) {
      driver.register(w);
    }
    ParseResult parsed = ResourceParser.create().parse(YAML);
    assertThat(parsed.errorMessages()).isEmpty();
    for (Resource r : parsed.resources()) {
      ResourceEvent e = ResourceEventMapper.toEvent(r, new ResourceEventMapper.Provenance(1, "test",
          ResourceSource.CLI, Instant.parse("2026-01-01T00:00:00Z")));
      assertThat(driver.apply(e)).as("compiling %s", r.key()).isNotEmpty();
    }
    assertThat(driver.warnings()).isEmpty();
    sim = new Simulation(driver.compacted);
  }

  @AfterAll
  static void close() {
    driver.close();
  }

  static Stream<Arguments> routes() {
    return Stream.of(
        Arguments.of("reviews, everyone", new Simulation.Call("node-a", "reviews.default", 9080, "GET", "/reviews/1", Map.of()),
            "default/reviews/everyone", "outbound|9080|v1|reviews.default", List.of("10.0.0.2")),
        Arguments.of("reviews, jason", new Simulation.Call("node-a", "reviews.default", 9080, "GET", "/reviews/1",
            Map.of("end-user", "jason")), "default/reviews/jason", "outbound|9080|v2|reviews.default", List.of("10.0.0.3")),
        Arguments.of("reviews, other user", new Simulation.Call("node-b", "reviews.default", 9080, "GET", "/",
            Map.of("end-user", "mary")), "default/reviews/everyone", "outbound|9080|v1|reviews.default", List.of("10.0.0.2")),
        Arguments.of("productpage api to ratings", new Simulation.Call("node-a", "productpage.default", 9080, "GET",
            "/api/ratings/5", Map.of()), "default/productpage/ratings-api", "outbound|9080||ratings.default", List.of("10.0.0.4")),
        Arguments.of("productpage regex page", new Simulation.Call("node-b", "productpage.default", 9080, "GET",
            "/about.html", Map.of()), "default/productpage/pages", "outbound|9080||productpage.default", List.of("10.0.0.1")),
        Arguments.of("productpage exact root", new Simulation.Call("node-b", "productpage.default", 9080, "GET", "/",
            Map.of()), "default/productpage/pages", "outbound|9080||productpage.default", List.of("10.0.0.1")),
        Arguments.of("ratings default route", new Simulation.Call("node-a", "ratings.default", 9080, "POST", "/x", Map.of()),
            "default", "outbound|9080||ratings.default", List.of("10.0.0.4")));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("routes")
  void routesTo(String name, Simulation.Call call, String rule, String cluster, List<String> endpoints) {
    Simulation.Routed routed = sim.route(call);
    assertThat(routed).as(name).isNotNull();
    assertThat(routed.rule()).isEqualTo(rule);
    assertThat(routed.clusters().stream().max(java.util.Comparator.comparingInt(c -> c.getWeight())).get().getCluster())
        .isEqualTo(cluster);
    assertThat(routed.endpoints()).containsExactlyElementsOf(endpoints);
  }

  @org.junit.jupiter.api.Test
  void unmatchedRequestsAndUnknownHostsGoNowhere() {
    assertThat(sim.route(new Simulation.Call("node-a", "productpage.default", 9080, "GET", "/static/x.css", Map.of())))
        .isNull();
    assertThat(sim.route(new Simulation.Call("node-a", "nowhere.default", 9080, "GET", "/", Map.of()))).isNull();
    assertThat(sim.route(new Simulation.Call("node-a", "reviews.default", 8080, "GET", "/", Map.of()))).isNull();
  }

  static Stream<Arguments> authorizations() {
    String reviews = "spiffe://lattice.local/ns/default/sa/reviews";
    String productpage = "spiffe://lattice.local/ns/default/sa/productpage";
    return Stream.of(
        Arguments.of("reviews may GET ratings", "node-b", "default/ratings/ratings-1", reviews, "GET", "/ratings/1",
            Verdict.ALLOW, "default/ratings-viewer", null),
        Arguments.of("productpage may not GET ratings (implicit deny)", "node-b", "default/ratings/ratings-1",
            productpage, "GET", "/ratings/1", Verdict.DENY, null, null),
        Arguments.of("reviews may not POST ratings", "node-b", "default/ratings/ratings-1", reviews, "POST", "/ratings/1",
            Verdict.DENY, null, null),
        Arguments.of("mesh-wide DENY beats the ALLOW", "node-b", "default/ratings/ratings-1", reviews, "GET", "/admin/x",
            Verdict.DENY, "lattice-system/no-admin", null),
        Arguments.of("no ALLOW policy on reviews: allowed", "node-a", "default/reviews/reviews-v1", productpage, "GET",
            "/reviews/1", Verdict.ALLOW, null, null),
        Arguments.of("mesh-wide DENY on reviews too", "node-b", "default/reviews/reviews-v2", productpage, "GET",
            "/admin", Verdict.DENY, "lattice-system/no-admin", null),
        Arguments.of("dry-run DENY does not enforce but is reported", "node-a", "default/productpage/productpage-1",
            reviews, "DELETE", "/", Verdict.ALLOW, null, Verdict.DENY));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("authorizations")
  void authorizes(String name, String node, String instance, String from, String method, String path,
      Verdict expected, String decidingPolicy, Verdict dryRun) {
    Decision d = sim.authorize(node, instance, new Explainer.Request(from, null, "x", 9080, method, path, Map.of()));
    assertThat(d.verdict()).as(name + ": " + d.detail()).isEqualTo(expected);
    if (decidingPolicy != null) assertThat(d.policy().toString()).contains(decidingPolicy);
    if (dryRun != null) {
      assertThat(d.dryRun()).as("dry-run outcome").isNotNull();
      assertThat(d.dryRun().verdict()).isEqualTo(dryRun);
    }
  }
}
