package dev.lattice.kit.bench;

import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowEndpoint;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.events.L4Protocol;
import dev.lattice.events.L7Flow;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Condition;
import dev.lattice.events.policy.Operation;
import dev.lattice.events.policy.RuleFrom;
import dev.lattice.events.policy.RuleTo;
import dev.lattice.events.policy.Source;
import dev.lattice.events.policy.WorkloadSelector;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Realistic benchmark events: an AuthorizationPolicy resource with a few rules and HTTP flow records. */
final class BenchEvents {

  private static final Instant T0 = Instant.parse("2026-11-25T05:00:00Z");
  private static final String[] NAMESPACES = {"default", "shop", "payments", "identity", "ops"};
  private static final String[] APPS = {"reviews", "ratings", "cart", "checkout", "frontend", "ledger"};

  /** Distinct flow keys ({@link #flowKey}): namespaces x apps, as ProducerPerformance's key range. */
  static final int FLOW_KEYS = NAMESPACES.length * APPS.length;

  private BenchEvents() {}

  /** The key of resource {@code i}: {@code kind/namespace/name}. */
  static String resourceKey(int i) {
    return "AuthorizationPolicy/" + NAMESPACES[i % NAMESPACES.length] + "/allow-" + APPS[i % APPS.length] + "-" + i;
  }

  /** An ALLOW AuthorizationPolicy with a selector and three rules (principals, paths, methods, ports, a condition). */
  static ResourceEvent resource(int i) {
    String ns = NAMESPACES[i % NAMESPACES.length];
    String app = APPS[i % APPS.length];
    List<AuthorizationRule> rules = List.of(
        AuthorizationRule.newBuilder()
            .setFrom(List.of(RuleFrom.newBuilder().setSource(Source.newBuilder()
                .setPrincipals(List.of("spiffe://lattice.local/ns/" + ns + "/sa/frontend",
                    "spiffe://lattice.local/ns/" + ns + "/sa/gateway"))
                .build()).build()))
            .setTo(List.of(RuleTo.newBuilder().setOperation(Operation.newBuilder()
                .setMethods(List.of("GET", "HEAD")).setPaths(List.of("/api/v1/" + app + "/*", "/healthz"))
                .setPorts(List.of("9080")).build()).build()))
            .build(),
        AuthorizationRule.newBuilder()
            .setFrom(List.of(RuleFrom.newBuilder().setSource(Source.newBuilder()
                .setNamespaces(List.of("ops")).setNotIpBlocks(List.of("10.200.0.0/16")).build()).build()))
            .setTo(List.of(RuleTo.newBuilder().setOperation(Operation.newBuilder()
                .setMethods(List.of("POST", "PUT")).setPaths(List.of("/admin/*")).build()).build()))
            .setWhen(List.of(Condition.newBuilder().setKey("request.headers[x-tenant]")
                .setValues(List.of("acme", "globex")).build()))
            .build(),
        AuthorizationRule.newBuilder()
            .setFrom(List.of(RuleFrom.newBuilder().setSource(Source.newBuilder()
                .setPrincipals(List.of("spiffe://lattice.local/ns/ops/sa/*")).build()).build()))
            .setWhen(List.of(Condition.newBuilder().setKey("source.namespace").setValues(List.of("ops")).build()))
            .build());
    AuthorizationPolicySpec spec = AuthorizationPolicySpec.newBuilder()
        .setSelector(WorkloadSelector.newBuilder().setMatchLabels(Map.of("app", app, "version", "v1")).build())
        .setAction(AuthorizationAction.ALLOW).setRules(rules).build();
    return ResourceEvent.newBuilder()
        .setApiVersion("lattice.dev/v1").setKind("AuthorizationPolicy").setNamespace(ns)
        .setName("allow-" + app + "-" + i).setUid("3f0b6c1e-" + String.format("%04x", i & 0xffff) + "-4a7e-9a51-6b2d8c0e1f2a")
        .setLabels(Map.of("team", app, "tier", "backend"))
        .setAnnotations(Map.of("lattice.dev/owner", "platform@acme.example"))
        .setResourceVersion(1000L + i).setGeneration(1L).setCreationTimestamp(T0)
        .setAuthor("alice@acme.example").setSource(ResourceSource.REST).setSpec(spec)
        .build();
  }

  /** The key of flow {@code i}: the source {@code namespace/workload}. */
  static String flowKey(int i) {
    return NAMESPACES[i % NAMESPACES.length] + "/" + APPS[i % APPS.length] + "-v1";
  }

  /** An inbound HTTP flow over mTLS, forwarded by a policy. */
  static FlowRecord flow(int i) {
    String ns = NAMESPACES[i % NAMESPACES.length];
    String src = APPS[i % APPS.length];
    String dst = APPS[(i + 1) % APPS.length];
    return FlowRecord.newBuilder()
        .setTime(T0.plusNanos(i * 1_000L))
        .setNode("node-" + (i % 3))
        .setDirection(FlowDirection.INBOUND)
        .setSource(FlowEndpoint.newBuilder().setNamespace(ns).setWorkload(src + "-v1")
            .setSpiffeId("spiffe://lattice.local/ns/" + ns + "/sa/" + src)
            .setIp("10.1." + (i % 250) + "." + (i % 200 + 2)).setPort(40_000 + i % 20_000).build())
        .setDestination(FlowEndpoint.newBuilder().setNamespace(ns).setWorkload(dst + "-v1")
            .setSpiffeId("spiffe://lattice.local/ns/" + ns + "/sa/" + dst)
            .setIp("10.2." + (i % 250) + "." + (i % 100 + 2)).setPort(9080).build())
        .setL4Protocol(L4Protocol.TCP)
        .setL7(L7Flow.newBuilder().setHttpMethod("GET").setPath("/api/v1/" + dst + "/" + (i % 1000))
            .setHost(dst + "." + ns + ".svc").setHttpStatus(200).setProtocol("HTTP/2")
            .setRoute(dst + "-default").build())
        .setVerdict(FlowVerdict.FORWARDED)
        .setPolicy("AuthorizationPolicy/" + ns + "/allow-" + dst)
        .setLatencyMicros(800 + i % 5000).setBytesIn(512 + i % 2048).setBytesOut(1024 + i % 8192)
        .setMtls(true)
        .build();
  }
}
