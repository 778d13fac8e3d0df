package dev.lattice.policy.model;

import java.util.List;
import java.util.Map;

/**
 * How requests to a set of hosts are routed (≈ Istio {@code VirtualService}); field names follow Istio's.
 * Durations are strings as Istio writes them ({@code 1.5s}, {@code 100ms}); see {@link DurationText}.
 * Immutable value.
 */
public record TrafficRoute(ObjectMeta metadata, Spec spec) implements Resource {

  @Override
  public ResourceKind kind() {
    return ResourceKind.TRAFFIC_ROUTE;
  }

  @Override
  public TrafficRoute withMetadata(ObjectMeta m) {
    return new TrafficRoute(m, spec);
  }

  /** The spec: hosts, ordered HTTP routes (first match wins), TCP routes. */
  public record Spec(List<String> hosts, List<HttpRoute> http, List<TcpRoute> tcp, List<String> exportTo) {
    public Spec {
      hosts = ModelCollections.list(hosts);
      http = ModelCollections.list(http);
      tcp = ModelCollections.list(tcp);
      exportTo = ModelCollections.list(exportTo);
    }
  }

  /** An HTTP rule, as Istio's {@code HTTPRoute}. */
  public record HttpRoute(
      String name,
      List<HttpMatchRequest> match,
      List<HttpRouteDestination> route,
      HttpRewrite rewrite,
      String timeout,
      HttpRetry retries,
      HttpFaultInjection fault,
      Destination mirror,
      Percent mirrorPercentage,
      CorsPolicy corsPolicy,
      Headers headers,
      HttpRedirect redirect,
      HttpDirectResponse directResponse) {
    public HttpRoute {
      match = ModelCollections.list(match);
      route = ModelCollections.list(route);
    }
  }

  /** Conditions of one HTTP match (ANDed), as Istio's {@code HTTPMatchRequest}. */
  public record HttpMatchRequest(
      String name,
      StringMatch uri,
      StringMatch scheme,
      StringMatch method,
      StringMatch authority,
      Map<String, StringMatch> headers,
      Map<String, StringMatch> withoutHeaders,
      Map<String, StringMatch> queryParams,
      Integer port,
      Map<String, String> sourceLabels,
      String sourceNamespace,
      Boolean ignoreUriCase) {
    public HttpMatchRequest {
      headers = ModelCollections.map(headers);
      withoutHeaders = ModelCollections.map(withoutHeaders);
      queryParams = ModelCollections.map(queryParams);
      sourceLabels = ModelCollections.map(sourceLabels);
    }
  }

  /**
   * Rewrites the request before forwarding, as Istio's {@code HTTPRewrite}: {@code uri} replaces the matched
   * prefix, or {@code uriRegexRewrite} rewrites the path by a regular expression (one of the two).
   */
  public record HttpRewrite(String uri, String authority, RegexRewrite uriRegexRewrite) {
    public HttpRewrite(String uri, String authority) {
      this(uri, authority, null);
    }
  }

  /** Istio's {@code RegexRewrite}: every match of {@code match} in the path is replaced by {@code rewrite} ({@code \1} = group 1). */
  public record RegexRewrite(String match, String rewrite) {}

  /**
   * Answers with a redirect instead of forwarding, as Istio's {@code HTTPRedirect}: each part set
   * replaces that part of the request URL; {@code redirectCode} 301 (default), 302, 303, 307 or 308.
   */
  public record HttpRedirect(String uri, String authority, Integer port, String scheme, Integer redirectCode) {}

  /** Answers with a fixed status and body instead of forwarding, as Istio's {@code HTTPDirectResponse}. */
  public record HttpDirectResponse(Integer status, HttpBody body) {
    /** The body, as Istio's {@code HTTPBody} ({@code string}; {@code bytes} is not supported). */
    public record HttpBody(String string) {}
  }

  /** A weighted HTTP destination, as Istio's {@code HTTPRouteDestination}. */
  public record HttpRouteDestination(Destination destination, Integer weight, Headers headers) {}

  /**
   * Retry policy, as Istio's {@code HTTPRetry}; {@code retryOn} is comma-separated. {@code backoffBaseInterval}
   * and {@code backoffMaxInterval} are Envoy's retry backoff (Istio sets them only through an EnvoyFilter):
   * fully-jittered exponential, 25 ms and 10 x base when unset.
   */
  public record HttpRetry(Integer attempts, String perTryTimeout, String retryOn, Boolean retryRemoteLocalities,
                          String backoffBaseInterval, String backoffMaxInterval) {}

  /** Fault injection, as Istio's {@code HTTPFaultInjection}. */
  public record HttpFaultInjection(Delay delay, Abort abort) {
    /** Injected delay. */
    public record Delay(String fixedDelay, Percent percentage) {}

    /** Injected abort: {@code httpStatus} or {@code grpcStatus}. */
    public record Abort(Integer httpStatus, String grpcStatus, Percent percentage) {}
  }

  /** CORS policy, as Istio's {@code CorsPolicy}. */
  public record CorsPolicy(
      List<StringMatch> allowOrigins,
      List<String> allowMethods,
      List<String> allowHeaders,
      List<String> exposeHeaders,
      String maxAge,
      Boolean allowCredentials) {
    public CorsPolicy {
      allowOrigins = ModelCollections.list(allowOrigins);
      allowMethods = ModelCollections.list(allowMethods);
      allowHeaders = ModelCollections.list(allowHeaders);
      exposeHeaders = ModelCollections.list(exposeHeaders);
    }
  }

  /** Request/response header manipulation, as Istio's {@code Headers}. */
  public record Headers(HeaderOperations request, HeaderOperations response) {}

  /** set / add / remove, as Istio's {@code Headers.HeaderOperations}. */
  public record HeaderOperations(Map<String, String> set, Map<String, String> add, List<String> remove) {
    public HeaderOperations {
      set = ModelCollections.map(set);
      add = ModelCollections.map(add);
      remove = ModelCollections.list(remove);
    }
  }

  /** A TCP rule, as Istio's {@code TCPRoute}. */
  public record TcpRoute(List<L4MatchAttributes> match, List<RouteDestination> route) {
    public TcpRoute {
      match = ModelCollections.list(match);
      route = ModelCollections.list(route);
    }
  }

  /** TCP match conditions, as Istio's {@code L4MatchAttributes}. */
  public record L4MatchAttributes(
      List<String> destinationSubnets, Integer port, Map<String, String> sourceLabels, String sourceNamespace) {
    public L4MatchAttributes {
      destinationSubnets = ModelCollections.list(destinationSubnets);
      sourceLabels = ModelCollections.map(sourceLabels);
    }
  }

  /** A weighted TCP destination, as Istio's {@code RouteDestination}. */
  public record RouteDestination(Destination destination, Integer weight) {}
}
