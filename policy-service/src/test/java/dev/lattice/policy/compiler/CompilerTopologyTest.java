package dev.lattice.policy.compiler;

import static dev.lattice.policy.compiler.MeshFixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.SimpleLoadBalancer;
import dev.lattice.schemas.serde.AvroSerde;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.streams.KeyValue;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The compiler topology on a TopologyTestDriver: every kind, incrementality, tombstones, conflicts. */
class CompilerTopologyTest {

  static final WorkloadEndpoint PRODUCTPAGE = MeshFixtures.workload("default", "productpage",
      "productpage-1", "productpage", "10.0.0.1", 9080, "HTTP", "node-a", Map.of("app", "productpage"));
  static final WorkloadEndpoint REVIEWS_V1 = MeshFixtures.workload("default", "reviews", "reviews-v1",
      "reviews", "10.0.0.2", 9080, "HTTP", "node-a", Map.of("app", "reviews", "version", "v1"));
  static final WorkloadEndpoint REVIEWS_V2 = MeshFixtures.workload("default", "reviews", "reviews-v2",
      "reviews", "10.0.0.3", 9080, "HTTP", "node-b", Map.of("app", "reviews", "version", "v2"));
  static final WorkloadEndpoint RATINGS = MeshFixtures.workload("default", "ratings", "ratings-1",
      "ratings", "10.0.0.4", 9080, "HTTP", "node-b", Map.of("app", "ratings"));
  static final WorkloadEndpoint DB = MeshFixtures.workload("data", "db", "db-1", "db", "10.0.1.1", 5432,
      "TCP", "node-b", Map.of("app", "db"));

  static final String REVIEWS_ROUTE = "ROUTE/outbound|9080|reviews.default";
  static final String REVIEWS_CLUSTER = "CLUSTER/outbound|9080||reviews.default";

  CompilerDriver d;

  @BeforeEach
  void setUp() {
    d = new CompilerDriver(CompilerOptions.defaults(
        e -> e.getName().startsWith("bad-") ? Optional.of("spec.hosts[0]: \"\" (expected: a host)")
            : Optional.empty()));
    for (WorkloadEndpoint w : List.of(PRODUCTPAGE, REVIEWS_V1, REVIEWS_V2, RATINGS)) d.register(w);
  }

  @AfterEach
  void tearDown() {
    d.close();
  }

