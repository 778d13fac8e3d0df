package dev.lattice.cli.policy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.cli.CliRun;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.policy.PolicyService;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The policy subcommands, run in-process against a real PolicyService (real HTTP, real broker). */
@LatticeKafkaTest
class PolicyCommandsTest {
  private static ServiceLauncher launcher;
  private static RunningService policy;
  private static Path adminToken;

  @TempDir Path dir;

  @BeforeAll
  static void start(KafkaCluster cluster) throws Exception {
    String resources = cluster.createTopic(cluster.uniqueTopic("cli-resources"), 1, Map.of("cleanup.policy", "compact"));
    String registry = cluster.createTopic(cluster.uniqueTopic("cli-registry"), 1, Map.of("cleanup.policy", "compact"));
    String rejected = cluster.createTopic(cluster.uniqueTopic("cli-rejected"), 1, Map.of());
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("policy.http.port", "0");
    cfg.put("policy.topics.resources", resources);
    cfg.put("policy.topics.registry", registry);
    cfg.put("policy.topics.rejected", rejected);
    cfg.put("policy.door.group", cluster.uniqueTopic("cli-door"));
    cfg.put("policy.compiler.enabled", "false");
    adminToken = Files.createTempDirectory("cli-policy-admin").resolve("admin.token");
    cfg.put("admin.token.file", adminToken.toString());
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    policy = launcher.start(new PolicyService()).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    CliRun.awaitReady(policy);
  }

  @AfterAll
  static void stop() throws Exception {
    launcher.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  CliRun lattice(String... args) {
    return CliRun.of(Map.of("LATTICE_POLICY_URL", policy.baseUrl().toString(),
        "LATTICE_ADMIN_TOKEN_FILE", adminToken.toString()), dir.resolve("data"), args);
  }

  Path file(String name, String content) throws Exception {
    Path p = dir.resolve(name);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content);
    return p;
  }

  static String route(String ns, String name, int w1, int w2) {
    return """
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata: {name: %s, namespace: %s, labels: {app: web}}
        spec:
          hosts: [web]
          http:
          - route:
            - destination: {host: web}
              weight: %d
            - destination: {host: web-canary}
              weight: %d
        """.formatted(name, ns, w1, w2);
  }

