package dev.lattice.policy.model;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.ConnectionPoolSettings;
import dev.lattice.events.policy.ConsistentHashLoadBalancer;
import dev.lattice.events.policy.CorsPolicy;
import dev.lattice.events.policy.DestinationPolicySpec;
import dev.lattice.events.policy.FaultAbort;
import dev.lattice.events.policy.FaultDelay;
import dev.lattice.events.policy.HeaderOperations;
import dev.lattice.events.policy.Headers;
import dev.lattice.events.policy.HttpDirectResponse;
import dev.lattice.events.policy.HttpRedirect;
import dev.lattice.events.policy.HttpConnectionSettings;
import dev.lattice.events.policy.HttpCookie;
import dev.lattice.events.policy.HttpFaultInjection;
import dev.lattice.events.policy.HttpMatchRequest;
import dev.lattice.events.policy.HttpRetry;
import dev.lattice.events.policy.HttpRewrite;
import dev.lattice.events.policy.HttpRoute;
import dev.lattice.events.policy.HttpRouteDestination;
import dev.lattice.events.policy.L4MatchAttributes;
import dev.lattice.events.policy.LoadBalancerSettings;
import dev.lattice.events.policy.MtlsMode;
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
import dev.lattice.events.policy.Subset;
import dev.lattice.events.policy.TcpConnectionSettings;
import dev.lattice.events.policy.TcpRoute;
import dev.lattice.events.policy.TrafficPolicy;
import dev.lattice.events.policy.TrafficRouteSpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The one place that maps between the resource model and the Avro events on
 * {@code lattice.resources.v1} ({@link ResourceEvent} with a typed {@code dev.lattice.events.policy.*Spec}).
 *
 * <p>Model → event: durations become milliseconds, Istio's {@code {value: x}} / {@code {number: n}}
 * wrappers are flattened, principals lose the {@code spiffe://} scheme, the {@code lattice.dev/dry-run}
 * annotation becomes {@code AuthorizationPolicySpec.dryRun}. Event → model is the inverse (durations come
 * back in their shortest form, e.g. {@code 1500ms}). Map only valid resources to events: the mapper does
 * not validate. Stateless and thread-safe.
 */
public final class ResourceEventMapper {

  /** Who made a change, and how: the event fields the resource model does not carry. */
  public record Provenance(long generation, String author, ResourceSource source, Instant at) {
    public Provenance {
      author = author == null ? "unknown" : author;
      source = source == null ? ResourceSource.KAFKA : source;
      at = at == null ? Instant.EPOCH : at;
    }
  }

  private ResourceEventMapper() {}

  // ---------------------------------------------------------------- model → event

  /**
   * The event for {@code r}. Server-assigned metadata missing on {@code r} is filled in: resourceVersion
   * 1, uid = the resource key, creationTimestamp = {@code provenance.at()}.
   */
  public static ResourceEvent toEvent(Resource r, Provenance provenance) {
    ObjectMeta m = r.metadata();
    Instant created = m.creationTimestamp() == null ? provenance.at() : Instant.parse(m.creationTimestamp());
    return ResourceEvent.newBuilder()
        .setApiVersion(Resource.API_VERSION)
        .setKind(r.kind().kindName())
        .setNamespace(m.namespaceOrDefault())
        .setName(m.name())
        .setUid(m.uid() == null ? r.key().asString() : m.uid())
        .setLabels(new LinkedHashMap<>(m.labels()))
        .setAnnotations(new LinkedHashMap<>(m.annotations()))
        .setResourceVersion(m.resourceVersionNumber().orElse(1L))
        .setGeneration(provenance.generation())
        .setCreationTimestamp(created.truncatedTo(java.time.temporal.ChronoUnit.MILLIS))
        .setAuthor(provenance.author())
        .setSource(provenance.source())
        .setSpec(toSpec(r))
        .build();
  }

  /** The Avro spec record of {@code r} ({@code TrafficRouteSpec}, {@code AuthorizationPolicySpec}, …). */
  public static Object toSpec(Resource r) {
    if (r instanceof TrafficRoute tr) return trafficRoute(tr.spec());
    if (r instanceof DestinationPolicy dp) return destinationPolicy(dp.spec());
    if (r instanceof PeerAuthentication pa) return peerAuthentication(pa.spec());
    if (r instanceof AuthorizationPolicy ap) return authorizationPolicy(ap);
    return rateLimitPolicy(((RateLimitPolicy) r).spec());
  }

  private static TrafficRouteSpec trafficRoute(TrafficRoute.Spec s) {
    return TrafficRouteSpec.newBuilder()
        .setHosts(strings(s.hosts()))
        .setHttp(map(s.http(), ResourceEventMapper::httpRoute))
        .setTcp(map(s.tcp(), ResourceEventMapper::tcpRoute))
        .setExportTo(strings(s.exportTo()))
        .build();
  }

  private static HttpRoute httpRoute(TrafficRoute.HttpRoute h) {
    return HttpRoute.newBuilder()
        .setName(h.name())
        .setMatch(map(h.match(), ResourceEventMapper::match))
        .setRoute(map(h.route(), d -> HttpRouteDestination.newBuilder()
            .setDestination(destination(d.destination())).setWeight(d.weight()).setHeaders(headers(d.headers())).build()))
        .setRewrite(h.rewrite() == null ? null
            : HttpRewrite.newBuilder().setUri(h.rewrite().uri()).setAuthority(h.rewrite().authority())
                .setUriRegexRewrite(h.rewrite().uriRegexRewrite() == null ? null : dev.lattice.events.policy.RegexRewrite.newBuilder()
                    .setMatch(h.rewrite().uriRegexRewrite().match()).setRewrite(h.rewrite().uriRegexRewrite().rewrite()).build())
                .build())
        .setTimeout(DurationText.toMillis(h.timeout()))
        .setRetries(h.retries() == null ? null : HttpRetry.newBuilder()
            .setAttempts(nz(h.retries().attempts()))
            .setPerTryTimeout(DurationText.toMillis(h.retries().perTryTimeout()))
            .setRetryOn(h.retries().retryOn())
            .setRetryRemoteLocalities(Boolean.TRUE.equals(h.retries().retryRemoteLocalities()))
            .setBackoffBaseInterval(DurationText.toMillis(h.retries().backoffBaseInterval()))
            .setBackoffMaxInterval(DurationText.toMillis(h.retries().backoffMaxInterval()))
            .build())
        .setFault(fault(h.fault()))
        .setMirror(h.mirror() == null ? null : destination(h.mirror()))
        .setMirrorPercentage(percent(h.mirrorPercentage()))
        .setCorsPolicy(cors(h.corsPolicy()))
        .setHeaders(headers(h.headers()))
        .setRedirect(h.redirect() == null ? null : HttpRedirect.newBuilder()
            .setUri(h.redirect().uri()).setAuthority(h.redirect().authority()).setPort(h.redirect().port())
            .setScheme(h.redirect().scheme()).setRedirectCode(h.redirect().redirectCode()).build())
        .setDirectResponse(h.directResponse() == null ? null : HttpDirectResponse.newBuilder()
            .setStatus(nz(h.directResponse().status()))
            .setBody(h.directResponse().body() == null ? null : h.directResponse().body().string()).build())
        .build();
  }

  private static HttpMatchRequest match(TrafficRoute.HttpMatchRequest m) {
    return HttpMatchRequest.newBuilder()
        .setName(m.name())
        .setUri(sm(m.uri()))
        .setScheme(sm(m.scheme()))
        .setMethod(sm(m.method()))
        .setAuthority(sm(m.authority()))
        .setHeaders(smMap(m.headers()))
        .setWithoutHeaders(smMap(m.withoutHeaders()))
        .setQueryParams(smMap(m.queryParams()))
        .setPort(m.port())
        .setSourceLabels(new LinkedHashMap<>(m.sourceLabels()))
        .setSourceNamespace(m.sourceNamespace())
        .setIgnoreUriCase(Boolean.TRUE.equals(m.ignoreUriCase()))
        .build();
  }

  private static HttpFaultInjection fault(TrafficRoute.HttpFaultInjection f) {
    if (f == null) return null;
    return HttpFaultInjection.newBuilder()
        .setDelay(f.delay() == null ? null : FaultDelay.newBuilder()
            .setFixedDelay(nzl(DurationText.toMillis(f.delay().fixedDelay())))
            .setPercentage(percent(f.delay().percentage())).build())
        .setAbort(f.abort() == null ? null : FaultAbort.newBuilder()
            .setHttpStatus(f.abort().httpStatus()).setGrpcStatus(f.abort().grpcStatus())
            .setPercentage(percent(f.abort().percentage())).build())
        .build();
  }

  private static CorsPolicy cors(TrafficRoute.CorsPolicy c) {
    if (c == null) return null;
    return CorsPolicy.newBuilder()
        .setAllowOrigins(map(c.allowOrigins(), ResourceEventMapper::sm))
        .setAllowMethods(strings(c.allowMethods()))
        .setAllowHeaders(strings(c.allowHeaders()))
        .setExposeHeaders(strings(c.exposeHeaders()))
        .setMaxAge(DurationText.toMillis(c.maxAge()))
        .setAllowCredentials(c.allowCredentials())
        .build();
  }

  private static Headers headers(TrafficRoute.Headers h) {
    if (h == null) return null;
    return Headers.newBuilder().setRequest(ops(h.request())).setResponse(ops(h.response())).build();
  }

  private static HeaderOperations ops(TrafficRoute.HeaderOperations o) {
    if (o == null) return null;
    return HeaderOperations.newBuilder()
        .setSet(new LinkedHashMap<>(o.set())).setAdd(new LinkedHashMap<>(o.add())).setRemove(strings(o.remove())).build();
  }

  private static TcpRoute tcpRoute(TrafficRoute.TcpRoute t) {
    return TcpRoute.newBuilder()
        .setMatch(map(t.match(), m -> L4MatchAttributes.newBuilder()
            .setDestinationSubnets(strings(m.destinationSubnets()))
            .setPort(m.port())
            .setSourceLabels(new LinkedHashMap<>(m.sourceLabels()))
            .setSourceNamespace(m.sourceNamespace())
            .build()))
        .setRoute(map(t.route(), d -> RouteDestination.newBuilder()
            .setDestination(destination(d.destination())).setWeight(d.weight()).build()))
        .build();
  }

  private static dev.lattice.events.policy.Destination destination(Destination d) {
    return dev.lattice.events.policy.Destination.newBuilder()
        .setHost(d == null || d.host() == null ? "" : d.host())
        .setSubset(d == null ? null : d.subset())
        .setPort(d == null ? null : d.portNumber())
        .build();
  }

  private static DestinationPolicySpec destinationPolicy(DestinationPolicy.Spec s) {
    return DestinationPolicySpec.newBuilder()
        .setHost(s.host() == null ? "" : s.host())
        .setTrafficPolicy(trafficPolicy(s.trafficPolicy()))
        .setSubsets(map(s.subsets(), sub -> Subset.newBuilder()
            .setName(sub.name() == null ? "" : sub.name())
            .setLabels(new LinkedHashMap<>(sub.labels()))
            .setTrafficPolicy(trafficPolicy(sub.trafficPolicy()))
            .build()))
        .setExportTo(strings(s.exportTo()))
        .build();
  }

  private static TrafficPolicy trafficPolicy(DestinationPolicy.TrafficPolicy tp) {
    if (tp == null) return null;
    LoadBalancerSettings lb = null;
    if (tp.loadBalancer() != null) {
      DestinationPolicy.ConsistentHashLb ch = tp.loadBalancer().consistentHash();
      lb = LoadBalancerSettings.newBuilder()
          .setSimple(tp.loadBalancer().simple() == null ? null : SimpleLoadBalancer.valueOf(tp.loadBalancer().simple().name()))
          .setConsistentHash(ch == null ? null : ConsistentHashLoadBalancer.newBuilder()
              .setHttpHeaderName(ch.httpHeaderName())
              .setHttpCookie(ch.httpCookie() == null ? null : HttpCookie.newBuilder()
                  .setName(ch.httpCookie().name() == null ? "" : ch.httpCookie().name())
                  .setPath(ch.httpCookie().path())
                  .setTtl(DurationText.toMillis(ch.httpCookie().ttl()))
                  .build())
              .setUseSourceIp(Boolean.TRUE.equals(ch.useSourceIp()))
              .setHttpQueryParameterName(ch.httpQueryParameterName())
              .setMinimumRingSize(ch.minimumRingSize())
              .build())
          .build();
    }
    ConnectionPoolSettings cp = null;
    if (tp.connectionPool() != null) {
      DestinationPolicy.TcpSettings t = tp.connectionPool().tcp();
      DestinationPolicy.HttpSettings h = tp.connectionPool().http();
      cp = ConnectionPoolSettings.newBuilder()
          .setTcp(t == null ? null : TcpConnectionSettings.newBuilder()
              .setMaxConnections(t.maxConnections()).setConnectTimeout(DurationText.toMillis(t.connectTimeout())).build())
          .setHttp(h == null ? null : HttpConnectionSettings.newBuilder()
              .setHttp1MaxPendingRequests(h.http1MaxPendingRequests())
              .setHttp2MaxRequests(h.http2MaxRequests())
              .setMaxRequestsPerConnection(h.maxRequestsPerConnection())
              .setMaxRetries(h.maxRetries())
              .setIdleTimeout(DurationText.toMillis(h.idleTimeout()))
              .build())
          .build();
    }
    OutlierDetection od = null;
    if (tp.outlierDetection() != null) {
      DestinationPolicy.OutlierDetection o = tp.outlierDetection();
      od = OutlierDetection.newBuilder()
          .setConsecutive5xxErrors(o.consecutive5xxErrors())
          .setConsecutiveGatewayErrors(o.consecutiveGatewayErrors())
          .setInterval(DurationText.toMillis(o.interval()))
          .setBaseEjectionTime(DurationText.toMillis(o.baseEjectionTime()))
          .setMaxEjectionPercent(o.maxEjectionPercent())
          .setMinHealthPercent(o.minHealthPercent())
          .setSplitExternalLocalOriginErrors(o.splitExternalLocalOriginErrors())
          .setConsecutiveLocalOriginFailures(o.consecutiveLocalOriginFailures())
          .build();
    }
    dev.lattice.events.policy.RetryBudget rb = null;
    if (tp.retryBudget() != null) {
      DestinationPolicy.RetryBudget b = tp.retryBudget();
      dev.lattice.events.policy.RetryBudget.Builder bb = dev.lattice.events.policy.RetryBudget.newBuilder();
      if (b.retryRatio() != null) bb.setRetryRatio(b.retryRatio());
      if (b.minRetriesPerSecond() != null) bb.setMinRetriesPerSecond(b.minRetriesPerSecond());
      if (b.ttl() != null) bb.setTtl(DurationText.toMillis(b.ttl()));
      rb = bb.build();
    }
    return TrafficPolicy.newBuilder().setLoadBalancer(lb).setConnectionPool(cp).setOutlierDetection(od).setRetryBudget(rb).build();
  }

  private static PeerAuthenticationSpec peerAuthentication(PeerAuthentication.Spec s) {
    Map<String, PeerAuthenticationMtls> ports = new LinkedHashMap<>();
    s.portLevelMtls().forEach((k, v) -> ports.put(k, mtls(v)));
    return PeerAuthenticationSpec.newBuilder()
        .setSelector(selector(s.selector()))
        .setMtls(s.mtls() == null ? null : mtls(s.mtls()))
        .setPortLevelMtls(ports)
        .build();
  }

  private static PeerAuthenticationMtls mtls(PeerAuthentication.MutualTls m) {
    return PeerAuthenticationMtls.newBuilder()
        .setMode(m == null || m.mode() == null ? MtlsMode.UNSET : MtlsMode.valueOf(m.mode().name()))
        .build();
  }

  private static AuthorizationPolicySpec authorizationPolicy(AuthorizationPolicy ap) {
    AuthorizationPolicy.Spec s = ap.spec();
    if (ap.action() == AuthorizationPolicy.Action.CUSTOM) {
      throw new IllegalArgumentException("spec.action: CUSTOM is not supported (expected one of: ALLOW, DENY, AUDIT)");
    }
    return AuthorizationPolicySpec.newBuilder()
        .setSelector(selector(s.selector()))
        .setAction(AuthorizationAction.valueOf(ap.action().name()))
        .setRules(map(s.rules(), rule -> AuthorizationRule.newBuilder()
            .setFrom(map(rule.from(), f -> RuleFrom.newBuilder().setSource(source(f.source())).build()))
            .setTo(map(rule.to(), t -> RuleTo.newBuilder().setOperation(operation(t.operation())).build()))
            .setWhen(map(rule.when(), c -> {
              boolean principal = "source.principal".equals(c.key());
              return dev.lattice.events.policy.Condition.newBuilder()
                  .setKey(c.key() == null ? "" : c.key())
                  .setValues(principal ? principals(c.values()) : strings(c.values()))
                  .setNotValues(principal ? principals(c.notValues()) : strings(c.notValues()))
                  .build();
            }))
            .build()))
        .setDryRun(ap.dryRun())
        .build();
  }

  private static dev.lattice.events.policy.Source source(AuthorizationPolicy.Source s) {
    if (s == null) s = new AuthorizationPolicy.Source(null, null, null, null, null, null, null, null, null, null, null, null);
    return dev.lattice.events.policy.Source.newBuilder()
        .setPrincipals(principals(s.principals()))
        .setNotPrincipals(principals(s.notPrincipals()))
        .setNamespaces(strings(s.namespaces()))
        .setNotNamespaces(strings(s.notNamespaces()))
        .setIpBlocks(strings(s.ipBlocks()))
        .setNotIpBlocks(strings(s.notIpBlocks()))
        .setRequestPrincipals(strings(s.requestPrincipals()))
        .setNotRequestPrincipals(strings(s.notRequestPrincipals()))
        .setRemoteIpBlocks(strings(s.remoteIpBlocks()))
        .setNotRemoteIpBlocks(strings(s.notRemoteIpBlocks()))
        .setServiceAccounts(strings(s.serviceAccounts()))
        .setNotServiceAccounts(strings(s.notServiceAccounts()))
        .build();
  }

  private static dev.lattice.events.policy.Operation operation(AuthorizationPolicy.Operation o) {
    if (o == null) o = new AuthorizationPolicy.Operation(null, null, null, null, null, null, null, null);
    return dev.lattice.events.policy.Operation.newBuilder()
        .setHosts(strings(o.hosts())).setNotHosts(strings(o.notHosts()))
        .setPorts(strings(o.ports())).setNotPorts(strings(o.notPorts()))
        .setMethods(strings(o.methods())).setNotMethods(strings(o.notMethods()))
        .setPaths(strings(o.paths())).setNotPaths(strings(o.notPaths()))
        .build();
  }

  private static RateLimitPolicySpec rateLimitPolicy(RateLimitPolicy.Spec s) {
    return RateLimitPolicySpec.newBuilder()
        .setSelector(selector(s.selector()))
        .setLimits(map(s.limits(), l -> RateLimit.newBuilder()
            .setName(l.name())
            .setMatch(l.match() == null ? null : RateLimitMatch.newBuilder()
                .setRoutes(strings(l.match().routes()))
                .setUri(sm(l.match().uri()))
                .setMethods(strings(l.match().methods()))
                .setSourcePrincipals(principals(l.match().sourcePrincipals()))
                .build())
            .setRequestsPerUnit(nzl(l.requestsPerUnit()))
            .setUnit(l.unit() == null ? RateLimitUnit.SECOND : RateLimitUnit.valueOf(l.unit().name()))
            .setBurst(l.burst())
            .setPerSourcePrincipal(Boolean.TRUE.equals(l.perSourcePrincipal()))
            .setScope(l.scope() == null ? null : dev.lattice.events.policy.RateLimitScope.valueOf(l.scope().name()))
            .setPerHeader(l.perHeader())
            .build()))
        .setResponseStatus(s.responseStatusOrDefault())
        .build();
  }

  private static dev.lattice.events.policy.WorkloadSelector selector(WorkloadSelector s) {
    return s == null ? null
        : dev.lattice.events.policy.WorkloadSelector.newBuilder().setMatchLabels(new LinkedHashMap<>(s.matchLabels())).build();
  }

  private static dev.lattice.events.policy.StringMatch sm(StringMatch m) {
    if (m == null) return null;
    return dev.lattice.events.policy.StringMatch.newBuilder().setExact(m.exact()).setPrefix(m.prefix()).setRegex(m.regex()).build();
  }

  private static Map<String, dev.lattice.events.policy.StringMatch> smMap(Map<String, StringMatch> in) {
    Map<String, dev.lattice.events.policy.StringMatch> out = new LinkedHashMap<>();
    in.forEach((k, v) -> out.put(k, sm(v == null ? new StringMatch(null, null, null) : v)));
    return out;
  }

  private static List<String> principals(List<String> in) {
    List<String> out = new ArrayList<>(in.size());
    for (String p : in) out.add(p == null ? "" : SpiffePrincipal.normalize(p));
    return out;
  }

  // ---------------------------------------------------------------- event → model

  /**
   * The resource carried by {@code e}.
   *
   * @throws IllegalArgumentException when the event is inconsistent (unknown kind, spec branch not
   *     matching kind), with a message naming what was seen and expected
   */
  public static Resource toResource(ResourceEvent e) {
    ResourceKind kind = ResourceKind.fromKindName(e.getKind()).orElseThrow(() -> new IllegalArgumentException(
        "kind: \"" + e.getKind() + "\" (expected one of: " + ResourceKind.names() + ")"));
    ObjectMeta meta = new ObjectMeta(e.getName(), e.getNamespace(), e.getLabels(), e.getAnnotations(),
        Long.toString(e.getResourceVersion()),
        e.getCreationTimestamp() == null ? null : e.getCreationTimestamp().toString(), e.getUid());
    Object spec = e.getSpec();
    Class<?> expected = switch (kind) {
      case TRAFFIC_ROUTE -> TrafficRouteSpec.class;
      case DESTINATION_POLICY -> DestinationPolicySpec.class;
      case PEER_AUTHENTICATION -> PeerAuthenticationSpec.class;
      case AUTHORIZATION_POLICY -> AuthorizationPolicySpec.class;
      case RATE_LIMIT_POLICY -> RateLimitPolicySpec.class;
    };
    if (!expected.isInstance(spec)) {
      throw new IllegalArgumentException("spec: " + (spec == null ? "null" : spec.getClass().getSimpleName())
          + " (expected: " + expected.getSimpleName() + " for kind " + kind.kindName() + ")");
    }
    return switch (kind) {
      case TRAFFIC_ROUTE -> new TrafficRoute(meta, fromTrafficRoute((TrafficRouteSpec) spec));
      case DESTINATION_POLICY -> new DestinationPolicy(meta, fromDestinationPolicy((DestinationPolicySpec) spec));
      case PEER_AUTHENTICATION -> new PeerAuthentication(meta, fromPeerAuthentication((PeerAuthenticationSpec) spec));
      case AUTHORIZATION_POLICY -> new AuthorizationPolicy(meta, fromAuthorizationPolicy((AuthorizationPolicySpec) spec));
      case RATE_LIMIT_POLICY -> new RateLimitPolicy(meta, fromRateLimitPolicy((RateLimitPolicySpec) spec));
    };
  }

  private static TrafficRoute.Spec fromTrafficRoute(TrafficRouteSpec s) {
    return new TrafficRoute.Spec(s.getHosts(), map(s.getHttp(), ResourceEventMapper::fromHttpRoute),
        map(s.getTcp(), t -> new TrafficRoute.TcpRoute(
            map(t.getMatch(), m -> new TrafficRoute.L4MatchAttributes(m.getDestinationSubnets(), m.getPort(), m.getSourceLabels(), m.getSourceNamespace())),
            map(t.getRoute(), d -> new TrafficRoute.RouteDestination(fromDestination(d.getDestination()), d.getWeight())))),
        s.getExportTo());
  }

  private static TrafficRoute.HttpRoute fromHttpRoute(HttpRoute h) {
    HttpRetry r = h.getRetries();
    HttpFaultInjection f = h.getFault();
    CorsPolicy c = h.getCorsPolicy();
    return new TrafficRoute.HttpRoute(h.getName(),
        map(h.getMatch(), m -> new TrafficRoute.HttpMatchRequest(m.getName(), fromSm(m.getUri()), fromSm(m.getScheme()),
            fromSm(m.getMethod()), fromSm(m.getAuthority()), fromSmMap(m.getHeaders()), fromSmMap(m.getWithoutHeaders()),
            fromSmMap(m.getQueryParams()), m.getPort(), m.getSourceLabels(), m.getSourceNamespace(),
            Boolean.TRUE.equals(m.getIgnoreUriCase()) ? Boolean.TRUE : null)),
        map(h.getRoute(), d -> new TrafficRoute.HttpRouteDestination(fromDestination(d.getDestination()), d.getWeight(), fromHeaders(d.getHeaders()))),
        h.getRewrite() == null ? null : new TrafficRoute.HttpRewrite(h.getRewrite().getUri(), h.getRewrite().getAuthority(),
            h.getRewrite().getUriRegexRewrite() == null ? null : new TrafficRoute.RegexRewrite(
                h.getRewrite().getUriRegexRewrite().getMatch(), h.getRewrite().getUriRegexRewrite().getRewrite())),
        DurationText.ofMillis(h.getTimeout()),
        r == null ? null : new TrafficRoute.HttpRetry(r.getAttempts(), DurationText.ofMillis(r.getPerTryTimeout()), r.getRetryOn(),
            Boolean.TRUE.equals(r.getRetryRemoteLocalities()) ? Boolean.TRUE : null,
            DurationText.ofMillis(r.getBackoffBaseInterval()), DurationText.ofMillis(r.getBackoffMaxInterval())),
        f == null ? null : new TrafficRoute.HttpFaultInjection(
            f.getDelay() == null ? null : new TrafficRoute.HttpFaultInjection.Delay(DurationText.ofMillis(f.getDelay().getFixedDelay()), fromPercent(f.getDelay().getPercentage())),
            f.getAbort() == null ? null : new TrafficRoute.HttpFaultInjection.Abort(f.getAbort().getHttpStatus(), f.getAbort().getGrpcStatus(), fromPercent(f.getAbort().getPercentage()))),
        h.getMirror() == null ? null : fromDestination(h.getMirror()),
        fromPercent(h.getMirrorPercentage()),
        c == null ? null : new TrafficRoute.CorsPolicy(map(c.getAllowOrigins(), ResourceEventMapper::fromSm), c.getAllowMethods(),
            c.getAllowHeaders(), c.getExposeHeaders(), DurationText.ofMillis(c.getMaxAge()), c.getAllowCredentials()),
        fromHeaders(h.getHeaders()),
        h.getRedirect() == null ? null : new TrafficRoute.HttpRedirect(h.getRedirect().getUri(), h.getRedirect().getAuthority(),
            h.getRedirect().getPort(), h.getRedirect().getScheme(), h.getRedirect().getRedirectCode()),
        h.getDirectResponse() == null ? null : new TrafficRoute.HttpDirectResponse(h.getDirectResponse().getStatus(),
            h.getDirectResponse().getBody() == null ? null : new TrafficRoute.HttpDirectResponse.HttpBody(h.getDirectResponse().getBody())));
  }

  private static TrafficRoute.Headers fromHeaders(Headers h) {
    if (h == null) return null;
    return new TrafficRoute.Headers(fromOps(h.getRequest()), fromOps(h.getResponse()));
  }

  private static TrafficRoute.HeaderOperations fromOps(HeaderOperations o) {
    return o == null ? null : new TrafficRoute.HeaderOperations(o.getSet(), o.getAdd(), o.getRemove());
  }

  private static Destination fromDestination(dev.lattice.events.policy.Destination d) {
    return new Destination(d.getHost(), d.getSubset(), d.getPort() == null ? null : new Destination.PortSelector(d.getPort()));
  }

  private static DestinationPolicy.Spec fromDestinationPolicy(DestinationPolicySpec s) {
    return new DestinationPolicy.Spec(s.getHost(), fromTrafficPolicy(s.getTrafficPolicy()),
        map(s.getSubsets(), sub -> new DestinationPolicy.Subset(sub.getName(), sub.getLabels(), fromTrafficPolicy(sub.getTrafficPolicy()))),
        s.getExportTo());
  }

  private static DestinationPolicy.TrafficPolicy fromTrafficPolicy(TrafficPolicy tp) {
    if (tp == null) return null;
    DestinationPolicy.LoadBalancerSettings lb = null;
    if (tp.getLoadBalancer() != null) {
      ConsistentHashLoadBalancer ch = tp.getLoadBalancer().getConsistentHash();
      SimpleLoadBalancer simple = tp.getLoadBalancer().getSimple();
      lb = new DestinationPolicy.LoadBalancerSettings(simple == null ? null : DestinationPolicy.SimpleLb.valueOf(simple.name()),
          ch == null ? null : new DestinationPolicy.ConsistentHashLb(ch.getHttpHeaderName(),
              ch.getHttpCookie() == null ? null : new DestinationPolicy.HttpCookie(ch.getHttpCookie().getName(), ch.getHttpCookie().getPath(),
                  DurationText.ofMillis(ch.getHttpCookie().getTtl())),
              Boolean.TRUE.equals(ch.getUseSourceIp()) ? Boolean.TRUE : null, ch.getHttpQueryParameterName(), ch.getMinimumRingSize()));
    }
    DestinationPolicy.ConnectionPoolSettings cp = null;
    if (tp.getConnectionPool() != null) {
      TcpConnectionSettings t = tp.getConnectionPool().getTcp();
      HttpConnectionSettings h = tp.getConnectionPool().getHttp();
      cp = new DestinationPolicy.ConnectionPoolSettings(
          t == null ? null : new DestinationPolicy.TcpSettings(t.getMaxConnections(), DurationText.ofMillis(t.getConnectTimeout())),
          h == null ? null : new DestinationPolicy.HttpSettings(h.getHttp1MaxPendingRequests(), h.getHttp2MaxRequests(),
              h.getMaxRequestsPerConnection(), h.getMaxRetries(), DurationText.ofMillis(h.getIdleTimeout())));
    }
    DestinationPolicy.OutlierDetection od = null;
    if (tp.getOutlierDetection() != null) {
      OutlierDetection o = tp.getOutlierDetection();
      od = new DestinationPolicy.OutlierDetection(o.getConsecutive5xxErrors(), o.getConsecutiveGatewayErrors(),
          DurationText.ofMillis(o.getInterval()), DurationText.ofMillis(o.getBaseEjectionTime()), o.getMaxEjectionPercent(), o.getMinHealthPercent(),
          o.getSplitExternalLocalOriginErrors(), o.getConsecutiveLocalOriginFailures());
    }
    dev.lattice.events.policy.RetryBudget b = tp.getRetryBudget();
    DestinationPolicy.RetryBudget rb = b == null ? null
        : new DestinationPolicy.RetryBudget(b.getRetryRatio(), b.getMinRetriesPerSecond(), DurationText.ofMillis(b.getTtl()));
    return new DestinationPolicy.TrafficPolicy(lb, cp, od, rb);
  }

  private static PeerAuthentication.Spec fromPeerAuthentication(PeerAuthenticationSpec s) {
    Map<String, PeerAuthentication.MutualTls> ports = new LinkedHashMap<>();
    s.getPortLevelMtls().forEach((k, v) -> ports.put(k, fromMtls(v)));
    return new PeerAuthentication.Spec(fromSelector(s.getSelector()), s.getMtls() == null ? null : fromMtls(s.getMtls()), ports);
  }

  private static PeerAuthentication.MutualTls fromMtls(PeerAuthenticationMtls m) {
    return new PeerAuthentication.MutualTls(PeerAuthentication.Mode.valueOf(m.getMode().name()));
  }

  private static AuthorizationPolicy.Spec fromAuthorizationPolicy(AuthorizationPolicySpec s) {
    return new AuthorizationPolicy.Spec(fromSelector(s.getSelector()), AuthorizationPolicy.Action.valueOf(s.getAction().name()),
        map(s.getRules(), rule -> new AuthorizationPolicy.Rule(
            map(rule.getFrom(), f -> new AuthorizationPolicy.From(new AuthorizationPolicy.Source(
                f.getSource().getPrincipals(), f.getSource().getNotPrincipals(),
                f.getSource().getRequestPrincipals(), f.getSource().getNotRequestPrincipals(),
                f.getSource().getNamespaces(), f.getSource().getNotNamespaces(),
                f.getSource().getIpBlocks(), f.getSource().getNotIpBlocks(),
                f.getSource().getRemoteIpBlocks(), f.getSource().getNotRemoteIpBlocks(),
                f.getSource().getServiceAccounts(), f.getSource().getNotServiceAccounts()))),
            map(rule.getTo(), t -> new AuthorizationPolicy.To(new AuthorizationPolicy.Operation(
                t.getOperation().getHosts(), t.getOperation().getNotHosts(), t.getOperation().getPorts(), t.getOperation().getNotPorts(),
                t.getOperation().getMethods(), t.getOperation().getNotMethods(), t.getOperation().getPaths(), t.getOperation().getNotPaths()))),
            map(rule.getWhen(), c -> new AuthorizationPolicy.Condition(c.getKey(), c.getValues(), c.getNotValues())))),
        null);
  }

  private static RateLimitPolicy.Spec fromRateLimitPolicy(RateLimitPolicySpec s) {
    return new RateLimitPolicy.Spec(fromSelector(s.getSelector()),
        map(s.getLimits(), l -> new RateLimitPolicy.Limit(l.getName(),
            l.getMatch() == null ? null : new RateLimitPolicy.LimitMatch(l.getMatch().getRoutes(), fromSm(l.getMatch().getUri()),
                l.getMatch().getMethods(), l.getMatch().getSourcePrincipals()),
            l.getRequestsPerUnit(), RateLimitPolicy.Unit.valueOf(l.getUnit().name()), l.getBurst(),
            Boolean.TRUE.equals(l.getPerSourcePrincipal()) ? Boolean.TRUE : null,
            l.getScope() == null ? null : RateLimitPolicy.Scope.valueOf(l.getScope().name()), l.getPerHeader())),
        s.getResponseStatus() == 429 ? null : Integer.valueOf(s.getResponseStatus()));
  }

  private static WorkloadSelector fromSelector(dev.lattice.events.policy.WorkloadSelector s) {
    return s == null ? null : new WorkloadSelector(s.getMatchLabels());
  }

  private static StringMatch fromSm(dev.lattice.events.policy.StringMatch m) {
    return m == null ? null : new StringMatch(m.getExact(), m.getPrefix(), m.getRegex());
  }

  private static Map<String, StringMatch> fromSmMap(Map<String, dev.lattice.events.policy.StringMatch> in) {
    Map<String, StringMatch> out = new LinkedHashMap<>();
    in.forEach((k, v) -> out.put(k, fromSm(v)));
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private static <A, B> List<B> map(List<A> in, Function<A, B> f) {
    List<B> out = new ArrayList<>(in == null ? 0 : in.size());
    if (in != null) {
      for (A a : in) {
        if (a != null) out.add(f.apply(a));
      }
    }
    return out;
  }

  private static List<String> strings(List<String> in) {
    List<String> out = new ArrayList<>(in.size());
    for (String s : in) out.add(s == null ? "" : s);
    return out;
  }

  private static Double percent(Percent p) {
    return p == null ? null : p.value();
  }

  private static Percent fromPercent(Double d) {
    return d == null ? null : new Percent(d);
  }

  private static int nz(Integer i) {
    return i == null ? 0 : i;
  }

  private static long nzl(Long l) {
    return l == null ? 0L : l;
  }
}
