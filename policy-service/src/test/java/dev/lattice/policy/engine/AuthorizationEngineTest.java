package dev.lattice.policy.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.ParseResult;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.model.ResourceValidator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Istio-simulation style table: request → expected verdict and the policy/rule that decided it (plus
 * dry-run and audit marks), against policies parsed and validated from YAML exactly as users write them.
 */
class AuthorizationEngineTest {

  static final String POLICIES = """
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: deny-blocked-ns, namespace: lattice-system}
      spec:
        action: DENY
        rules:
        - from: [{source: {namespaces: [quarantine]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: deny-admin, namespace: shop}
      spec:
        selector: {matchLabels: {app: web}}
        action: DENY
        rules:
        - to: [{operation: {paths: ["/admin*"]}}]
        - from: [{source: {notPrincipals: ["lattice.local/ns/shop/*"]}}]
          to: [{operation: {methods: [DELETE]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: allow-frontend, namespace: shop}
      spec:
        selector: {matchLabels: {app: web}}
        rules:
        - from: [{source: {principals: ["lattice.local/ns/frontend/sa/gateway"]}}]
          to: [{operation: {methods: [GET, HEAD], paths: ["/api/*", "*.html"]}}]
        - from: [{source: {namespaces: [shop]}}]
        - from: [{source: {ipBlocks: ["10.1.0.0/16"]}}]
          to: [{operation: {ports: ["9090"]}}]
        - from: [{source: {principals: ["*/sa/tester"]}}]
          when:
          - key: request.headers[x-canary]
            values: ["true"]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: audit-writes, namespace: shop}
      spec:
        action: AUDIT
        rules:
        - to: [{operation: {methods: [POST, PUT]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata:
        name: dry-deny-legacy
        namespace: shop
        annotations: {lattice.dev/dry-run: "true"}
      spec:
        selector: {matchLabels: {app: web}}
        action: DENY
        rules:
        - to: [{operation: {paths: ["/legacy/*"]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: allow-db-clients, namespace: shop}
      spec:
        selector: {matchLabels: {app: db}}
        rules:
        - from: [{source: {namespaces: [shop]}}]
          to: [{operation: {ports: ["5432"]}}]
        - to: [{operation: {methods: [GET]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: deny-lan, namespace: shop}
      spec:
        selector: {matchLabels: {app: db}}
        action: DENY
        rules:
        - from: [{source: {ipBlocks: ["192.168.0.0/16"]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: allow-shop, namespace: billing}
      spec:
        rules:
        - from: [{source: {principals: ["spiffe://lattice.local/ns/shop/*"]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: allow-misc, namespace: lab}
      spec:
        rules:
        - to: [{operation: {hosts: [api.example.com, "*.internal"], notPaths: ["/private/*"]}}]
        - from: [{source: {namespaces: [lab], notIpBlocks: ["10.0.0.0/8"]}}]
          to: [{operation: {notPorts: ["22"], notMethods: [GET]}}]
        - when:
          - {key: source.namespace, values: [ops]}
          - {key: destination.port, values: ["8443"]}
          - {key: source.ip, notValues: ["172.16.0.0/12"]}
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata:
        name: allow-shop-soon
        namespace: canary
        annotations: {lattice.dev/dry-run: "true"}
      spec:
        rules:
        - from: [{source: {namespaces: [shop]}}]
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: allow-nothing, namespace: locked}
      spec: {}
      ---
      apiVersion: lattice.dev/v1alpha1
      kind: AuthorizationPolicy
      metadata: {name: deny-everything, namespace: sealed}
      spec:
        action: DENY
        rules: [{}]
      """;

  static final List<AuthorizationPolicy> ALL = parseAll();

  static List<AuthorizationPolicy> parseAll() {
    ParseResult r = ResourceParser.create().parse(POLICIES);
    assertThat(r.errorMessages()).isEmpty();
    r.resources().forEach(p -> assertThat(ResourceValidator.validate(p).errors()).as(p.key().asString()).isEmpty());
    return r.resources().stream().map(AuthorizationPolicy.class::cast).toList();
  }

  static AuthorizationEngine engine(String namespace, String app) {
    return AuthorizationEngine.forWorkload(namespace, Map.of("app", app), ALL);
  }

  static final String GATEWAY = "spiffe://lattice.local/ns/frontend/sa/gateway";
  static final String WORKER = "spiffe://lattice.local/ns/shop/sa/worker";

  static RequestContext.Builder http(String from, String method, String path) {
    return RequestContext.builder().from(from).method(method).path(path).host("web.shop").port(8080).sourceIp("192.0.2.10");
  }

  static RequestContext.Builder tcp(String from, int port) {
    return RequestContext.builder().from(from).port(port).sourceIp("192.0.2.10");
  }

