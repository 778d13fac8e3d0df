package dev.lattice.policy.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.Decision;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.CompiledAuthorizationPolicy;
import dev.lattice.policy.compiler.CompilerTopics;
import dev.lattice.policy.compiler.InboundCompiler;
import dev.lattice.policy.explain.Explainer;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

/**
 * Property: for random AuthorizationPolicies applied through the REST API and random requests, {@code
 * POST /v1/explain} and lattice-authz on the table the running compiler published to the config topic give
 * the same verdict, reason, deciding policy and rule, and dry-run outcome. Real broker, real compiler
 * topology, real HTTP; a fixed seed per round keeps failures reproducible.
 */
@LatticeKafkaTest
class ExplainAgreesWithCompiledConfigTest {

  private static final String TABLE_KEY = "node-a/AUTHORIZATION/" + InboundCompiler.inboundName("vault/ledger/vm-1");
  private static final List<String> PRINCIPALS = List.of("lattice.local/ns/shop/sa/web", "lattice.local/ns/shop/sa/cart",
      "lattice.local/ns/ops/sa/admin", "lattice.local/ns/vault/sa/ledger");
  private static final List<String> NAMESPACES = List.of("shop", "ops", "vault");
  private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT");
  private static final List<String> PATH_PATTERNS = List.of("/accounts/*", "/admin", "*/export", "/accounts/{*}/balance", "/health");
  private static final List<String> PATHS = List.of("/accounts/7", "/accounts/7/balance", "/admin", "/admin/../accounts/1",
      "/reports/export", "/health", "/%61dmin", "/accounts//7", "/a%zz");

  @Test
  void explainThroughTheApiDecidesAsTheEngineOnTheCompiledTable(KafkaCluster cluster) throws Exception {
    String configTopic = cluster.createTopic(cluster.uniqueTopic("config"), 1, Map.of("cleanup.policy", "compact"));
    Map<String, String> extra = Map.of(
        "policy.compiler.enabled", "true",
        "policy.topics.config", configTopic,
        "policy.compiler.application.id", cluster.uniqueTopic("compiler"),
        "kafka.streams.state.dir", Files.createTempDirectory("explain-prop").toString(),
        "kafka.streams.commit.interval.ms", "50");
    try (PolicyServiceHarness h = new PolicyServiceHarness(cluster, extra);
        KafkaConsumer<String, byte[]> config = new KafkaConsumer<>(cluster.consumerProps(cluster.uniqueTopic("reader")),
            new StringDeserializer(), new ByteArrayDeserializer())) {
      register(h);
      config.subscribe(List.of(configTopic));
      Map<String, AuthorizationConfig> latest = new HashMap<>();
      int compared = 0;
      Set<String> reasons = new TreeSet<>();
      for (int round = 0; round < 3; round++) {
        Random random = new Random(7_000 + round);
        Set<String> names = new TreeSet<>();
        Set<String> all = new TreeSet<>();
        StringBuilder yaml = new StringBuilder();
        int count = 4 + random.nextInt(5);
        for (int i = 0; i < count; i++) {
          String name = "r" + round + "-p" + i;
          String policy = policy(random, name);
          all.add("vault/" + name);
          if (!policy.contains("app: other")) names.add("vault/" + name); // the others do not select the ledger
          yaml.append(policy).append("---\n");
        }
        HttpResponse<String> applied = h.send("POST", "/v1/resources", yaml.toString());
        assertThat(applied.statusCode()).as(applied.body()).isBetween(200, 201);

        AuthorizationConfig table = awaitTable(config, latest, names);
        AuthorizationEngine engine = AuthorizationEngine.of(table);
        for (int i = 0; i < 120; i++) {
          Explainer.Request request = request(random);
          JsonObject body = new JsonObject().put("to", "ledger.vault").put("port", request.port());
          if (request.from() != null) body.put("from", "spiffe://" + request.from());
          if (request.method() != null) body.put("method", request.method()).put("path", request.path());
          HttpResponse<String> answer = h.send("POST", "/v1/explain", body.encode(), "application/json");
          assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
          JsonObject decision = new JsonObject(answer.body()).getJsonArray("decisions").getJsonObject(0);
          Decision expected = Explainer.authorize(engine, new Explainer.Request(
              request.from() == null ? null : "spiffe://" + request.from(), null, "ledger.vault", request.port(),
              request.method(), request.path(), Map.of()));
          assertThat(render(decision)).as("round %d, %s, policies %s", round, body.encode(), names)
              .isEqualTo(render(expected));
          compared++;
          reasons.add(expected.reason().code() + (expected.dryRun() != null ? "+dry-run" : "")
              + (expected.audits().isEmpty() ? "" : "+audit"));
        }
        // the next round replaces this round's policies: delete them
        for (String n : all) {
          assertThat(h.send("DELETE", "/v1/resources/authorizationpolicy/" + n, null).statusCode()).isBetween(200, 204);
        }
      }
      assertThat(compared).isEqualTo(360);
      // the random cases reach every kind of outcome, not just the default allow
      assertThat(String.join(" ", reasons)).contains("allow_matched", "deny_matched", "no_allow_match",
          "rejected_before_authz", "dry-run", "audit");
    }
  }

