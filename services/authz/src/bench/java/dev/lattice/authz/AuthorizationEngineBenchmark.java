package dev.lattice.authz;

import dev.lattice.events.config.AuthorizationConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Cost of one authorization decision for a workload with N applicable policies (3 rules each): the rule
 * index ({@link AuthorizationEngine#of}) against the linear scan it replaced ({@link
 * AuthorizationEngine#linear}), in the same run, over two rule mixes:
 * <ul>
 *   <li>{@code mixed} — 1/5 DENY, 1/10 AUDIT, 1/10 dry-run, the rest ALLOW, mixing exact and wildcard
 *       principals, namespaces, path prefixes/suffixes/templates, methods, ports and header conditions; 64
 *       rotating requests (3/4 HTTP, 1/4 TCP) that match early, late or not at all;
 *   <li>{@code exact} — one DENY on a path prefix, then ALLOW policies whose rules are keyed by an exact
 *       principal, exact/prefix paths or a port, no AUDIT or dry-run; 4 requests: allowed, denied, no ALLOW
 *       match, TCP allowed by port (the steady state allocates nothing).
 * </ul>
 * Run with {@code services/authz/src/bench/run.sh} (adds {@code -prof gc} for bytes per operation).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xmx512m", "-XX:+UseSerialGC"})
public class AuthorizationEngineBenchmark {

  @Param({"5", "50", "500"})
  public int policies;

  @Param({"index", "linear"})
  public String engine;

  @Param({"mixed", "exact"})
  public String mix;

  private AuthorizationEngine evaluator;
  private AuthzRequest[] requests;
  private int next;

  @Setup(Level.Trial)
  public void setUp() {
    boolean exact = mix.equals("exact");
    AuthorizationConfig config = PolicyText.config(exact ? exactPolicyText(policies) : policyText(policies));
    evaluator = engine.equals("index") ? AuthorizationEngine.of(config) : AuthorizationEngine.linear(config);
    requests = exact ? exactRequests(policies) : requests(policies);
  }

  @Benchmark
  public Decision evaluate() {
    AuthzRequest r = requests[next];
    next = (next + 1) & 63;
    return evaluator.evaluate(r);
  }

  static String exactPolicyText(int n) {
    StringBuilder p = new StringBuilder("DENY shop/deny-admin: to.paths=/admin/* to.ports=8080");
    for (int i = 0; i < n; i++) {
      p.append(" ;; ALLOW shop/p").append(String.format("%03d", i))
          .append(": from.principals=lattice.local/ns/shop/sa/client").append(i).append(" to.methods=GET,HEAD")
          .append(" | to.paths=/api/v").append(i).append("/*,/static/").append(i).append(" to.methods=GET")
          .append(" | to.ports=").append(9000 + i);
    }
    return p.toString();
  }

  /** Allowed, denied (DENY match), no ALLOW match, TCP allowed by port — repeated to fill the 64-slot ring. */
  static AuthzRequest[] exactRequests(int n) {
    int mid = n / 2;
    AuthzRequest[] shapes = {
        SimpleRequest.builder().from("lattice.local/ns/shop/sa/client" + mid).method("GET")
            .path("/api/v" + mid + "/items").port(8080).build(),
        SimpleRequest.builder().from("lattice.local/ns/shop/sa/client" + mid).method("GET")
            .path("/admin/users").port(8080).build(),
        SimpleRequest.builder().from("lattice.local/ns/other/sa/nobody").method("PUT")
            .path("/nothing/here").port(8080).build(),
        SimpleRequest.builder().from("lattice.local/ns/shop/sa/batch").port(9000 + mid).build(),
    };
    AuthorizationEngine check = AuthorizationEngine.of(PolicyText.config(exactPolicyText(n)));
    boolean[] allowed = {true, false, false, true};
    for (int i = 0; i < shapes.length; i++) {
      if (check.evaluate(shapes[i]).allowed() != allowed[i]) {
        throw new IllegalStateException("benchmark request " + i + " does not decide as intended");
      }
    }
    AuthzRequest[] out = new AuthzRequest[64];
    for (int k = 0; k < 64; k++) out[k] = shapes[k & 3];
    return out;
  }

  static String policyText(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String action = i % 5 == 0 ? "DENY" : i % 10 == 1 ? "AUDIT" : "ALLOW";
      String dry = i % 10 == 3 ? " dry" : "";
      String caller = "lattice.local/ns/team" + (i % 40) + "/sa/svc" + i;
      String r1 = action.equals("DENY")
          ? "to.paths=/internal/" + i + "/*,*/debug" + i + " to.methods=DELETE,PUT"
          : "from.principals=" + caller + ",lattice.local/ns/team" + (i % 40) + "/sa/*" + " to.paths=/api/v" + (i % 7)
              + "/items" + i + "/*,/api/{*}/svc" + i + " to.methods=GET,HEAD";
      String r2 = "from.namespaces=team" + (i % 40) + " to.ports=" + (8000 + i % 50) + " to.methods=POST";
      String r3 = "from.principals=lattice.local/ns/ops/sa/admin" + i + " when.request.headers[x-tenant]=t" + i
          + " from.notIpBlocks=192.168.0.0/16";
      out.add(action + " shop/p" + i + dry + ": " + r1 + " | " + r2 + " | " + r3);
    }
    return String.join(" ;; ", out);
  }

  static AuthzRequest[] requests(int n) {
    AuthzRequest[] out = new AuthzRequest[64];
    for (int k = 0; k < 64; k++) {
      int i = (k * 7919) % Math.max(n, 1); // spread over early and late policies
      SimpleRequest.Builder b = SimpleRequest.builder().sourceIp(k % 3 == 0 ? "192.168.1.2" : "10.0.0.9")
          .port(8000 + (k % 50));
      switch (k % 4) {
        case 0 -> b.from("lattice.local/ns/team" + (i % 40) + "/sa/svc" + i).method("GET")
            .authority("shop.svc:8080").path("/api/v" + (i % 7) + "/items" + i + "/42");
        case 1 -> b.from("lattice.local/ns/nobody/sa/x" + k).method("GET").authority("shop.svc:8080")
            .path("/api/v1/none/" + k);
        case 2 -> b.from("lattice.local/ns/team" + (i % 40) + "/sa/other").method("POST")
            .authority("shop.svc:8080").path("/orders/" + k).header("x-tenant", "t" + i);
        default -> b.from(k % 8 == 3 ? null : "lattice.local/ns/ops/sa/admin" + i); // TCP connection
      }
      out[k] = b.build();
    }
    return out;
  }
}
