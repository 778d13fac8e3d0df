package dev.lattice.policy.engine;

import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.ResourceParser;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Per-request cost of {@link AuthorizationEngine#evaluate}: nanoseconds and bytes allocated per call, for
 * a workload with a few and with many applicable policies, over a mix of allowed and denied requests
 * (HTTP and TCP). A plain harness (warm-up, then timed rounds on one thread; allocation from
 * {@code com.sun.management.ThreadMXBean}); run with {@code src/bench/run-engine.sh}.
 */
public final class AuthorizationEngineBenchmark {

  public static void main(String[] args) {
    for (int policies : new int[] {5, 50, 500}) {
      run(policies);
    }
  }

  static void run(int policyCount) {
    List<AuthorizationPolicy> policies = policies(policyCount);
    AuthorizationEngine engine = AuthorizationEngine.forWorkload("shop", Map.of("app", "web"), policies);
    RequestContext[] requests = requests();
    long sink = 0;
    long warmEnd = System.nanoTime() + 3_000_000_000L;
    int i = 0;
    while (System.nanoTime() < warmEnd) {
      sink += engine.evaluate(requests[i++ & (requests.length - 1)]).ruleIndex();
    }
    com.sun.management.ThreadMXBean mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long tid = Thread.currentThread().getId();
    double best = Double.MAX_VALUE;
    double worst = 0;
    double bytesPerOp = 0;
    int rounds = 5;
    for (int r = 0; r < rounds; r++) {
      long ops = 0;
      long alloc0 = mx.getThreadAllocatedBytes(tid);
      long t0 = System.nanoTime();
      long end = t0 + 2_000_000_000L;
      while (true) {
        for (int k = 0; k < 1024; k++) {
          sink += engine.evaluate(requests[(int) (ops + k) & (requests.length - 1)]).ruleIndex();
        }
        ops += 1024;
        if (System.nanoTime() >= end) break;
      }
      long t1 = System.nanoTime();
      long alloc1 = mx.getThreadAllocatedBytes(tid);
      double ns = (t1 - t0) / (double) ops;
      best = Math.min(best, ns);
      worst = Math.max(worst, ns);
      bytesPerOp = (alloc1 - alloc0) / (double) ops;
    }
    System.out.printf("policies=%d (applicable=%d, rules=%d): best %.0f ns/op, worst %.0f ns/op, %.1f bytes/op (last round) [sink %d]%n",
        policyCount, engine.policies().size(), policyCount * 3, best, worst, bytesPerOp, sink & 1);
  }

  /** {@code n} policies for app=web in shop: 1/5 DENY, 1/10 AUDIT, 1/10 dry-run DENY, the rest ALLOW; 3 rules each. */
  static List<AuthorizationPolicy> policies(int n) {
    StringBuilder y = new StringBuilder();
    for (int p = 0; p < n; p++) {
      String action = p % 5 == 0 ? "DENY" : p % 10 == 1 ? "AUDIT" : "ALLOW";
      boolean dry = p % 10 == 3;
      y.append("""
          apiVersion: lattice.dev/v1alpha1
          kind: AuthorizationPolicy
          metadata:
            name: p%d
            namespace: shop
            annotations: {lattice.dev/dry-run: "%s"}
          spec:
            selector: {matchLabels: {app: web}}
            action: %s
            rules:
            - from: [{source: {principals: ["lattice.local/ns/team%d/sa/*"]}}]
              to: [{operation: {methods: [GET, HEAD], paths: ["/api/v%d/*", "*.json"]}}]
            - from: [{source: {namespaces: ["ns%d"], notIpBlocks: ["10.%d.0.0/16"]}}]
              to: [{operation: {ports: ["%d"]}}]
            - when:
              - {key: "request.headers[x-tenant]", values: ["tenant-%d"]}
              - {key: source.namespace, notValues: [quarantine]}
          ---
          """.formatted(p, dry, action, p, p, p, p % 250, 8000 + p, p));
    }
    var parsed = ResourceParser.create().parse(y.toString());
    if (!parsed.ok()) throw new IllegalStateException(parsed.errorMessages().toString());
    List<AuthorizationPolicy> out = new ArrayList<>();
    parsed.resources().forEach(r -> out.add((AuthorizationPolicy) r));
    return out;
  }

  /** 64 requests: matching early, late and no rule; HTTP and TCP. */
  static RequestContext[] requests() {
    RequestContext[] out = new RequestContext[64];
    for (int i = 0; i < out.length; i++) {
      int team = (i * 7) % 40;
      RequestContext.Builder b = RequestContext.builder()
          .from("spiffe://lattice.local/ns/team" + team + "/sa/svc" + i)
          .sourceIp("10." + (i % 4) + ".1." + i)
          .port(8000 + (i % 60));
      if (i % 4 != 3) {
        b.method(i % 2 == 0 ? "GET" : "POST").path("/api/v" + team + "/items/" + i).host("web.shop")
            .headers(Map.of("x-tenant", "tenant-" + (i % 50), "user-agent", "bench"));
      }
      out[i] = b.build();
    }
    return out;
  }
}