  private static void register(PolicyServiceHarness h) throws Exception {
    HttpResponse<String> registered = h.send("PUT", "/v1/registry/vault/ledger/vm-1", new JsonObject()
        .put("services", new JsonArray().add("ledger")).put("address", "10.9.0.5")
        .put("node", "node-a").put("serviceAccount", "ledger").put("labels", new JsonObject().put("app", "ledger"))
        .put("ports", new JsonArray().add(new JsonObject().put("name", "http").put("port", 8080)
            .put("targetPort", 8080).put("protocol", "HTTP"))).encode(), "application/json");
    assertThat(registered.statusCode()).as(registered.body()).isBetween(200, 204);
  }

  /** The table once the compiler has published exactly {@code names}. */
  private static AuthorizationConfig awaitTable(KafkaConsumer<String, byte[]> consumer,
      Map<String, AuthorizationConfig> latest, Set<String> names) {
    var serde = CompilerTopics.standard().config().valueSerde();
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> {
      for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
        if (!TABLE_KEY.equals(r.key()) || r.value() == null) continue;
        ConfigResource value = serde.deserializer().deserialize(r.topic(), r.value());
        latest.put(TABLE_KEY, (AuthorizationConfig) value.getPayload());
      }
      AuthorizationConfig t = latest.get(TABLE_KEY);
      if (t == null) return false;
      Set<String> got = new TreeSet<>();
      for (CompiledAuthorizationPolicy p : t.getPolicies()) got.add(p.getNamespace() + "/" + p.getName());
      return got.equals(names);
    });
    return latest.get(TABLE_KEY);
  }

  private static String policy(Random r, String name) {
    String action = List.of("ALLOW", "ALLOW", "DENY", "AUDIT").get(r.nextInt(4));
    StringBuilder b = new StringBuilder("apiVersion: lattice.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata:\n")
        .append("  name: ").append(name).append("\n  namespace: vault\n");
    if (r.nextInt(3) == 0) b.append("  annotations: {lattice.dev/dry-run: \"true\"}\n");
    b.append("spec:\n");
    int selector = r.nextInt(3);
    if (selector == 1) b.append("  selector: {matchLabels: {app: ledger}}\n");
    if (selector == 2) b.append("  selector: {matchLabels: {app: other}}\n");
    b.append("  action: ").append(action).append('\n');
    int rules = r.nextInt(3); // 0 = no rules: ALLOW matches nothing, DENY nothing
    if (rules == 0 && r.nextBoolean()) return b.toString();
    b.append("  rules:\n");
    for (int i = 0; i < Math.max(1, rules); i++) {
      b.append("  -");
      List<String> parts = new ArrayList<>();
      if (r.nextBoolean()) {
        parts.add(r.nextBoolean()
            ? "from: [{source: {principals: [\"" + pick(r, PRINCIPALS) + "\"]}}]"
            : "from: [{source: {" + (r.nextBoolean() ? "namespaces" : "notNamespaces") + ": [" + pick(r, NAMESPACES) + "]}}]");
      }
      if (r.nextBoolean()) {
        List<String> op = new ArrayList<>();
        if (r.nextBoolean()) op.add("methods: [" + pick(r, METHODS) + "]");
        if (r.nextBoolean()) op.add((r.nextInt(4) == 0 ? "notPaths" : "paths") + ": [\"" + pick(r, PATH_PATTERNS) + "\"]");
        if (r.nextInt(4) == 0) op.add("ports: [\"" + (r.nextBoolean() ? 8080 : 9090) + "\"]");
        if (!op.isEmpty()) parts.add("to: [{operation: {" + String.join(", ", op) + "}}]");
      }
      b.append(parts.isEmpty() ? " {}\n" : " {" + String.join(", ", parts) + "}\n");
    }
    return b.toString();
  }

  private static Explainer.Request request(Random r) {
    String from = r.nextInt(6) == 0 ? null : pick(r, PRINCIPALS);
    int port = r.nextInt(5) == 0 ? 9090 : 8080;
    if (r.nextInt(8) == 0) return new Explainer.Request(from, null, null, port, null, null, Map.of()); // TCP
    return new Explainer.Request(from, null, null, port, pick(r, METHODS), pick(r, PATHS), Map.of());
  }

  private static String pick(Random r, List<String> values) {
    return values.get(r.nextInt(values.size()));
  }

  private static String render(JsonObject d) {
    JsonObject dry = d.getJsonObject("dryRun");
    return d.getString("verdict") + " " + d.getString("reason") + " " + d.getString("policy") + "#" + d.getValue("rule")
        + " dry=" + (dry == null ? "-" : dry.getString("verdict") + ":" + dry.getString("reason") + ":"
            + dry.getString("policy") + "#" + dry.getValue("rule"))
        + " audits=" + d.getJsonArray("audits").encode();
  }

  private static String render(Decision d) {
    Decision.Outcome dry = d.dryRun();
    return d.verdict() + " " + d.reason().code() + " " + d.policyName() + "#" + (d.ruleIndex() < 0 ? null : d.ruleIndex())
        + " dry=" + (dry == null ? "-" : dry.verdict() + ":" + dry.reason().code() + ":"
            + (dry.policy() == null ? null : dry.policy().toString()) + "#" + (dry.ruleIndex() < 0 ? null : dry.ruleIndex()))
        + " audits=" + new JsonArray(d.audits().stream().map(Decision.Match::toString).toList()).encode();
  }
}