  @Test
  void registryYieldsOutboundOnEveryNodeAndInboundOnTheServingNode() {
    assertThat(d.compacted.keySet()).contains(
        "node-a/LISTENER/outbound|9080|ratings.default", "node-b/LISTENER/outbound|9080|productpage.default",
        "node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_CLUSTER,
        "node-a/AUTHORIZATION/inbound|default/productpage/productpage-1",
        "node-a/PEER_AUTHENTICATION/inbound|default/reviews/reviews-v1",
        "node-b/LISTENER/inbound|9080|default/ratings/ratings-1");
    assertThat(d.compacted.keySet()).noneMatch(k -> k.startsWith("node-b/") && k.contains("productpage-1"));
    assertThat(d.compacted.keySet().stream().filter(k -> k.startsWith("node-a/"))).hasSize(9 + 10);
    assertThat(d.compacted.keySet().stream().filter(k -> k.startsWith("node-b/"))).hasSize(9 + 10);

    // inbound: the listener takes the instance's address and routes to the workload on 127.0.0.1
    ListenerConfig ratingsIn = (ListenerConfig) d.compacted.get("node-b/LISTENER/inbound|9080|default/ratings/ratings-1")
        .getPayload();
    assertThat(ratingsIn.getRouteConfig()).isEqualTo("inbound|9080|default/ratings/ratings-1");
    RouteConfig inboundRoute = (RouteConfig) d.compacted.get("node-b/ROUTE/inbound|9080|default/ratings/ratings-1")
        .getPayload();
    assertThat(inboundRoute.getVirtualHosts().get(0).getDomains()).containsExactly("*");
    assertThat(inboundRoute.getVirtualHosts().get(0).getRoutes().get(0).getClusters().get(0).getCluster())
        .isEqualTo("inbound|9080||default/ratings/ratings-1");
    ClusterConfig local = (ClusterConfig) d.compacted.get("node-b/CLUSTER/inbound|9080||default/ratings/ratings-1")
        .getPayload();
    assertThat(local.getMtls()).isFalse();
    assertThat(local.getEndpoints()).extracting(ClusterEndpoint::getAddress).containsExactly("127.0.0.1");
    assertThat(local.getEndpoints().get(0).getPort()).isEqualTo(ratingsIn.getPort());
    // the inbound endpoint names the instance's identity: the SVID the node proxy presents on that listener
    assertThat(local.getEndpoints().get(0).getSpiffeId()).isEqualTo("spiffe://lattice.local/ns/default/sa/ratings");

    ClusterConfig reviews = (ClusterConfig) d.compacted.get("node-a/" + REVIEWS_CLUSTER).getPayload();
    assertThat(reviews.getEndpoints()).extracting(ClusterEndpoint::getAddress)
        .containsExactly("10.0.0.2", "10.0.0.3");
    assertThat(reviews.getEndpoints()).extracting(ClusterEndpoint::getNode).containsExactly("node-a", "node-b");
    assertThat(reviews.getMtls()).isTrue();
    RouteConfig route = (RouteConfig) d.compacted.get("node-b/" + REVIEWS_ROUTE).getPayload();
    assertThat(route.getVirtualHosts().get(0).getDomains()).contains("reviews", "reviews.default:9080");
    assertThat(route.getVirtualHosts().get(0).getRoutes().get(0).getClusters())
        .containsExactly(new WeightedCluster("outbound|9080||reviews.default", 100, null));
    ListenerConfig inbound = (ListenerConfig) d.compacted
        .get("node-b/LISTENER/inbound|9080|default/ratings/ratings-1").getPayload();
    assertThat(inbound.getAuthorization()).isEqualTo("inbound|default/ratings/ratings-1");
    assertThat(inbound.getRateLimit()).isNull();
    PeerAuthenticationConfig pa = (PeerAuthenticationConfig) d.compacted
        .get("node-b/PEER_AUTHENTICATION/inbound|default/ratings/ratings-1").getPayload();
    assertThat(pa.getMode()).isEqualTo(MtlsMode.PERMISSIVE);
    d.compacted.values().forEach(r -> assertThat(r.getVersion()).matches("[0-9a-f]{64}"));
  }

  @Test
  void trafficRouteRecompilesOnlyTheRouteTableOfItsHost() {
    ResourceEvent split = MeshFixtures.split("default", "reviews", "reviews", "v1", 80, "v2", 20, T0);
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.apply(split));