  @Test
  void applyGetDiffDelete() throws Exception {
    Path f = file("route.yaml", route("cli", "checkout", 90, 10));
    CliRun applied = lattice("apply", "-f", f.toString());
    assertThat(applied.exit()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("trafficroute/checkout created");
    assertThat(lattice("apply", "-f", f.toString()).out()).contains("trafficroute/checkout unchanged");

    CliRun table = lattice("get", "trafficroutes", "-n", "cli");
    assertThat(table.exit()).isZero();
    assertThat(table.out()).contains("NAME").contains("checkout").contains("TrafficRoute");
    CliRun yaml = lattice("get", "tr", "checkout", "-n", "cli", "-o", "yaml");
    assertThat(ResourceParser.create().parseOne(yaml.out()).ok()).as(yaml.out()).isTrue();
    assertThat(lattice("get", "tr", "checkout", "-n", "cli", "-o", "json").out()).contains("\"kind\" : \"TrafficRoute\"");
    assertThat(lattice("get", "tr", "-n", "cli", "-l", "app=other").err()).contains("No resources found in cli namespace.");
    CliRun missing = lattice("get", "tr", "nope", "-n", "cli");
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("Error from server (NotFound): tr \"nope\" not found");
    assertThat(lattice("get", "tr", "-o", "xml").exit()).isEqualTo(2);

    Path changed = file("changed.yaml", route("cli", "checkout", 70, 30));
    CliRun diff = lattice("diff", "-f", changed.toString());
    assertThat(diff.exit()).as(diff.err()).isEqualTo(1);
    assertThat(diff.out()).contains("diff TrafficRoute/cli/checkout (configured)").contains("-       weight: 90").contains("+       weight: 70");
    assertThat(lattice("diff", "-f", f.toString()).exit()).isZero();

    CliRun deleted = lattice("delete", "trafficroute", "checkout", "-n", "cli");
    assertThat(deleted.exit()).isZero();
    assertThat(deleted.out()).contains("trafficroute \"checkout\" deleted");
    CliRun again = lattice("delete", "trafficroute", "checkout", "-n", "cli");
    assertThat(again.exit()).isEqualTo(1);
    assertThat(again.err()).contains("NotFound");
    assertThat(lattice("delete", "trafficroute", "checkout", "-n", "cli", "--ignore-not-found").exit()).isZero();
  }

  @Test
  void applyDirectoryAndDeleteByFile() throws Exception {
    file("many/a.yaml", route("dir", "a", 50, 50));
    file("many/b.yml", route("dir", "b", 100, 0));
    file("many/notes.txt", "ignored");
    CliRun applied = lattice("apply", "-f", dir.resolve("many").toString());
    assertThat(applied.exit()).as(applied.err()).isZero();
    assertThat(applied.out()).contains("trafficroute/a created").contains("trafficroute/b created");
    CliRun deleted = lattice("delete", "-f", dir.resolve("many").toString());
    assertThat(deleted.out()).contains("trafficroute \"a\" deleted").contains("trafficroute \"b\" deleted");
  }

  @Test
  void badInputExitsNonZeroWithTheMessageAndLine() throws Exception {
    Path malformed = file("bad.yaml", "apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata:\n  name: [x\n");
    CliRun r = lattice("apply", "-f", malformed.toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("error: " + malformed).contains("line ").contains("malformed YAML");

    Path weights = file("weights.yaml", route("cli", "w", 90, 20));
    CliRun w = lattice("apply", "-f", weights.toString());
    assertThat(w.exit()).isEqualTo(1);
    assertThat(w.err()).contains("spec.http[0].route: weights sum to 110 (90 + 20) (expected: 100)");

    Path multi = file("multi.yaml", route("cli", "ok", 50, 50) + "---\n" + route("cli", "w2", 100, 0).replace("weight: 100", "weight: 101"));
    CliRun m = lattice("apply", "-f", multi.toString());
    assertThat(m.exit()).isEqualTo(1);
    assertThat(m.err()).contains("document 2 (line 13)").contains("spec.http[0].route[0].weight: 101 (expected: 0..100)");

    CliRun missing = lattice("apply", "-f", dir.resolve("nope.yaml").toString());
    assertThat(missing.exit()).isEqualTo(1);
    assertThat(missing.err()).contains("does not exist");
    assertThat(lattice("apply").exit()).isEqualTo(2);
  }

  @Test
  void explainExitsLikeCanI() throws Exception {
    Path p = file("authz.yaml", """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata: {name: only-shop, namespace: vault}
        spec:
          rules:
          - from: [{source: {namespaces: [shop]}}]
            to: [{operation: {methods: [GET]}}]
        """);
    assertThat(lattice("apply", "-f", p.toString()).exit()).isZero();
    CliRun allow = lattice("explain", "--from", "spiffe://lattice.local/ns/shop/sa/web", "--to", "secrets.vault", "-X", "GET", "--path", "/k");
    assertThat(allow.exit()).as(allow.err()).isZero();
    assertThat(allow.out()).startsWith("ALLOW").contains("allowed by ALLOW policy vault/only-shop rule 0");
    CliRun deny = lattice("explain", "--from", "spiffe://lattice.local/ns/web/sa/x", "--to", "secrets.vault", "-X", "GET");
    assertThat(deny.exit()).isEqualTo(1);
    assertThat(deny.out()).startsWith("DENY").contains("none matched");
    CliRun bad = lattice("explain", "--from", "spiffe://UPPER/x", "--to", "secrets.vault");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("from: ").contains("trust domain");
  }
}
