package dev.lattice.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResourceValidatorTest {
  private static final ResourceParser PARSER = ResourceParser.create();

  static final String ROUTE = """
      apiVersion: lattice.dev/v1alpha1
      kind: TrafficRoute
      metadata: {name: reviews, namespace: default}
      spec:
        hosts: [reviews]
        http:
        - name: canary
          match:
          - uri: {prefix: /api}
          route:
          - destination: {host: reviews, subset: v1}
            weight: 90
          - destination: {host: reviews, subset: v2}
            weight: 10
          timeout: 2s
          retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,connect-failure", backoffBaseInterval: 10ms, backoffMaxInterval: 200ms}
        - name: default
          route:
          - destination: {host: reviews, subset: v1}
      """;

  /** ROUTE with a redirect route and a direct-response catch-all instead of its default route. */
  static final String ROUTE_ANSWERS = ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: moved\n    match:\n    - uri: {exact: /old}\n    redirect: {uri: /new, authority: docs.example.com, port: 8443, scheme: https, redirectCode: 308}\n  - name: default\n    directResponse: {status: 404, body: {string: nothing here}}\n    headers: {response: {set: {x-served-by: mesh}}}");

  /** ROUTE whose canary rewrites the path by a regular expression (Istio's uriRegexRewrite) and sets the authority. */
  static final String ROUTE_REGEX_REWRITE = ROUTE.replace("  timeout: 2s\n",
      "  timeout: 2s\n    rewrite: {authority: reviews.internal, uriRegexRewrite: {match: '^/api/([^/]+)(/.*)$', rewrite: '\\2/\\1'}}\n");

  static final String DP = """
      apiVersion: lattice.dev/v1alpha1
      kind: DestinationPolicy
      metadata: {name: reviews}
      spec:
        host: reviews
        trafficPolicy:
          loadBalancer: {simple: LEAST_REQUEST}
          connectionPool: {tcp: {maxConnections: 100}, http: {http1MaxPendingRequests: 10}}
          outlierDetection: {consecutive5xxErrors: 5, interval: 10s, baseEjectionTime: 30s, maxEjectionPercent: 50,
            splitExternalLocalOriginErrors: true, consecutiveLocalOriginFailures: 3}
          retryBudget: {retryRatio: 0.25, minRetriesPerSecond: 5, ttl: 5s}
        subsets:
        - name: v1
          labels: {version: v1}
        - name: v2
          labels: {version: v2}
      """;

  static final String AP = """
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: reviews-viewer}
      spec:
        selector: {matchLabels: {app: reviews}}
        action: ALLOW
        rules:
        - from:
          - source: {principals: ["lattice.local/ns/default/sa/productpage"]}
          to:
          - operation: {methods: [GET], paths: ["/reviews/*"], ports: ["9080"]}
          when:
          - key: request.headers[x-version]
            values: [v1]
      """;

  static final String PA = """
      apiVersion: lattice.dev/v1alpha1
      kind: PeerAuthentication
      metadata: {name: strict}
      spec:
        selector: {matchLabels: {app: reviews}}
        mtls: {mode: STRICT}
        portLevelMtls:
          "8080": {mode: PERMISSIVE}
      """;

  static final String RL = """
      apiVersion: lattice.dev/v1alpha1
      kind: RateLimitPolicy
      metadata: {name: reviews-limit}
      spec:
        selector: {matchLabels: {app: reviews}}
        limits:
        - name: per-caller
          requestsPerUnit: 100
          unit: MINUTE
          burst: 20
          perSourcePrincipal: true
          match: {methods: [GET], sourcePrincipals: ["lattice.local/ns/default/*"]}
        - name: per-tenant-connection
          requestsPerUnit: 10
          unit: SECOND
          scope: CONNECTION
          perHeader: x-tenant
      """;

  static Resource parse(String yaml) {
    ParsedDocument d = PARSER.parseOne(yaml);
    assertThat(d.errors()).as("parse errors").isEmpty();
    return d.resource();
  }

  @Test
  void validExamplesHaveNoErrors() {
    for (String y : List.of(ROUTE, DP, AP, PA, RL)) {
      ValidationReport r = ResourceValidator.validate(parse(y));
      assertThat(r.errors()).as(y).isEmpty();
      assertThat(ResourceValidator.isCompilable(parse(y))).isTrue();
    }
  }

  @Test
  void redirectsAndDirectResponsesNeedNoDestination() {
    String y = ROUTE_ANSWERS;
    Resource r = parse(y);
    assertThat(ResourceValidator.validate(r).errors()).isEmpty();
    TrafficRoute.HttpRoute moved = ((TrafficRoute) r).spec().http().get(1);
    assertThat(moved.redirect()).isEqualTo(new TrafficRoute.HttpRedirect("/new", "docs.example.com", 8443, "https", 308));
    TrafficRoute.HttpRoute last = ((TrafficRoute) r).spec().http().get(2);
    assertThat(last.directResponse().body().string()).isEqualTo("nothing here");
  }

  @Test
  void aRegexRewriteIsValidAndKeepsItsExpressionAndReplacement() {
    assertThat(ROUTE_REGEX_REWRITE).isNotEqualTo(ROUTE);
    Resource r = parse(ROUTE_REGEX_REWRITE);
    assertThat(ResourceValidator.validate(r).errors()).isEmpty();
    assertThat(((TrafficRoute) r).spec().http().get(0).rewrite()).isEqualTo(new TrafficRoute.HttpRewrite(null, "reviews.internal",
        new TrafficRoute.RegexRewrite("^/api/([^/]+)(/.*)$", "\\2/\\1")));
  }

  static Stream<Arguments> invalid() {
    return Stream.of(
        Arguments.of("weights not summing to 100", ROUTE.replace("weight: 10", "weight: 20"), "spec.http[0].route",
            "weights sum to 110 (90 + 20) (expected: 100)"),
        Arguments.of("weight out of range", ROUTE.replace("weight: 10", "weight: 120"), "spec.http[0].route[1].weight",
            "120 (expected: 0..100)"),
        Arguments.of("missing weight among several", ROUTE.replace("\n      weight: 10\n", "\n"), "spec.http[0].route[1].weight", "missing"),
        Arguments.of("single destination weight", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    route:\n    - destination: {host: reviews, subset: v1}\n      weight: 50"),
            "spec.http[1].route[0].weight", "50 (expected: 100 or unset"),
        Arguments.of("bad regex", ROUTE.replace("uri: {prefix: /api}", "uri: {regex: \"/api/(v1\"}"), "spec.http[0].match[0].uri.regex",
            "expected: an RE2 regular expression"),
        Arguments.of("non-RE2 regex", ROUTE.replace("uri: {prefix: /api}", "uri: {regex: \"/(?!admin).*\"}"), "spec.http[0].match[0].uri.regex",
            "not RE2 syntax"),
        Arguments.of("two conditions in a string match", ROUTE.replace("uri: {prefix: /api}", "uri: {prefix: /api, exact: /x}"),
            "spec.http[0].match[0].uri", "expected: exactly one"),
        Arguments.of("upper-case header name", ROUTE.replace("uri: {prefix: /api}", "headers: {X-User: {exact: a}}"),
            "spec.http[0].match[0].headers.X-User", "header names must be lower case"),
        Arguments.of("duplicate exact route", ROUTE.replace("- name: default\n    route:", "- name: dup\n    match:\n    - uri: {prefix: /api}\n    route:"),
            "spec.http[1].match", "same match as spec.http[0].match"),
        Arguments.of("duplicate route name", ROUTE.replace("- name: default", "- name: canary"), "spec.http[1].name", "duplicate route name"),
        Arguments.of("bad duration", ROUTE.replace("timeout: 2s", "timeout: 2 seconds"), "spec.http[0].timeout",
            "\"2 seconds\" (expected: a duration such as 1.5s, 100ms, 1m30s)"),
        Arguments.of("sub-millisecond duration", ROUTE.replace("timeout: 2s", "timeout: 10us"), "spec.http[0].timeout", "at least 1ms"),
        Arguments.of("bad retryOn", ROUTE.replace("5xx,connect-failure", "5xx,sometimes"), "spec.http[0].retries.retryOn", "\"sometimes\""),
        Arguments.of("backoff max below base", ROUTE.replace("backoffMaxInterval: 200ms", "backoffMaxInterval: 5ms"),
            "spec.http[0].retries.backoffMaxInterval", "5ms is shorter than backoffBaseInterval 10ms"),
        Arguments.of("zero backoff base", ROUTE.replace("backoffBaseInterval: 10ms", "backoffBaseInterval: 0s"),
            "spec.http[0].retries.backoffBaseInterval", "(expected: more than 0)"),
        Arguments.of("bad backoff duration", ROUTE.replace("backoffBaseInterval: 10ms", "backoffBaseInterval: soon"),
            "spec.http[0].retries.backoffBaseInterval", "\"soon\""),
        Arguments.of("negative retry ratio", DP.replace("retryRatio: 0.25", "retryRatio: -1"),
            "spec.trafficPolicy.retryBudget.retryRatio", "-1.0 (expected: 0 to 1000"),
        Arguments.of("negative retry reserve", DP.replace("minRetriesPerSecond: 5", "minRetriesPerSecond: -2"),
            "spec.trafficPolicy.retryBudget.minRetriesPerSecond", "-2 (expected: at least 0)"),
        Arguments.of("bad budget ttl", DP.replace("ttl: 5s", "ttl: forever"), "spec.trafficPolicy.retryBudget.ttl", "\"forever\""),
        Arguments.of("port out of range", ROUTE.replace("subset: v2}", "subset: v2, port: {number: 70000}}"),
            "spec.http[0].route[1].destination.port.number", "70000 (expected: a port 1..65535)"),
        Arguments.of("no hosts", ROUTE.replace("hosts: [reviews]", "hosts: []"), "spec.hosts", "expected: at least one host"),
        Arguments.of("bad host", ROUTE.replace("hosts: [reviews]", "hosts: [\"re views\"]"), "spec.hosts[0]", "expected: a service host"),
        Arguments.of("no routes", "apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata: {name: a}\nspec: {hosts: [a]}\n", "spec",
            "expected: at least one of http, tcp"),
        Arguments.of("fault abort without status", ROUTE.replace("timeout: 2s", "fault: {abort: {percentage: {value: 10}}}"),
            "spec.http[0].fault.abort", "exactly one of httpStatus, grpcStatus"),
        Arguments.of("fault percentage", ROUTE.replace("timeout: 2s", "fault: {delay: {fixedDelay: 1s, percentage: {value: 150}}}"),
            "spec.http[0].fault.delay.percentage.value", "150.0 (expected: a percentage 0.0..100.0)"),
        Arguments.of("redirect with a destination", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    route:\n    - destination: {host: reviews, subset: v1}\n    redirect: {uri: /new}"),
            "spec.http[1].route", "set with redirect (expected: one of route, redirect, directResponse)"),
        Arguments.of("redirect and direct response", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    redirect: {uri: /new}\n    directResponse: {status: 404}"),
            "spec.http[1].redirect", "set with directResponse"),
        Arguments.of("empty redirect", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    redirect: {redirectCode: 302}"),
            "spec.http[1].redirect", "expected: at least one of uri, authority, port, scheme"),
        Arguments.of("redirect code", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    redirect: {uri: /new, redirectCode: 200}"),
            "spec.http[1].redirect.redirectCode", "200 (expected: 301, 302, 303, 307 or 308)"),
        Arguments.of("redirect scheme", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    redirect: {scheme: ftp}"),
            "spec.http[1].redirect.scheme", "\"ftp\" (expected: http or https)"),
        Arguments.of("redirect uri", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    redirect: {uri: new}"),
            "spec.http[1].redirect.uri", "expected: a path starting with '/'"),
        Arguments.of("direct response status", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    directResponse: {status: 700}"),
            "spec.http[1].directResponse.status", "700"),
        Arguments.of("direct response with rewrite", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    directResponse: {status: 404}\n    rewrite: {uri: /x}"),
            "spec.http[1].rewrite", "set with directResponse"),
        Arguments.of("regex rewrite with uri", ROUTE_REGEX_REWRITE.replace("{authority: reviews.internal,", "{uri: /v2,"),
            "spec.http[0].rewrite.uriRegexRewrite", "set with rewrite.uri (expected: one of uri, uriRegexRewrite)"),
        Arguments.of("non-RE2 regex rewrite", ROUTE_REGEX_REWRITE.replace("([^/]+)(/.*)$'", "(?=v)([^/]+)(/.*)$'"),
            "spec.http[0].rewrite.uriRegexRewrite.match", "not RE2 syntax"),
        Arguments.of("bad regex rewrite", ROUTE_REGEX_REWRITE.replace("([^/]+)(/.*)$'", "([^/]+(/.*)$'"),
            "spec.http[0].rewrite.uriRegexRewrite.match", "expected: an RE2 regular expression"),
        Arguments.of("regex rewrite naming a missing group", ROUTE_REGEX_REWRITE.replace("'\\2/\\1'", "'\\3/\\1'"),
            "spec.http[0].rewrite.uriRegexRewrite.rewrite", "\\3 names a group the match does not have (expected: \\0..\\2)"),
        Arguments.of("regex rewrite with a stray backslash", ROUTE_REGEX_REWRITE.replace("'\\2/\\1'", "'\\2/\\n'"),
            "spec.http[0].rewrite.uriRegexRewrite.rewrite", "a backslash not followed by a digit or a backslash"),
        Arguments.of("regex rewrite without replacement", ROUTE_REGEX_REWRITE.replace(", rewrite: '\\2/\\1'", ""),
            "spec.http[0].rewrite.uriRegexRewrite.rewrite", "missing"),
        Arguments.of("neither route nor answer", ROUTE.replace("- name: default\n    route:\n    - destination: {host: reviews, subset: v1}", "- name: default\n    timeout: 1s"),
            "spec.http[1].route", "or a redirect or directResponse"),
        Arguments.of("mirror percentage without mirror", ROUTE.replace("timeout: 2s", "mirrorPercentage: {value: 5}"),
            "spec.http[0].mirrorPercentage", "set without mirror"),
        Arguments.of("bad resource name", ROUTE.replace("name: reviews, namespace", "name: Reviews_1, namespace"), "metadata.name",
            "\"Reviews_1\" (expected: a name"),
        Arguments.of("bad namespace", ROUTE.replace("namespace: default", "namespace: Prod"), "metadata.namespace", "expected: a namespace"),
        Arguments.of("LB with both", DP.replace("{simple: LEAST_REQUEST}", "{simple: RANDOM, consistentHash: {useSourceIp: true}}"),
            "spec.trafficPolicy.loadBalancer", "exactly one of simple, consistentHash"),
        Arguments.of("consistent hash with two keys", DP.replace("{simple: LEAST_REQUEST}", "{consistentHash: {useSourceIp: true, httpHeaderName: x-user}}"),
            "spec.trafficPolicy.loadBalancer.consistentHash", "sets 2 hash keys"),
        Arguments.of("max ejection percent", DP.replace("maxEjectionPercent: 50", "maxEjectionPercent: 101"),
            "spec.trafficPolicy.outlierDetection.maxEjectionPercent", "101 (expected: 0..100)"),
        Arguments.of("negative local-origin failures", DP.replace("consecutiveLocalOriginFailures: 3", "consecutiveLocalOriginFailures: -1"),
            "spec.trafficPolicy.outlierDetection.consecutiveLocalOriginFailures", "-1"),
        Arguments.of("bad outlier interval", DP.replace("interval: 10s", "interval: ten"), "spec.trafficPolicy.outlierDetection.interval", "\"ten\""),
        Arguments.of("duplicate subset", DP.replace("name: v2", "name: v1"), "spec.subsets[1].name", "duplicate subset \"v1\""),
        Arguments.of("missing host", DP.replace("  host: reviews\n", ""), "spec.host", "missing"),
        Arguments.of("zero connections", DP.replace("maxConnections: 100", "maxConnections: 0"), "spec.trafficPolicy.connectionPool.tcp.maxConnections",
            "0 (expected: at least 1)"),
        Arguments.of("invalid SPIFFE principal", AP.replace("lattice.local/ns/default/sa/productpage", "Lattice.Local/ns/default/sa/productpage"),
            "spec.rules[0].from[0].source.principals[0]", "trust domain characters are limited to lowercase letters"),
        Arguments.of("principal with middle wildcard", AP.replace("lattice.local/ns/default/sa/productpage", "lattice.local/ns/*/sa/productpage"),
            "spec.rules[0].from[0].source.principals[0]", "'*' is allowed only as the first or last character"),
        Arguments.of("principal with bad scheme", AP.replace("lattice.local/ns/default/sa/productpage", "https://lattice.local/ns/default"),
            "spec.rules[0].from[0].source.principals[0]", "scheme \"https\""),
        Arguments.of("principal with empty segment", AP.replace("lattice.local/ns/default/sa/productpage", "spiffe://lattice.local/ns//sa/x"),
            "spec.rules[0].from[0].source.principals[0]", "empty path segment"),
        Arguments.of("CUSTOM action", AP.replace("action: ALLOW", "action: CUSTOM"), "spec.action", "CUSTOM is not supported"),
        Arguments.of("claims without brackets", AP.replace("request.headers[x-version]", "request.auth.claims.groups"), "spec.rules[0].when[0].key",
            "claims are written request.auth.claims[name]"),
        Arguments.of("unknown condition key", AP.replace("request.headers[x-version]", "experimental.envoy.filters.x"), "spec.rules[0].when[0].key",
            "unsupported key \"experimental.envoy.filters.x\""),
        Arguments.of("requestPrincipal with middle wildcard", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "requestPrincipals: [\"issuer*/sub*\"]"), "spec.rules[0].from[0].source.requestPrincipals[0]", "'*' is allowed only as a prefix or a suffix"),
        Arguments.of("path template operator inside a segment", AP.replace("/reviews/*", "/reviews/v{*}/x"), "spec.rules[0].to[0].operation.paths[0]",
            "expected: {*} or {**} as a whole segment"),
        Arguments.of("path template {**} not last", AP.replace("/reviews/*", "/reviews/{**}/{*}"), "spec.rules[0].to[0].operation.paths[0]",
            "{**} must be the last operator"),
        Arguments.of("path template with '*'", AP.replace("/reviews/*", "/reviews/{*}/*"), "spec.rules[0].to[0].operation.paths[0]",
            "no other '*'"),
        Arguments.of("service account without namespace", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "serviceAccounts: [productpage]"), "spec.rules[0].from[0].source.serviceAccounts[0]", "expected: <namespace>/<service-account>"),
        Arguments.of("service account with wildcard", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "notServiceAccounts: [\"default/*\"]"), "spec.rules[0].from[0].source.notServiceAccounts[0]", "no wildcards"),
        Arguments.of("service accounts with principals", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "principals: [\"lattice.local/ns/default/sa/productpage\"], serviceAccounts: [default/productpage]"),
            "spec.rules[0].from[0].source.serviceAccounts", "cannot be combined with principals or namespaces"),
        Arguments.of("bad remoteIpBlock", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]", "remoteIpBlocks: [\"203.0.113.0/33\"]"),
            "spec.rules[0].from[0].source.remoteIpBlocks[0]", "expected: an IP address or CIDR block"),
        Arguments.of("bad remote.ip value", AP.replace("key: request.headers[x-version]\n      values: [v1]", "key: remote.ip\n      values: [nowhere]"),
            "spec.rules[0].when[0].values[0]", "expected: an IP address or CIDR block"),
        Arguments.of("bad port", AP.replace("ports: [\"9080\"]", "ports: [\"http\"]"), "spec.rules[0].to[0].operation.ports[0]", "\"http\" (expected: a port number"),
        Arguments.of("port zero", AP.replace("ports: [\"9080\"]", "ports: [\"0\"]"), "spec.rules[0].to[0].operation.ports[0]", "expected: a port 1..65535"),
        Arguments.of("middle wildcard path", AP.replace("/reviews/*", "/reviews/*/x"), "spec.rules[0].to[0].operation.paths[0]",
            "'*' is allowed only as a prefix or a suffix"),
        Arguments.of("bad ipBlock", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]", "ipBlocks: [\"10.0.0.300/8\"]"),
            "spec.rules[0].from[0].source.ipBlocks[0]", "expected: an IP address or CIDR block"),
        Arguments.of("empty source", AP.replace("source: {principals: [\"lattice.local/ns/default/sa/productpage\"]}", "source: {}"),
            "spec.rules[0].from[0].source", "empty source"),
        Arguments.of("condition without values", AP.replace("    values: [v1]\n", ""), "spec.rules[0].when[0]", "no values"),
        Arguments.of("bad dry-run annotation", AP.replace("metadata: {name: reviews-viewer}",
            "metadata: {name: reviews-viewer, annotations: {lattice.dev/dry-run: maybe}}"),
            "metadata.annotations[\"lattice.dev/dry-run\"]", "\"maybe\" (expected: \"true\" or \"false\")"),
        Arguments.of("port-level mTLS without selector", PA.replace("  selector: {matchLabels: {app: reviews}}\n", ""), "spec.portLevelMtls",
            "need a workload selector"),
        Arguments.of("port-level key not a port", PA.replace("\"8080\"", "http"), "spec.portLevelMtls.http", "expected: a port number"),
        Arguments.of("rate limit without rate", RL.replace("    requestsPerUnit: 100\n", ""), "spec.limits[0].requestsPerUnit", "missing"),
        Arguments.of("rate limit zero", RL.replace("requestsPerUnit: 100", "requestsPerUnit: 0"), "spec.limits[0].requestsPerUnit", "at least 1"),
        Arguments.of("rate limit principal", RL.replace("lattice.local/ns/default/*", "*lattice*"), "spec.limits[0].match.sourcePrincipals[0]",
            "prefix or a suffix, not both"),
        Arguments.of("rate limit descriptor header", RL.replace("perHeader: x-tenant", "perHeader: 'x tenant'"), "spec.limits[1].perHeader",
            "is not a header name"),
        Arguments.of("rate limit status", RL.replace("  limits:", "  responseStatus: 200\n  limits:"), "spec.responseStatus", "200 (expected: 400..599)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalid")
  void reportsErrorWithPathAndExpectation(String name, String yaml, String path, String message) {
    ValidationReport r = ResourceValidator.validate(parse(yaml));
    assertThat(r.errors()).as(r.errors().toString()).anySatisfy(i -> {
      assertThat(i.path()).isEqualTo(path);
      assertThat(i.message()).contains(message);
    });
    assertThat(ResourceValidator.isCompilable(parse(yaml))).isFalse();
  }

  /** Unknown fields keep their field path wherever Jackson meets them (before or after a record's known fields). */
  @ParameterizedTest(name = "{0}")
  @MethodSource("misspelledFields")
  void unknownFieldsKeepTheirFieldPath(String yaml, String path) {
    ParsedDocument d = PARSER.parseOne(yaml);
    assertThat(d.errors()).extracting(ValidationIssue::path).containsExactly(path);
    assertThat(d.errors().get(0).message()).contains("unknown field").contains("(expected one of:");
  }

  static Stream<Arguments> misspelledFields() {
    return Stream.of(
        Arguments.of(AP.replace("source: {principals:", "source: {serviceAcounts: [a/b], principals:"),
            "spec.rules[0].from[0].source.serviceAcounts"),
        Arguments.of(AP.replace("source: {principals: [\"lattice.local/ns/default/sa/productpage\"]}",
            "source: {principals: [\"lattice.local/ns/default/sa/productpage\"], nameSpaces: [x]}"), "spec.rules[0].from[0].source.nameSpaces"),
        Arguments.of(AP.replace("operation: {methods:", "operation: {verbs: [GET], methods:"), "spec.rules[0].to[0].operation.verbs"),
        Arguments.of(AP.replace("      values: [v1]", "      values: [v1]\n      vals: [v2]"), "spec.rules[0].when[0].vals"),
        Arguments.of(AP.replace("action: ALLOW", "action: ALLOW\n  actoin: DENY"), "spec.actoin"));
  }

  /** Values Istio accepts: valid config here too (some with a warning naming the field), compiled as written. */
  static Stream<Arguments> acceptedAsIstioAcceptsThem() {
    String noWhen = AP.replace("  when:\n    - key: request.headers[x-version]\n      values: [v1]\n", "");
    return Stream.of(
        Arguments.of("lower-case method (matches only \"get\")", AP.replace("methods: [GET]", "methods: [get]"),
            "spec.rules[0].to[0].operation.methods[0]"),
        Arguments.of("path template {*}", AP.replace("/reviews/*", "/reviews/{*}/ratings"), null),
        Arguments.of("path template {**}", AP.replace("/reviews/*", "/reviews/{**}"), null),
        Arguments.of("path template {*} then {**}", AP.replace("/reviews/*", "/{*}/reviews/{**}/x.json"), null),
        Arguments.of("serviceAccounts", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "serviceAccounts: [default/productpage], notServiceAccounts: [default/legacy]"), null),
        Arguments.of("remoteIpBlocks", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "remoteIpBlocks: [\"203.0.113.0/24\"], notRemoteIpBlocks: [\"203.0.113.7\"]"), null),
        Arguments.of("requestPrincipals (warned: no JWT yet)", AP.replace("principals: [\"lattice.local/ns/default/sa/productpage\"]",
            "requestPrincipals: [\"https://accounts.example.com/*\"]"), "spec.rules[0].from[0].source.requestPrincipals"),
        Arguments.of("request.auth.claims (warned: no JWT yet)", AP.replace("request.headers[x-version]", "request.auth.claims[groups]"),
            "spec.rules[0].when[0].key"),
        Arguments.of("nested claims", AP.replace("request.headers[x-version]", "request.auth.claims[realm_access][roles]"),
            "spec.rules[0].when[0].key"),
        Arguments.of("remote.ip", AP.replace("key: request.headers[x-version]\n      values: [v1]", "key: remote.ip\n      values: [\"10.0.0.0/8\"]"), null),
        Arguments.of("destination.ip", AP.replace("key: request.headers[x-version]\n      values: [v1]", "key: destination.ip\n      notValues: [\"10.9.9.9\"]"), null),
        Arguments.of("connection.sni", AP.replace("key: request.headers[x-version]\n      values: [v1]", "key: connection.sni\n      values: [\"*.example.com\"]"), null),
        Arguments.of("hosts with a port", noWhen.replace("methods: [GET]", "hosts: [\"reviews.default:9080\", \"*.example.com\"], methods: [GET]"), null),
        Arguments.of("port-level PeerAuthentication without mode (UNSET)", PA.replace("\"8080\": {mode: PERMISSIVE}", "\"8080\": {}"), null),
        Arguments.of("PeerAuthentication mtls without mode (UNSET)", PA.replace("mtls: {mode: STRICT}", "mtls: {}"), null));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("acceptedAsIstioAcceptsThem")
  void acceptsWhatIstioAccepts(String name, String yaml, String warningPath) {
    ValidationReport r = ResourceValidator.validate(parse(yaml));
    assertThat(r.errors()).as(name).isEmpty();
    assertThat(ResourceValidator.isCompilable(parse(yaml))).isTrue();
    if (warningPath != null) assertThat(r.warnings()).extracting(ValidationIssue::path).contains(warningPath);
  }

  /** A registry that knows one host in one namespace, with v1 endpoints only. */
  static final RegistryView REGISTRY = new RegistryView() {
    @Override
    public boolean available() {
      return true;
    }

    @Override
    public boolean knowsHost(String host) {
      return host.equals("reviews.default");
    }

    @Override
    public boolean hasWorkloadsInNamespace(String ns) {
      return ns.equals("default");
    }

    @Override
    public boolean anyEndpointMatches(String host, Map<String, String> labels) {
      return host.equals("reviews.default") && labels.equals(Map.of("version", "v1"));
    }
  };

  @Test
  void unknownSubsetIsAnErrorWhenTheDestinationPolicyIsKnown() {
    ValidationContext ctx = new ValidationContext(RegistryView.UNAVAILABLE, ResourceView.of(List.of(parse(DP))));
    ValidationReport r = ResourceValidator.validate(parse(ROUTE.replace("subset: v2", "subset: v3")), ctx);
    assertThat(r.errors()).singleElement().satisfies(i -> {
      assertThat(i.path()).isEqualTo("spec.http[0].route[1].destination.subset");
      assertThat(i.message()).contains("unknown subset \"v3\" of host reviews.default (expected one of: v1, v2");
    });
    // Subset references are admission errors only: the compiler's check is context-free.
    assertThat(ResourceValidator.isCompilable(parse(ROUTE.replace("subset: v2", "subset: v3")))).isTrue();
  }

  @Test
  void registryWarningsDoNotBlock() {
    ValidationContext ctx = new ValidationContext(REGISTRY, ResourceView.of(List.of(parse(DP))));
    ValidationReport route = ResourceValidator.validate(parse(ROUTE.replaceFirst("host: reviews, subset: v1", "host: ratings, subset: v1")), ctx);
    assertThat(route.valid()).isTrue();
    assertThat(route.warnings()).extracting(ValidationIssue::message)
        .anyMatch(m -> m.contains("host \"ratings.default\" is not in the service registry"))
        .anyMatch(m -> m.contains("no endpoint of reviews.default matches subset \"v2\""));
    ValidationReport ap = ResourceValidator.validate(parse(AP.replace("ns/default/sa", "ns/empty/sa")), ctx);
    assertThat(ap.valid()).isTrue();
    assertThat(ap.warnings()).extracting(ValidationIssue::path).contains("spec.rules[0].from[0].source.principals[0]");
    ValidationReport dp = ResourceValidator.validate(parse(DP), ctx);
    assertThat(dp.warnings()).extracting(ValidationIssue::path).containsExactly("spec.subsets[1].labels");
  }

  static Stream<Arguments> principals() {
    return Stream.of(
        Arguments.of("*", true), Arguments.of("lattice.local/ns/a/sa/b", true), Arguments.of("spiffe://lattice.local/ns/a/sa/b", true),
        Arguments.of("lattice.local/ns/a/*", true), Arguments.of("*/sa/b", true), Arguments.of("*b", true), Arguments.of("lattice.local", true),
        Arguments.of("", false), Arguments.of("*a*", false), Arguments.of("SPIFFE://x/y", false), Arguments.of("lattice.local/ns/a/", false),
        Arguments.of("lattice.local/ns/../sa", false), Arguments.of("/ns/a", false), Arguments.of("lattice.local/ns/a b", false),
        Arguments.of("lattice.local/ns/a/*/x", false));
  }

  @ParameterizedTest(name = "{0} valid={1}")
  @MethodSource("principals")
  void principalPatterns(String pattern, boolean valid) {
    assertThat(SpiffePrincipal.problem(pattern).isEmpty()).isEqualTo(valid);
  }

  @Test
  void durationsAndIpBlocks() {
    assertThat(DurationText.parse("1m30s").toMillis()).isEqualTo(90_000);
    assertThat(DurationText.parse("1.5s").toMillis()).isEqualTo(1500);
    assertThat(DurationText.ofMillis(1500L)).isEqualTo("1500ms");
    assertThat(DurationText.ofMillis(7_200_000L)).isEqualTo("2h");
    assertThat(IpBlock.parse("10.1.0.0/16").contains(IpBlock.literal("10.1.200.3"))).isTrue();
    assertThat(IpBlock.parse("10.1.0.0/16").contains(IpBlock.literal("10.2.0.1"))).isFalse();
    assertThat(IpBlock.parse("fd00::/8").contains(IpBlock.literal("fd12::1"))).isTrue();
    assertThat(List.of(ServiceHost.canonical("reviews", "prod"), ServiceHost.canonical("reviews.prod.svc.cluster.local", "x")))
        .containsOnly("reviews.prod");
  }
}
