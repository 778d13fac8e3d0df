package dev.lattice.schemas.serde;

import dev.lattice.events.AuthorityState;
import dev.lattice.events.ConfigNack;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.ConfigStatus;
import dev.lattice.events.EdgeMetrics;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.JwtAuthority;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import dev.lattice.events.LatencySketch;
import dev.lattice.events.RegistrationEntry;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceRejected;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.Selector;
import dev.lattice.events.SvidIssued;
import dev.lattice.events.SvidKind;
import dev.lattice.events.TrustBundle;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import dev.lattice.events.X509Authority;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ClusterSubset;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RateLimitConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Condition;
import dev.lattice.events.policy.ConnectionPoolSettings;
import dev.lattice.events.policy.ConsistentHashLoadBalancer;
import dev.lattice.events.policy.CorsPolicy;
import dev.lattice.events.policy.Destination;
import dev.lattice.events.policy.DestinationPolicySpec;
import dev.lattice.events.policy.FaultAbort;
import dev.lattice.events.policy.FaultDelay;
import dev.lattice.events.policy.HeaderOperations;
import dev.lattice.events.policy.Headers;
import dev.lattice.events.policy.HttpConnectionSettings;
import dev.lattice.events.policy.HttpFaultInjection;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.HttpRetry;
import dev.lattice.events.policy.HttpRewrite;
import dev.lattice.events.policy.HttpRoute;
import dev.lattice.events.policy.HttpRouteDestination;
import dev.lattice.events.policy.L4MatchAttributes;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.MtlsMode;
import dev.lattice.events.policy.Operation;
import dev.lattice.events.policy.OutlierDetection;
import dev.lattice.events.policy.PeerAuthenticationMtls;
import dev.lattice.events.policy.PeerAuthenticationSpec;
import dev.lattice.events.policy.RateLimit;
import dev.lattice.events.policy.RateLimitMatch;
import dev.lattice.events.policy.RateLimitPolicySpec;
import dev.lattice.events.policy.RateLimitUnit;
import dev.lattice.events.policy.RouteDestination;
import dev.lattice.events.policy.RuleFrom;
import dev.lattice.events.policy.RuleTo;
import dev.lattice.events.policy.SimpleLoadBalancer;
import dev.lattice.events.policy.Source;
import dev.lattice.events.policy.StringMatch;
import dev.lattice.events.policy.Subset;
import dev.lattice.events.policy.TcpConnectionSettings;
import dev.lattice.events.policy.TcpRoute;
import dev.lattice.events.policy.TrafficPolicy;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.events.policy.WorkloadSelector;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Fully populated sample events of every type, shared by the serde tests. Not thread-safe to mutate. */
final class SampleEvents {

  static final Instant T0 = Instant.parse("2026-01-02T03:04:05.678Z");

  private SampleEvents() {}

  static WorkloadSelector selector() {
    return WorkloadSelector.newBuilder().setMatchLabels(Map.of("app", "reviews")).build();
  }

  static StringMatch prefix(String value) {
    return StringMatch.newBuilder().setPrefix(value).build();
  }

  static TrafficRouteSpec trafficRoute() {
    Destination v1 = Destination.newBuilder().setHost("reviews.default").setSubset("v1").setPort(9080).build();
    Destination v2 = Destination.newBuilder().setHost("reviews.default").setSubset("v2").build();
    HeaderOperations ops = HeaderOperations.newBuilder()
        .setSet(Map.of("x-env", "prod")).setAdd(Map.of("x-trace", "1")).setRemove(List.of("x-debug")).build();
    HttpRoute route = HttpRoute.newBuilder()
        .setName("canary")
        .setMatch(List.of(HttpMatchRequest.newBuilder()
            .setUri(prefix("/api/"))
            .setMethod(StringMatch.newBuilder().setExact("GET").build())
            .setHeaders(Map.of("x-user", StringMatch.newBuilder().setRegex("admin-.*").build(),
                "x-present", StringMatch.newBuilder().build()))
            .setQueryParams(Map.of("debug", StringMatch.newBuilder().setExact("1").build()))
            .build()))
        .setRoute(List.of(
            HttpRouteDestination.newBuilder().setDestination(v1).setWeight(90).build(),
            HttpRouteDestination.newBuilder().setDestination(v2).setWeight(10)
                .setHeaders(Headers.newBuilder().setRequest(ops).build()).build()))
        .setRewrite(HttpRewrite.newBuilder().setUri("/v2/api/").build())
        .setTimeout(1500L)
        .setRetries(HttpRetry.newBuilder().setAttempts(3).setPerTryTimeout(500L).setRetryOn("5xx,reset")
            .setBackoffBaseInterval(10L).setBackoffMaxInterval(200L).build())
        .setFault(HttpFaultInjection.newBuilder()
            .setDelay(FaultDelay.newBuilder().setFixedDelay(200L).setPercentage(5.0).build())
            .setAbort(FaultAbort.newBuilder().setHttpStatus(503).setPercentage(1.5).build())
            .build())
        .setMirror(Destination.newBuilder().setHost("reviews-shadow.default").build())
        .setMirrorPercentage(25.0)
        .setCorsPolicy(CorsPolicy.newBuilder().setAllowOrigins(List.of(prefix("https://")))
            .setAllowMethods(List.of("GET", "POST")).setMaxAge(86_400_000L).setAllowCredentials(true).build())
        .setHeaders(Headers.newBuilder().setResponse(ops).build())
        .build();
    TcpRoute tcp = TcpRoute.newBuilder()
        .setMatch(List.of(L4MatchAttributes.newBuilder().setPort(5432).setDestinationSubnets(List.of("10.0.0.0/8")).build()))
        .setRoute(List.of(RouteDestination.newBuilder()
            .setDestination(Destination.newBuilder().setHost("db.default").setPort(5432).build()).build()))
        .build();
    return TrafficRouteSpec.newBuilder().setHosts(List.of("reviews.default")).setHttp(List.of(route))
        .setTcp(List.of(tcp)).build();
  }