  /** name, workload (ns/app), request, expected "VERDICT policy#rule" ("-" = default), dry-run, audits. */
  static Stream<Arguments> table() {
    return Stream.of(
        row("ALLOW rule with principal, method and prefix path", "shop/web", http(GATEWAY, "GET", "/api/items"), "ALLOW shop/allow-frontend#0"),
        row("implicit deny: ALLOW policies exist, none matches (POST); AUDIT marks but does not decide", "shop/web",
            http(GATEWAY, "POST", "/api/items"), "DENY -", null, "shop/audit-writes rule 0"),
        row("suffix wildcard path", "shop/web", http(GATEWAY, "HEAD", "/index.html"), "ALLOW shop/allow-frontend#0"),
        row("DENY beats ALLOW (prefix path)", "shop/web", http(GATEWAY, "GET", "/admin/users"), "DENY shop/deny-admin#0"),
        row("query string is not part of the path", "shop/web", http(GATEWAY, "GET", "/api/items?admin=1"), "ALLOW shop/allow-frontend#0"),
        row("notPrincipals does not match an own-namespace caller; namespace rule allows", "shop/web",
            http(WORKER, "DELETE", "/api/x"), "ALLOW shop/allow-frontend#1"),
        row("notPrincipals matches an outside caller: DENY", "shop/web", http(GATEWAY, "DELETE", "/api/x"), "DENY shop/deny-admin#1"),
        row("root-namespace DENY applies mesh-wide", "shop/web", http("spiffe://lattice.local/ns/quarantine/sa/x", "GET", "/api/a"),
            "DENY lattice-system/deny-blocked-ns#0"),
        row("principal without scheme in the request", "shop/web", http("lattice.local/ns/shop/sa/worker", "GET", "/"),
            "ALLOW shop/allow-frontend#1"),
        row("plaintext caller in allowed ipBlock on allowed port", "shop/web",
            http(null, "GET", "/").sourceIp("10.1.2.3").port(9090), "ALLOW shop/allow-frontend#2"),
        row("plaintext caller outside ipBlock", "shop/web", http(null, "GET", "/").sourceIp("10.2.0.1").port(9090), "DENY -"),
        row("ipBlock matches but port does not", "shop/web", http(null, "GET", "/").sourceIp("10.1.2.3").port(8080), "DENY -"),
        row("prefix-wildcard principal plus request header condition", "shop/web",
            http("spiffe://lattice.local/ns/qa/sa/tester", "GET", "/x").headers(Map.of("X-Canary", "true")), "ALLOW shop/allow-frontend#3"),
        row("header condition missing", "shop/web", http("spiffe://lattice.local/ns/qa/sa/tester", "GET", "/x"), "DENY -"),
        row("header condition with another value", "shop/web",
            http("spiffe://lattice.local/ns/qa/sa/tester", "GET", "/x").headers(Map.of("x-canary", "false")), "DENY -"),
        row("dry-run DENY reports its would-be verdict without enforcing", "shop/web", http(WORKER, "GET", "/legacy/old"),
            "ALLOW shop/allow-frontend#1", "DENY shop/dry-deny-legacy#0", null),
        row("dry-run policy not matching and changing nothing: not reported", "shop/web", http(WORKER, "GET", "/api"),
            "ALLOW shop/allow-frontend#1"),
        row("dry-run ALLOW rollout: would implicitly deny a caller it does not list", "canary/web", http(GATEWAY, "GET", "/"),
            "ALLOW -", "DENY -", null),
        row("dry-run ALLOW rollout: listed caller would be allowed by it", "canary/web", http(WORKER, "GET", "/"),
            "ALLOW -", "ALLOW canary/allow-shop-soon#0", null),
        row("AUDIT on an allowed request", "shop/web", http(WORKER, "PUT", "/api/x"), "ALLOW shop/allow-frontend#1", null,
            "shop/audit-writes rule 0"),
        row("TCP: DENY rule with HTTP-only fields ignores them (broader deny)", "shop/web", tcp("spiffe://lattice.local/ns/shop/sa/w", 9090).sourceIp("10.1.2.3"),
            "DENY shop/deny-admin#0"),
        row("TCP L4 rule (namespace + port) allows", "shop/db", tcp(WORKER, 5432), "ALLOW shop/allow-db-clients#0"),
        row("TCP on another port: HTTP-only ALLOW rule is ignored, implicit deny", "shop/db", tcp(WORKER, 5433), "DENY -"),
        row("TCP from another namespace", "shop/db", tcp("spiffe://lattice.local/ns/billing/sa/x", 5432), "DENY -"),
        row("TCP from a denied ipBlock", "shop/db", tcp(WORKER, 5432).sourceIp("192.168.7.7"), "DENY shop/deny-lan#0"),
        row("HTTP request matches the method-only rule that TCP ignores", "shop/db", http("spiffe://lattice.local/ns/billing/sa/x", "GET", "/"),
            "ALLOW shop/allow-db-clients#1"),
        row("policy with a scheme-prefixed wildcard principal", "billing/api", http(WORKER, "POST", "/pay"), "ALLOW billing/allow-shop#0"),
        row("other namespace's selector-less ALLOW: outsider denied", "billing/api", http(GATEWAY, "GET", "/"), "DENY -"),
        row("root DENY applies in every namespace", "billing/api", http("spiffe://lattice.local/ns/quarantine/sa/a", "GET", "/"),
            "DENY lattice-system/deny-blocked-ns#0"),
        row("no ALLOW policy applies: default allow", "empty/web", http(GATEWAY, "DELETE", "/anything"), "ALLOW -"),
        row("no principal and no policy: default allow", "empty/web", tcp(null, 22), "ALLOW -"),
        row("ALLOW policy without rules allows nothing", "locked/web", http(WORKER, "GET", "/"), "DENY -"),
        row("DENY policy with an empty rule denies everything", "sealed/web", http(WORKER, "GET", "/"), "DENY sealed/deny-everything#0"),
        row("hosts: case-insensitive, port ignored", "lab/app", http(null, "GET", "/x").host("API.Example.com:8080"), "ALLOW lab/allow-misc#0"),
        row("hosts: suffix wildcard", "lab/app", http(null, "GET", "/x").host("db.internal"), "ALLOW lab/allow-misc#0"),
        row("notPaths excludes", "lab/app", http(null, "GET", "/private/key").host("db.internal"), "DENY -"),
        row("namespaces + notIpBlocks + notPorts + notMethods all hold", "lab/app",
            http("spiffe://lattice.local/ns/lab/sa/a", "POST", "/").host("x").sourceIp("192.168.0.1").port(80), "ALLOW lab/allow-misc#1"),
        row("notIpBlocks excludes", "lab/app", http("spiffe://lattice.local/ns/lab/sa/a", "POST", "/").host("x").sourceIp("10.0.0.5").port(80), "DENY -"),
        row("notMethods excludes", "lab/app", http("spiffe://lattice.local/ns/lab/sa/a", "GET", "/").host("x").sourceIp("192.168.0.1").port(80), "DENY -"),
        row("notPorts excludes", "lab/app", http("spiffe://lattice.local/ns/lab/sa/a", "POST", "/").host("x").sourceIp("192.168.0.1").port(22), "DENY -"),
        row("when: namespace, port and source.ip notValues", "lab/app", http("spiffe://lattice.local/ns/ops/sa/a", "GET", "/").host("x").port(8443),
            "ALLOW lab/allow-misc#2"),
        row("when: wrong port", "lab/app", http("spiffe://lattice.local/ns/ops/sa/a", "GET", "/").host("x").port(8080), "DENY -"),
        row("when: source.ip notValues excludes", "lab/app",
            http("spiffe://lattice.local/ns/ops/sa/a", "GET", "/").host("x").port(8443).sourceIp("172.20.1.1"), "DENY -"));
  }

