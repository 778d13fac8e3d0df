package dev.lattice.authz;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.config.AuthorizationConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The rule index never changes an answer: for random policies (principals, namespaces, paths, ports,
 * methods, headers, negations, dry-run, AUDIT) and random requests (HTTP and TCP, mTLS and plaintext),
 * the indexed engine and the linear scan decide alike, deciding policy, rule and shadows included.
 * Seeded, so a failure reproduces.
 */
class IndexDifferentialTest {

  private static final String[] PRINCIPALS = {"lattice.local/ns/shop/sa/web", "lattice.local/ns/shop/sa/cart",
      "lattice.local/ns/ops/sa/admin", "lattice.local/ns/shop/*", "*/sa/web", "*",
      "spiffe://lattice.local/ns/ops/*", "lattice.local/ns/sh*", "other.example/ns/shop/*"}; // namespace-filed prefixes and not
  private static final String[] NAMESPACES = {"shop", "ops", "sh*", "*"};
  private static final String[] PATHS = {"/", "/api/*", "/api/items", "/admin*", "*.png", "/api/{*}/x", "/files/{**}", "*",
      "/{*}/reports/export.csv", "/files/{**}/archive.zip"}; // the last two are filed by their tail
  private static final String[] PORTS = {"8080", "9090", "5432"};
  private static final String[] METHODS = {"GET", "POST", "DELETE"};
  private static final String[] ACTIONS = {"ALLOW", "ALLOW", "DENY", "AUDIT"};

  @Test
  void indexAndLinearScanDecideAlike() {
    Random random = new Random(20261202);
    int checked = 0;
    for (int config = 0; config < 300; config++) {
      AuthorizationConfig c = PolicyText.config(randomPolicies(random));
      AuthorizationEngine indexed = AuthorizationEngine.of(c);
      AuthorizationEngine linear = AuthorizationEngine.linear(c);
      for (int req = 0; req < 60; req++) {
        AuthzRequest r = randomRequest(random);
        assertThat(AuthorizationSemanticsTest.render(indexed.evaluate(r)))
            .as("config %s, request %s", c.getPolicies(), r)
            .isEqualTo(AuthorizationSemanticsTest.render(linear.evaluate(r)));
        checked++;
      }
    }
    assertThat(checked).isEqualTo(18_000);
  }

  private static String randomPolicies(Random random) {
    int n = 1 + random.nextInt(8);
    List<String> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StringBuilder p = new StringBuilder(pick(random, ACTIONS)).append(" ns").append(random.nextInt(3)).append("/p").append(i);
      if (random.nextInt(5) == 0) p.append(" dry");
      int rules = random.nextInt(4);
      if (rules > 0) {
        p.append(':');
        for (int r = 0; r < rules; r++) p.append(r == 0 ? " " : " | ").append(randomRule(random));
      }
      out.add(p.toString());
    }
    return String.join(" ;; ", out);
  }

  private static String randomRule(Random random) {
    List<String> tokens = new ArrayList<>();
    if (random.nextBoolean()) tokens.add("from.principals=" + pick(random, PRINCIPALS) + (random.nextBoolean() ? "," + pick(random, PRINCIPALS) : ""));
    if (random.nextInt(4) == 0) tokens.add("from#1.namespaces=" + pick(random, NAMESPACES));
    if (random.nextInt(5) == 0) tokens.add("from.notNamespaces=" + pick(random, NAMESPACES));
    if (random.nextBoolean()) tokens.add("to.paths=" + pick(random, PATHS) + (random.nextBoolean() ? "," + pick(random, PATHS) : ""));
    if (random.nextInt(3) == 0) tokens.add("to.ports=" + pick(random, PORTS));
    if (random.nextInt(3) == 0) tokens.add("to.methods=" + pick(random, METHODS));
    if (random.nextInt(4) == 0) tokens.add("to#1.ports=" + pick(random, PORTS));
    if (random.nextInt(5) == 0) tokens.add("to.notPaths=" + pick(random, PATHS));
    if (random.nextInt(5) == 0) tokens.add("when.request.headers[x-a]=" + (random.nextBoolean() ? "1" : "*"));
    if (random.nextInt(6) == 0) tokens.add("when.source.ip!=10.0.0.0/8");
    return tokens.isEmpty() ? "{}" : String.join(" ", tokens);
  }

  private static AuthzRequest randomRequest(Random random) {
    SimpleRequest.Builder b = SimpleRequest.builder()
        .sourceIp(random.nextBoolean() ? "10.0.0.9" : "192.168.1.2")
        .port(Integer.parseInt(pick(random, PORTS)));
    if (random.nextInt(4) != 0) {
      String[] peers = {"lattice.local/ns/shop/sa/web", "lattice.local/ns/shop/sa/cart", "lattice.local/ns/ops/sa/admin",
          "other.example/ns/shop/sa/web", "lattice.local/ns/shopping/sa/web", "lattice.local/x/ns/shop/sa/web"};
      b.from(pick(random, peers));
    }
    if (random.nextInt(5) != 0) {
      String[] paths = {"/", "/api/items", "/api/v1/x", "/api/other", "/admin", "/adminx", "/img/a.png", "/files/a/b",
          "/v2/reports/export.csv", "/v2/x/reports/export.csv", "/files/a/archive.zip", "/files/archive.zip"};
      b.method(pick(random, METHODS)).path(pick(random, paths));
      if (random.nextBoolean()) b.header("x-a", random.nextBoolean() ? "1" : "2");
    }
    return b.build();
  }

  private static String pick(Random random, String[] from) {
    return from[random.nextInt(from.length)];
  }
}