  static TrafficPolicy trafficPolicy() {
    return TrafficPolicy.newBuilder()
        .setLoadBalancer(LoadBalancerSettings.newBuilder().setConsistentHash(
            ConsistentHashLoadBalancer.newBuilder().setHttpHeaderName("x-user").build()).build())
        .setConnectionPool(ConnectionPoolSettings.newBuilder()
            .setTcp(TcpConnectionSettings.newBuilder().setMaxConnections(100).setConnectTimeout(250L).build())
            .setHttp(HttpConnectionSettings.newBuilder().setHttp1MaxPendingRequests(10)
                .setMaxRequestsPerConnection(1000).build())
            .build())
        .setOutlierDetection(OutlierDetection.newBuilder().setConsecutive5xxErrors(5).setConsecutiveGatewayErrors(3)
            .setInterval(10_000L).setBaseEjectionTime(30_000L).setMaxEjectionPercent(50).build())
        .setRetryBudget(dev.lattice.events.policy.RetryBudget.newBuilder().setRetryRatio(0.25).setMinRetriesPerSecond(5)
            .setTtl(5_000L).build())
        .build();
  }

  static DestinationPolicySpec destinationPolicy() {
    return DestinationPolicySpec.newBuilder()
        .setHost("reviews.default")
        .setTrafficPolicy(trafficPolicy())
        .setSubsets(List.of(
            Subset.newBuilder().setName("v1").setLabels(Map.of("version", "v1")).build(),
            Subset.newBuilder().setName("v2").setLabels(Map.of("version", "v2"))
                .setTrafficPolicy(TrafficPolicy.newBuilder().setLoadBalancer(LoadBalancerSettings.newBuilder()
                    .setSimple(SimpleLoadBalancer.LEAST_REQUEST).build()).build())
                .build()))
        .build();
  }

  static PeerAuthenticationSpec peerAuthentication() {
    PeerAuthenticationMtls strict = PeerAuthenticationMtls.newBuilder().setMode(MtlsMode.STRICT).build();
    return PeerAuthenticationSpec.newBuilder().setSelector(selector()).setMtls(strict)
        .setPortLevelMtls(Map.of("8080", PeerAuthenticationMtls.newBuilder().setMode(MtlsMode.PERMISSIVE).build()))
        .build();
  }

  static AuthorizationRule rule() {
    return AuthorizationRule.newBuilder()
        .setFrom(List.of(RuleFrom.newBuilder().setSource(Source.newBuilder()
            .setPrincipals(List.of("lattice.local/ns/default/sa/web"))
            .setNotNamespaces(List.of("untrusted"))
            .setIpBlocks(List.of("10.0.0.0/8")).build()).build()))
        .setTo(List.of(RuleTo.newBuilder().setOperation(Operation.newBuilder()
            .setMethods(List.of("GET")).setPaths(List.of("/api/*")).setNotPorts(List.of("9090")).build()).build()))
        .setWhen(List.of(Condition.newBuilder().setKey("request.headers[x-tenant]").setValues(List.of("acme")).build()))
        .build();
  }