  static Arguments row(String name, String workload, RequestContext.Builder req, String expected) {
    return row(name, workload, req, expected, null, null);
  }

  static Arguments row(String name, String workload, RequestContext.Builder req, String expected, String dryRun, String audit) {
    return Arguments.of(name, workload, req.build(), expected, dryRun, audit);
  }

  static String describe(Verdict v, PolicyRef p, int rule) {
    return v + " " + (p == null ? "-" : p + "#" + rule);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void decides(String name, String workload, RequestContext request, String expected, String dryRun, String audit) {
    String[] w = workload.split("/");
    Decision d = engine(w[0], w[1]).evaluate(request);
    assertThat(describe(d.verdict(), d.policy(), d.ruleIndex())).as(d.reason()).isEqualTo(expected);
    if (dryRun == null) {
      assertThat(d.dryRun()).isNull();
    } else {
      assertThat(describe(d.dryRun().verdict(), d.dryRun().policy(), d.dryRun().ruleIndex())).isEqualTo(dryRun);
    }
    assertThat(d.audits().stream().map(Decision.Match::toString).toList())
        .isEqualTo(audit == null ? List.of() : List.of(audit));
  }

  @Test
  void tableHasAtLeastThirtyCases() {
    assertThat(table().count()).isGreaterThanOrEqualTo(30);
  }

  @Test
  void selectsPoliciesByNamespaceSelectorAndRootNamespace() {
    assertThat(engine("shop", "web").policies()).extracting(PolicyRef::toString).containsExactly(
        "lattice-system/deny-blocked-ns", "shop/allow-frontend", "shop/audit-writes", "shop/deny-admin", "shop/dry-deny-legacy");
    assertThat(engine("shop", "db").policies()).extracting(PolicyRef::toString).containsExactly(
        "lattice-system/deny-blocked-ns", "shop/allow-db-clients", "shop/audit-writes", "shop/deny-lan");
    assertThat(engine("elsewhere", "x").policies()).extracting(PolicyRef::toString).containsExactly("lattice-system/deny-blocked-ns");
  }

  @Test
  void commonDecisionsAreSharedInstances() {
    AuthorizationEngine e = engine("shop", "db");
    RequestContext r = tcp(WORKER, 5432).build();
    assertThat(e.evaluate(r)).isSameAs(e.evaluate(r));
    assertThat(e.evaluate(r).reason()).isEqualTo("allowed by ALLOW policy shop/allow-db-clients rule 0");
  }
}