    assertThat(out.keySet()).containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);
    RouteRule rule = ((RouteConfig) out.get("node-a/" + REVIEWS_ROUTE).getPayload())
        .getVirtualHosts().get(0).getRoutes().get(0);
    assertThat(rule.getName()).isEqualTo("default/reviews/split");
    assertThat(rule.getTimeout()).isEqualTo(2000L);
    assertThat(rule.getRetries().getAttempts()).isEqualTo(2);
    assertThat(rule.getRetries().getBackoffBaseInterval()).isEqualTo(10L);
    assertThat(rule.getRetries().getBackoffMaxInterval()).isEqualTo(100L);
    assertThat(rule.getClusters()).containsExactly(
        new WeightedCluster("outbound|9080|v1|reviews.default", 80, null),
        new WeightedCluster("outbound|9080|v2|reviews.default", 20, null));
    assertThat(out.get("node-a/" + REVIEWS_ROUTE).getSourceResources())
        .containsExactly("TrafficRoute/default/reviews");

    // same bytes again: nothing re-emitted
    assertThat(d.apply(split)).isEmpty();

    // edit: only the route tables change again; delete: back to the default route (an upsert)
    assertThat(CompilerDriver.byKey(d.apply(
        MeshFixtures.split("default", "reviews", "reviews", "v1", 50, "v2", 50, T0))).keySet())
        .containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);
    Map<String, ConfigResource> deleted = CompilerDriver.byKey(d.delete(split));
    assertThat(deleted.keySet()).containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);
    assertThat(((RouteConfig) deleted.get("node-a/" + REVIEWS_ROUTE).getPayload()).getVirtualHosts().get(0)
        .getRoutes().get(0).getName()).isEqualTo("default");
  }

  @Test
  void routeToAnotherHostFollowsThatHostsPorts() {
    ResourceEvent prefix = MeshFixtures.prefixRoute("default", "pp", "productpage", "/ratings", "ratings", T0);
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.apply(prefix));
    List<RouteRule> rules = ((RouteConfig) out.get("node-a/ROUTE/outbound|9080|productpage.default")
        .getPayload()).getVirtualHosts().get(0).getRoutes();
    assertThat(rules).extracting(RouteRule::getName).containsExactly("default/pp/by-prefix", "default/pp/rest");
    assertThat(rules.get(0).getMatch().get(0).getUri().getPrefix()).isEqualTo("/ratings");
    assertThat(rules.get(0).getClusters()).containsExactly(new WeightedCluster("outbound|9080||ratings.default", 100, null));

    // ratings moves to port 8080: productpage's route (which depends on it) is recompiled too
    WorkloadEndpoint moved = WorkloadEndpoint.newBuilder(RATINGS)
        .setPorts(List.of(dev.lattice.events.WorkloadPort.newBuilder().setPort(8080).setProtocol("HTTP").build()))
        .build();
    Map<String, ConfigResource> after = CompilerDriver.byKey(d.register(moved));
    RouteRule first = ((RouteConfig) after.get("node-a/ROUTE/outbound|9080|productpage.default").getPayload())
        .getVirtualHosts().get(0).getRoutes().get(0);
    assertThat(first.getClusters()).containsExactly(new WeightedCluster("outbound|8080||ratings.default", 100, null));
    assertThat(after).containsKey("node-a/CLUSTER/outbound|8080||ratings.default");
    assertThat(after).containsEntry("node-a/CLUSTER/outbound|9080||ratings.default", null);
  }

  @Test
  void rewriteRedirectDirectResponseAndPerDestinationHeadersAreCarriedIntoTheRouteTable() {
    dev.lattice.events.policy.Headers canaryHeaders = dev.lattice.events.policy.Headers.newBuilder()
        .setRequest(dev.lattice.events.policy.HeaderOperations.newBuilder().setSet(Map.of("x-version", "v2")).build())
        .setResponse(dev.lattice.events.policy.HeaderOperations.newBuilder().setRemove(List.of("server")).build())
        .build();
    dev.lattice.events.policy.HttpRoute forward = dev.lattice.events.policy.HttpRoute.newBuilder().setName("api")
        .setMatch(List.of(dev.lattice.events.policy.HttpMatchRequest.newBuilder()
            .setUri(dev.lattice.events.policy.StringMatch.newBuilder().setPrefix("/api").build()).build()))
        .setRoute(List.of(
            dev.lattice.events.policy.HttpRouteDestination.newBuilder().setDestination(MeshFixtures.dest("reviews", "v1"))
                .setWeight(90).build(),
            dev.lattice.events.policy.HttpRouteDestination.newBuilder().setDestination(MeshFixtures.dest("reviews", "v2"))
                .setWeight(10).setHeaders(canaryHeaders).build()))
        .setRewrite(dev.lattice.events.policy.HttpRewrite.newBuilder().setUri("/v2").setAuthority("reviews.internal").build())
        .build();
    dev.lattice.events.policy.HttpRoute moved = dev.lattice.events.policy.HttpRoute.newBuilder().setName("moved")
        .setMatch(List.of(dev.lattice.events.policy.HttpMatchRequest.newBuilder()
            .setUri(dev.lattice.events.policy.StringMatch.newBuilder().setExact("/old").build()).build()))
        .setRedirect(dev.lattice.events.policy.HttpRedirect.newBuilder().setUri("/new").setRedirectCode(308).build())
        .build();
    dev.lattice.events.policy.HttpRoute gone = dev.lattice.events.policy.HttpRoute.newBuilder().setName("gone")
        .setDirectResponse(dev.lattice.events.policy.HttpDirectResponse.newBuilder().setStatus(410).setBody("gone").build())
        .build();
    ResourceEvent tr = MeshFixtures.resource("TrafficRoute", "default", "reviews",
        dev.lattice.events.policy.TrafficRouteSpec.newBuilder().setHosts(List.of("reviews"))
            .setHttp(List.of(forward, moved, gone)).build(), T0);
    List<RouteRule> rules = ((RouteConfig) CompilerDriver.byKey(d.apply(tr)).get("node-a/" + REVIEWS_ROUTE).getPayload())
        .getVirtualHosts().get(0).getRoutes();

    assertThat(rules).extracting(RouteRule::getName).containsExactly("default/reviews/api", "default/reviews/moved", "default/reviews/gone");
    assertThat(rules.get(0).getRewrite().getUri()).isEqualTo("/v2");
    assertThat(rules.get(0).getRewrite().getAuthority()).isEqualTo("reviews.internal");
    assertThat(rules.get(0).getClusters()).containsExactly(
        new WeightedCluster("outbound|9080|v1|reviews.default", 90, null),
        new WeightedCluster("outbound|9080|v2|reviews.default", 10, canaryHeaders));
    assertThat(rules.get(1).getClusters()).isEmpty();
    assertThat(rules.get(1).getRedirect().getUri()).isEqualTo("/new");
    assertThat(rules.get(1).getRedirect().getRedirectCode()).isEqualTo(308);
    assertThat(rules.get(2).getClusters()).isEmpty();
    assertThat(rules.get(2).getDirectResponse().getStatus()).isEqualTo(410);
    assertThat(rules.get(2).getDirectResponse().getBody()).isEqualTo("gone");
  }

  @Test
  void aUriRegexRewriteIsCarriedIntoTheRouteTable() {
    dev.lattice.events.policy.RegexRewrite rx = dev.lattice.events.policy.RegexRewrite.newBuilder()
        .setMatch("^/service/([^/]+)(/.*)$").setRewrite("\\2/instance/\\1").build();
    dev.lattice.events.policy.HttpRoute route = dev.lattice.events.policy.HttpRoute.newBuilder().setName("rx")
        .setRoute(List.of(dev.lattice.events.policy.HttpRouteDestination.newBuilder()
            .setDestination(MeshFixtures.dest("reviews", "v1")).build()))
        .setRewrite(dev.lattice.events.policy.HttpRewrite.newBuilder().setUriRegexRewrite(rx).build())
        .build();
    ResourceEvent tr = MeshFixtures.resource("TrafficRoute", "default", "reviews",
        dev.lattice.events.policy.TrafficRouteSpec.newBuilder().setHosts(List.of("reviews")).setHttp(List.of(route)).build(), T0);
    RouteRule rule = ((RouteConfig) CompilerDriver.byKey(d.apply(tr)).get("node-a/" + REVIEWS_ROUTE).getPayload())
        .getVirtualHosts().get(0).getRoutes().get(0);

    assertThat(rule.getName()).isEqualTo("default/reviews/rx");
    assertThat(rule.getRewrite().getUri()).isNull();
    assertThat(rule.getRewrite().getUriRegexRewrite()).isEqualTo(rx);
    assertThat(rule.getRewrite().getUriRegexRewrite().getRewrite()).isEqualTo("\\2/instance/\\1");
  }

  @Test
  void sourceNamespaceMatchesReachTheRouteTableAndOutboundEndpointsCarryTheSpiffeIdItIsJudgedBy() {
    dev.lattice.events.policy.HttpRoute fromShop = dev.lattice.events.policy.HttpRoute.newBuilder().setName("from-shop")
        .setMatch(List.of(dev.lattice.events.policy.HttpMatchRequest.newBuilder().setSourceNamespace("shop").build()))
        .setRoute(List.of(dev.lattice.events.policy.HttpRouteDestination.newBuilder()
            .setDestination(MeshFixtures.dest("reviews", "v2")).build()))
        .build();
    dev.lattice.events.policy.HttpRoute rest = dev.lattice.events.policy.HttpRoute.newBuilder().setName("rest")
        .setRoute(List.of(dev.lattice.events.policy.HttpRouteDestination.newBuilder()
            .setDestination(MeshFixtures.dest("reviews", "v1")).build()))
        .build();
    ResourceEvent tr = MeshFixtures.resource("TrafficRoute", "default", "reviews",
        dev.lattice.events.policy.TrafficRouteSpec.newBuilder().setHosts(List.of("reviews"))
            .setHttp(List.of(fromShop, rest)).build(), T0);
    List<RouteRule> rules = ((RouteConfig) CompilerDriver.byKey(d.apply(tr)).get("node-a/" + REVIEWS_ROUTE).getPayload())
        .getVirtualHosts().get(0).getRoutes();

    assertThat(rules).extracting(RouteRule::getName).containsExactly("default/reviews/from-shop", "default/reviews/rest");
    assertThat(rules.get(0).getMatch()).singleElement()
        .satisfies(m -> assertThat(m.getSourceNamespace()).isEqualTo("shop"));
    assertThat(rules.get(1).getMatch()).isEmpty();
    // a node proxy judges a plaintext local caller by the SPIFFE ID of the endpoint at its address
    ClusterConfig productpage = (ClusterConfig) d.compacted.get("node-a/CLUSTER/outbound|9080||productpage.default").getPayload();
    assertThat(productpage.getEndpoints()).extracting(ClusterEndpoint::getSpiffeId).containsExactly(PRODUCTPAGE.getSpiffeId());
  }

  @Test
  void destinationPolicyAddsSubsetClustersAndDeleteTombstonesThem() {
    ResourceEvent dp = MeshFixtures.subsets("default", "reviews", "reviews", T0);
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.apply(dp));
    assertThat(out.keySet()).containsExactlyInAnyOrder(
        "node-a/" + REVIEWS_CLUSTER, "node-b/" + REVIEWS_CLUSTER,
        "node-a/CLUSTER/outbound|9080|v1|reviews.default", "node-b/CLUSTER/outbound|9080|v1|reviews.default",
        "node-a/CLUSTER/outbound|9080|v2|reviews.default", "node-b/CLUSTER/outbound|9080|v2|reviews.default");
    ClusterConfig v1 = (ClusterConfig) out.get("node-a/CLUSTER/outbound|9080|v1|reviews.default").getPayload();
    assertThat(v1.getEndpoints()).extracting(ClusterEndpoint::getAddress).containsExactly("10.0.0.2");
    assertThat(v1.getTrafficPolicy().getLoadBalancer().getSimple()).isEqualTo(SimpleLoadBalancer.LEAST_REQUEST);
    assertThat(v1.getTrafficPolicy().getOutlierDetection().getConsecutive5xxErrors()).isEqualTo(5);
    assertThat(v1.getTrafficPolicy().getRetryBudget().getRetryRatio()).isEqualTo(0.1); // the host's budget reaches its subsets
    ClusterConfig base = (ClusterConfig) out.get("node-b/" + REVIEWS_CLUSTER).getPayload();
    assertThat(base.getSubsets()).extracting(s -> s.getName()).containsExactly("v1", "v2");

    Map<String, ConfigResource> deleted = CompilerDriver.byKey(d.delete(dp));
    assertThat(deleted).containsEntry("node-a/CLUSTER/outbound|9080|v1|reviews.default", null)
        .containsEntry("node-b/CLUSTER/outbound|9080|v2|reviews.default", null);
    assertThat(((ClusterConfig) deleted.get("node-a/" + REVIEWS_CLUSTER).getPayload()).getSubsets()).isEmpty();
    assertThat(d.compacted.keySet()).noneMatch(k -> k.contains("|v1|") || k.contains("|v2|"));
  }

  @Test
  void authorizationPolicyRecompilesOnlyTheSelectedWorkloadsTable() {
    ResourceEvent allow = MeshFixtures.allowFrom("default", "ratings-viewer", Map.of("app", "ratings"),
        "spiffe://lattice.local/ns/default/sa/reviews", "GET", T0);
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.apply(allow));
    assertThat(out.keySet()).containsExactly("node-b/AUTHORIZATION/inbound|default/ratings/ratings-1");
    AuthorizationConfig table = (AuthorizationConfig) out.values().iterator().next().getPayload();
    assertThat(table.getPolicies()).hasSize(1);
    assertThat(table.getPolicies().get(0).getAction()).isEqualTo(AuthorizationAction.ALLOW);
    assertThat(table.getPolicies().get(0).getRules().get(0).getFrom().get(0).getSource().getPrincipals())
        .containsExactly("spiffe://lattice.local/ns/default/sa/reviews");
    assertThat(table.getPolicies().get(0).getDryRun()).isFalse();

    // a mesh-wide DENY in the root namespace reaches every instance; the dry-run annotation is carried
    ResourceEvent deny = MeshFixtures.denyPath("lattice-system", "no-admin", Map.of(), "/admin*", T0);
    deny.setAnnotations(Map.of("lattice.dev/dry-run", "true"));
    Map<String, ConfigResource> meshWide = CompilerDriver.byKey(d.apply(deny));
    assertThat(meshWide.keySet()).hasSize(4).allMatch(k -> k.contains("/AUTHORIZATION/inbound|"));
    AuthorizationConfig ratings = (AuthorizationConfig) meshWide
        .get("node-b/AUTHORIZATION/inbound|default/ratings/ratings-1").getPayload();
    assertThat(ratings.getPolicies()).extracting(p -> p.getNamespace() + "/" + p.getName() + ":" + p.getDryRun())
        .containsExactly("default/ratings-viewer:false", "lattice-system/no-admin:true");
  }

  @Test
  void peerAuthenticationInheritsMeshNamespaceWorkloadAndDrivesClusterMtls() {
    Map<String, ConfigResource> ns = CompilerDriver.byKey(
        d.apply(MeshFixtures.mtls("default", "strict", null, MtlsMode.STRICT, T0)));
    assertThat(ns.keySet()).hasSize(4).allMatch(k -> k.contains("/PEER_AUTHENTICATION/"));
    assertThat(((PeerAuthenticationConfig) ns.get("node-a/PEER_AUTHENTICATION/inbound|default/reviews/reviews-v1")
        .getPayload()).getMode()).isEqualTo(MtlsMode.STRICT);

    // a workload-level DISABLE beats the namespace; callers' clusters of that service drop mTLS
    Map<String, ConfigResource> wl = CompilerDriver.byKey(d.apply(
        MeshFixtures.mtls("default", "ratings-plain", Map.of("app", "ratings"), MtlsMode.DISABLE, T0)));
    assertThat(wl.keySet()).containsExactlyInAnyOrder(
        "node-b/PEER_AUTHENTICATION/inbound|default/ratings/ratings-1",
        "node-a/CLUSTER/outbound|9080||ratings.default", "node-b/CLUSTER/outbound|9080||ratings.default");
    PeerAuthenticationConfig pa = (PeerAuthenticationConfig) wl
        .get("node-b/PEER_AUTHENTICATION/inbound|default/ratings/ratings-1").getPayload();
    assertThat(pa.getMode()).isEqualTo(MtlsMode.DISABLE);
    assertThat(pa.getSources()).containsExactly("PeerAuthentication/default/ratings-plain",
        "PeerAuthentication/default/strict");
    assertThat(((ClusterConfig) wl.get("node-a/CLUSTER/outbound|9080||ratings.default").getPayload()).getMtls())
        .isFalse();
  }

  @Test
  void rateLimitPolicyAddsTableAndListenerReference() {
    Map<String, ConfigResource> out = CompilerDriver.byKey(
        d.apply(MeshFixtures.rateLimit("default", "reviews-rl", Map.of("app", "reviews"), 100, T0)));
    assertThat(out.keySet()).containsExactlyInAnyOrder(
        "node-a/RATE_LIMIT/inbound|default/reviews/reviews-v1",
        "node-a/LISTENER/inbound|9080|default/reviews/reviews-v1",
        "node-b/RATE_LIMIT/inbound|default/reviews/reviews-v2",
        "node-b/LISTENER/inbound|9080|default/reviews/reviews-v2");
    RateLimitConfig rl = (RateLimitConfig) out.get("node-a/RATE_LIMIT/inbound|default/reviews/reviews-v1")
        .getPayload();
    assertThat(rl.getLimits().get(0).getRequestsPerUnit()).isEqualTo(100);
    assertThat(rl.getLimits().get(0).getBurst()).isEqualTo(200);
    assertThat(rl.getResponseStatus()).isEqualTo(429);
    assertThat(((ListenerConfig) out.get("node-b/LISTENER/inbound|9080|default/reviews/reviews-v2").getPayload())
        .getRateLimit()).isEqualTo("inbound|default/reviews/reviews-v2");

    Map<String, ConfigResource> gone = CompilerDriver.byKey(
        d.delete(MeshFixtures.rateLimit("default", "reviews-rl", Map.of("app", "reviews"), 100, T0)));
    assertThat(gone).containsEntry("node-a/RATE_LIMIT/inbound|default/reviews/reviews-v1", null);
  }

  @Test
  void tcpServiceGetsTcpListenerWithClusters() {
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.register(DB));
    ListenerConfig listener = (ListenerConfig) out.get("node-a/LISTENER/outbound|5432|db.data").getPayload();
    assertThat(listener.getRouteConfig()).isNull();
    assertThat(listener.getTcpClusters()).containsExactly(new WeightedCluster("outbound|5432||db.data", 100, null));
    assertThat(out).doesNotContainKey("node-a/ROUTE/outbound|5432|db.data");
  }

  @Test
  void conflictingRoutesResolveToTheOlderAndWarnTheLoser() {
    ResourceEvent older = MeshFixtures.split("default", "reviews-a", "reviews", "v1", 90, "v2", 10, T0);
    ResourceEvent newer = MeshFixtures.split("default", "reviews-b", "reviews.default.svc.cluster.local",
        "v1", 10, "v2", 90, T0.plusSeconds(60));
    d.apply(newer);
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.apply(older));
    assertThat(out.keySet()).containsExactlyInAnyOrder("node-a/" + REVIEWS_ROUTE, "node-b/" + REVIEWS_ROUTE);
    assertThat(((RouteConfig) out.get("node-a/" + REVIEWS_ROUTE).getPayload()).getVirtualHosts().get(0)
        .getRoutes().get(0).getClusters().get(0).getWeight()).isEqualTo(90);
    assertThat(d.warnings()).containsOnlyKeys("TrafficRoute/default/reviews-b#conflict:reviews.default");
    assertThat(d.warnings().values().iterator().next())
        .contains("ignored", "TrafficRoute/default/reviews-a", "oldest resource wins");

    // the winner goes away: the newer one takes over and its warning is cleared
    Map<String, ConfigResource> after = CompilerDriver.byKey(d.delete(older));
    assertThat(((RouteConfig) after.get("node-a/" + REVIEWS_ROUTE).getPayload()).getVirtualHosts().get(0)
        .getRoutes().get(0).getClusters().get(0).getWeight()).isEqualTo(10);
    assertThat(d.warnings()).isEmpty();
  }

  @Test
  void invalidResourceIsNeverCompiledAndThePreviousVersionStays() {
    ResourceEvent good = MeshFixtures.allowFrom("default", "bad-policy", Map.of("app", "ratings"),
        "spiffe://lattice.local/ns/default/sa/x", "GET", T0);
    // named bad-*: the admission refuses it
    assertThat(d.apply(good)).isEmpty();
    assertThat(d.warnings()).containsOnlyKeys("AuthorizationPolicy/default/bad-policy#invalid");
    assertThat(d.warnings().values().iterator().next()).contains("spec.hosts[0]");
    assertThat(((AuthorizationConfig) d.compacted.get("node-b/AUTHORIZATION/inbound|default/ratings/ratings-1")
        .getPayload()).getPolicies()).isEmpty();
    // its deletion clears the warning and changes nothing compiled
    assertThat(d.delete(good)).isEmpty();
    assertThat(d.warnings()).isEmpty();
  }

  @Test
  void removingInstancesTombstonesTheirKeysAndEmptiedNodes() {
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.deregister(RATINGS));
    assertThat(out).containsEntry("node-a/CLUSTER/outbound|9080||ratings.default", null)
        .containsEntry("node-b/LISTENER/outbound|9080|ratings.default", null)
        .containsEntry("node-b/AUTHORIZATION/inbound|default/ratings/ratings-1", null);
    assertThat(out.values()).allMatch(v -> v == null);

    // node-b's last instance leaves: everything addressed to node-b is tombstoned
    CompilerDriver.byKey(d.deregister(REVIEWS_V2));
    assertThat(d.compacted.keySet()).noneMatch(k -> k.startsWith("node-b/"));
    assertThat(d.compacted.keySet()).contains("node-a/" + REVIEWS_CLUSTER);
    assertThat(((ClusterConfig) d.compacted.get("node-a/" + REVIEWS_CLUSTER).getPayload()).getEndpoints())
        .hasSize(1);
  }

  @Test
  void anInstanceOnTheHostsOwnLoopbackGetsNoInboundListenerTheProxyCouldNotBind() {
    WorkloadEndpoint local = MeshFixtures.workload("default", "details", "details-1", "details", "127.0.0.1",
        9080, "HTTP", "node-c", Map.of("app", "details"));
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.register(local));
    assertThat(out).containsKey("node-c/AUTHORIZATION/inbound|default/details/details-1");
    assertThat(out.keySet()).noneMatch(k -> k.contains("inbound|9080|"));
    assertThat(InboundCompiler.bindable("127.0.0.12")).isTrue();
    assertThat(InboundCompiler.bindable("10.0.0.7")).isTrue();
    assertThat(InboundCompiler.bindable("0.0.0.0")).isFalse();
    assertThat(InboundCompiler.bindable("::1")).isFalse();
    assertThat(InboundCompiler.bindable("")).isFalse();
  }

  @Test
  void aNodeThatAppearsGetsTheWholeOutboundSet() {
    WorkloadEndpoint onC = MeshFixtures.workload("default", "details", "details-1", "details", "10.0.0.9",
        9080, "HTTP", "node-c", Map.of("app", "details"));
    Map<String, ConfigResource> out = CompilerDriver.byKey(d.register(onC));
    assertThat(out.keySet().stream().filter(k -> k.startsWith("node-c/"))).hasSize(4 * 3 + 5);
    assertThat(out.keySet().stream().filter(k -> !k.startsWith("node-c/")))
        .containsExactlyInAnyOrder("node-a/LISTENER/outbound|9080|details.default",
            "node-a/ROUTE/outbound|9080|details.default", "node-a/CLUSTER/outbound|9080||details.default",
            "node-b/LISTENER/outbound|9080|details.default", "node-b/ROUTE/outbound|9080|details.default",
            "node-b/CLUSTER/outbound|9080||details.default");
  }

  @Test
  void sameInputGivesByteIdenticalOutputAndNoRestartReemission() {
    List<ResourceEvent> resources = List.of(
        MeshFixtures.split("default", "reviews", "reviews", "v1", 80, "v2", 20, T0),
        MeshFixtures.subsets("default", "reviews", "reviews", T0),
        MeshFixtures.allowFrom("default", "ratings", Map.of("app", "ratings"), "spiffe://lattice.local/ns/default/sa/a", "GET", T0),
        MeshFixtures.mtls("default", "strict", null, MtlsMode.STRICT, T0),
        MeshFixtures.rateLimit("default", "rl", Map.of("app", "reviews"), 5, T0));
    List<String> first = run(resources);
    List<String> second = run(resources);
    assertThat(first).isNotEmpty().isEqualTo(second);

    // a wall-clock tick runs the start-up reconcile: a consistent state emits nothing
    assertThat(d.advance(Duration.ofSeconds(1))).isEmpty();
  }

  private List<String> run(List<ResourceEvent> resources) {
    AvroSerde<ConfigResource> serde = AvroSerde.of(ConfigResource.class);
    try (CompilerDriver driver = new CompilerDriver(CompilerOptions.defaults(ResourceAdmission.ACCEPT_ALL))) {
      List<KeyValue<String, ConfigResource>> all = new java.util.ArrayList<>();
      for (WorkloadEndpoint w : List.of(PRODUCTPAGE, REVIEWS_V1, REVIEWS_V2, RATINGS)) all.addAll(driver.register(w));
      for (ResourceEvent r : resources) all.addAll(driver.apply(r));
      return all.stream().map(kv -> kv.key + "=" + (kv.value == null ? "null"
          : Arrays.toString(serde.serialize("t", kv.value)))).collect(Collectors.toList());
    }
  }

  @Test
  void garbageBytesAreSkippedAndCompilingContinues() {
    // The dead-letter record itself is checked on the real broker (CompilerIntegrationTest): the test
    // driver does not route a deserialization handler's dead-letter records to an output topic.
    d.pipeRawResource("TrafficRoute/default/garbage", new byte[] {1, 2, 3, 4});
    assertThat(d.drain()).isEmpty();
    assertThat(d.apply(MeshFixtures.split("default", "reviews", "reviews", "v1", 80, "v2", 20, T0))).hasSize(2);
  }
}