  static AuthorizationPolicySpec authorizationPolicy() {
    return AuthorizationPolicySpec.newBuilder().setSelector(selector()).setAction(AuthorizationAction.DENY)
        .setRules(List.of(rule())).setDryRun(true).build();
  }

  static RateLimit rateLimit() {
    return RateLimit.newBuilder().setName("per-caller")
        .setMatch(RateLimitMatch.newBuilder().setRoutes(List.of("canary")).setMethods(List.of("POST"))
            .setSourcePrincipals(List.of("lattice.local/ns/default/sa/web")).build())
        .setRequestsPerUnit(100).setUnit(RateLimitUnit.MINUTE).setBurst(20L).setPerSourcePrincipal(true).build();
  }

  static RateLimitPolicySpec rateLimitPolicy() {
    return RateLimitPolicySpec.newBuilder().setSelector(selector()).setLimits(List.of(rateLimit())).build();
  }

  static ResourceEvent resourceEvent(String kind, Object spec) {
    return ResourceEvent.newBuilder()
        .setApiVersion("lattice.dev/v1").setKind(kind).setNamespace("default").setName("reviews")
        .setUid("6f1c-42").setLabels(Map.of("team", "books")).setAnnotations(Map.of("note", "canary"))
        .setResourceVersion(7).setGeneration(3).setCreationTimestamp(T0).setAuthor("alice")
        .setSource(ResourceSource.REST).setSpec(spec)
        .build();
  }

  static ResourceRejected resourceRejected() {
    return ResourceRejected.newBuilder().setKey("TrafficRoute/default/reviews")
        .setOriginal(ByteBuffer.wrap("kind: TrafficRoute\n".getBytes(java.nio.charset.StandardCharsets.UTF_8)))
        .setReason("weight: 120 (expected: 0..100)").setFieldPath("spec.http[0].route[1].weight")
        .setSource(ResourceSource.KAFKA).setSourceTopic("lattice.resources.v1").setSourcePartition(2)
        .setSourceOffset(42L).setRejectedAt(T0).build();
  }

  static WorkloadEndpoint workloadEndpoint() {
    return WorkloadEndpoint.newBuilder().setNamespace("default").setWorkload("reviews").setInstance("reviews-v1-abc")
        .setServices(List.of("reviews.default")).setAddress("10.1.2.3")
        .setPorts(List.of(WorkloadPort.newBuilder().setName("http").setPort(9080).setProtocol("HTTP").build()))
        .setLabels(Map.of("app", "reviews", "version", "v1")).setNode("node-a")
        .setSpiffeId("spiffe://lattice.local/ns/default/sa/reviews").setHealth(WorkloadHealth.HEALTHY)
        .setUpdatedAt(T0).build();
  }

  static RegistrationEntry registrationEntry() {
    return RegistrationEntry.newBuilder().setId("entry-1").setSpiffeId("spiffe://lattice.local/ns/default/sa/web")
        .setParentId("spiffe://lattice.local/lattice/node/node-a")
        .setSelectors(List.of(Selector.newBuilder().setType("unix").setValue("uid:1000").build()))
        .setX509SvidTtlSeconds(3600).setDnsNames(List.of("web.default")).setDownstream(false)
        .setCreatedAt(T0).setRevision(2).build();
  }

  static TrustBundle trustBundle() {
    return TrustBundle.newBuilder().setTrustDomain("lattice.local")
        .setX509Authorities(List.of(X509Authority.newBuilder().setDer(ByteBuffer.wrap(new byte[] {0x30, 0x03, 1, 2, 3}))
            .setNotAfter(T0.plusSeconds(86_400)).setState(AuthorityState.ACTIVE).build()))
        .setJwtAuthorities(List.of(JwtAuthority.newBuilder().setKeyId("k1")
            .setPublicKeyDer(ByteBuffer.wrap(new byte[] {0x30, 0x59, 9})).setAlgorithm("ES256")
            .setNotAfter(T0.plusSeconds(86_400)).setState(AuthorityState.PREPARED).build()))
        .setSequence(12).setRefreshHintSeconds(60).setUpdatedAt(T0).build();
  }

  static SvidIssued svidIssued() {
    return SvidIssued.newBuilder().setSpiffeId("spiffe://lattice.local/ns/default/sa/web").setEntryId("entry-1")
        .setKind(SvidKind.JWT).setSerial("jti-1").setNotBefore(T0).setNotAfter(T0.plusSeconds(300)).setIssuedAt(T0)
        .setNode("node-a").setAudiences(List.of("reviews")).build();
  }

  static RouteConfig routeConfig() {
    return RouteConfig.newBuilder().setName("outbound|9080").setVirtualHosts(List.of(VirtualHost.newBuilder()
        .setName("reviews.default").setDomains(List.of("reviews.default", "reviews.default:9080"))
        .setRoutes(List.of(RouteRule.newBuilder().setName("default/reviews/canary")
            .setClusters(List.of(WeightedCluster.newBuilder().setCluster("outbound|9080|v1|reviews.default").setWeight(100).build()))
            .setTimeout(1500L).setRetries(HttpRetry.newBuilder().setAttempts(2).build()).build()))
        .build())).build();
  }

  static List<Object> configPayloads() {
    return List.of(
        ListenerConfig.newBuilder().setName("outbound|9080|reviews.default").setPort(15001)
            .setDirection(TrafficDirection.OUTBOUND).setProtocol(ListenerProtocol.HTTP).setRouteConfig("outbound|9080")
            .build(),
        routeConfig(),
        ClusterConfig.newBuilder().setName("outbound|9080||reviews.default").setHost("reviews.default").setPort(9080)
            .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("10.1.2.3").setPort(9080).setNode("node-a")
                .setHealth(WorkloadHealth.HEALTHY).setLabels(Map.of("version", "v1")).build()))
            .setSubsets(List.of(ClusterSubset.newBuilder().setName("v1").setLabels(Map.of("version", "v1")).build()))
            .setTrafficPolicy(trafficPolicy()).build(),
        AuthorizationConfig.newBuilder().setName("inbound|9080").setPolicies(List.of(CompiledAuthorizationPolicy
            .newBuilder().setNamespace("default").setName("deny-admin").setAction(AuthorizationAction.DENY)
            .setRules(List.of(rule())).build())).build(),
        PeerAuthenticationConfig.newBuilder().setName("inbound|9080").setMode(MtlsMode.STRICT)
            .setPortModes(Map.of("15000", MtlsMode.DISABLE)).setSources(List.of("PeerAuthentication/default/strict"))
            .build(),
        RateLimitConfig.newBuilder().setName("inbound|9080").setLimits(List.of(rateLimit())).build());
  }

  static ConfigResource configResource(Object payload) {
    return ConfigResource.newBuilder().setNode("node-a").setType(ConfigType.ROUTE).setName("outbound|9080")
        .setVersion("9f86d081884c7d65").setPayload(payload).setSourceResources(List.of("TrafficRoute/default/reviews"))
        .build();
  }

  static ConfigStatus configStatus() {
    return ConfigStatus.newBuilder().setNode("node-a").setAckedVersions(Map.of("CLUSTER", "abc", "ROUTE", "def"))
        .setNack(ConfigNack.newBuilder().setType(ConfigType.ROUTE).setName("outbound|9080").setVersion("fff")
            .setError("unknown cluster outbound|9080|v3|reviews.default").setAt(T0).build())
        .setConnected(true).setUpdatedAt(T0).build();
  }

  static FlowRecord flowRecord() {
    return FlowRecord.newBuilder().setTime(Instant.parse("2026-01-02T03:04:05.678901Z")).setNode("node-a")
        .setDirection(FlowDirection.INBOUND)
        .setSource(FlowEndpoint.newBuilder().setNamespace("default").setWorkload("web")
            .setSpiffeId("spiffe://lattice.local/ns/default/sa/web").setIp("10.1.2.4").setPort(51234).build())
        .setDestination(FlowEndpoint.newBuilder().setNamespace("default").setWorkload("reviews").setIp("10.1.2.3")
            .setPort(9080).build())
        .setL4Protocol(L4Protocol.TCP)
        .setL7(L7Flow.newBuilder().setHttpMethod("GET").setPath("/api/books").setHttpStatus(403).build())
        .setVerdict(FlowVerdict.DROPPED).setDropReason("authorization-denied")
        .setPolicy("AuthorizationPolicy/default/deny-admin").setDryRunVerdict(FlowVerdict.FORWARDED)
        .setLatencyMicros(1234).setBytesIn(100).setBytesOut(20).setMtls(true).build();
  }

  static EdgeMetrics edgeMetrics() {
    return EdgeMetrics.newBuilder().setSource("default/web").setDestination("default/reviews")
        .setWindowStart(T0).setWindowEnd(T0.plusSeconds(10)).setRequests(100).setErrors(3).setErrorRatio(0.03)
        .setLatency(LatencySketch.newBuilder().setCounts(List.of(1L, 10L, 80L, 9L)).setSumMicros(99_000).setMaxMicros(900)
            .build())
        .setBytesIn(10_000).setBytesOut(80_000).build();
  }
}
