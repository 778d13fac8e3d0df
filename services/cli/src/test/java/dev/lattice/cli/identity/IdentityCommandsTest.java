package dev.lattice.cli.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.cli.CliRun;
import dev.lattice.identity.IdentityService;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code lattice token|entry …} run in-process against a real IdentityService (real HTTP, real broker). */
@LatticeKafkaTest
class IdentityCommandsTest {
  private static ServiceLauncher launcher;
  private static RunningService identity;
  /** The service's data dir, which holds its admin.token: the CLI finds the token there by itself. */
  private static Path serviceData;

  @TempDir Path dir;

  @BeforeAll
  static void start(KafkaCluster cluster, @TempDir Path data) throws Exception {
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("identity.http.port", "0");
    cfg.put("identity.signing.port", "0");
    cfg.put("identity.bundle.endpoint.port", "0");
    serviceData = data;
    cfg.put("data.dir", data.toString());
    cfg.put("identity.data.dir", data.resolve("identity").toString());
    cfg.put("identity.topics.entries", cluster.uniqueTopic("cli-entries"));
    cfg.put("identity.topics.bundles", cluster.uniqueTopic("cli-bundles"));
    cfg.put("identity.topics.audit", cluster.uniqueTopic("cli-audit"));
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    identity = launcher.start(new IdentityService()).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    CliRun.awaitReady(identity);
  }

  @AfterAll
  static void stop() throws Exception {
    launcher.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  CliRun lattice(String... args) {
    return CliRun.of(Map.of("LATTICE_IDENTITY_URL", identity.baseUrl().toString()), serviceData, args);
  }

  @Test
  void withoutTheAdminTokenWritesAreRefusedWithAHint() {
    Map<String, String> env = Map.of("LATTICE_IDENTITY_URL", identity.baseUrl().toString());
    CliRun anonymous = CliRun.of(env, dir.resolve("elsewhere"), "token", "create");
    assertThat(anonymous.exit()).isEqualTo(1);
    assertThat(anonymous.err()).contains("Error from server (Unauthorized)", "needs the admin credential",
        "no admin token was sent", "<data-dir>/admin.token");
    CliRun wrong = CliRun.of(Map.of("LATTICE_IDENTITY_URL", identity.baseUrl().toString(), "LATTICE_ADMIN_TOKEN", "lat_wrong"),
        serviceData, "token", "create");
    assertThat(wrong.exit()).isEqualTo(1);
    assertThat(wrong.err()).contains("Error from server (Forbidden)").doesNotContain("lat_wrong");
    CliRun fromFile = CliRun.of(Map.of("LATTICE_IDENTITY_URL", identity.baseUrl().toString(),
        "LATTICE_ADMIN_TOKEN_FILE", serviceData.resolve("admin.token").toString()), dir.resolve("elsewhere"), "token", "create");
    assertThat(fromFile.exit()).as(fromFile.err()).isZero();
    assertThat(lattice("entry", "list").exit()).as("reads need no token").isZero();
  }

  @Test
  void tokenThenEntryCreateListDelete() {
    CliRun token = lattice("token", "create", "--ttl", "10m");
    assertThat(token.exit()).as(token.err()).isZero();
    Matcher node = Pattern.compile("node:\\s+(spiffe://\\S+)").matcher(token.out());
    assertThat(node.find()).as(token.out()).isTrue();

    CliRun created = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/default/sa/web",
        "--parent-id", node.group(1), "--selector", "unix:uid:1000", "--dns-name", "web.default.svc");
    assertThat(created.exit()).as(created.err()).isZero();
    Matcher id = Pattern.compile("entry/(\\S+) created").matcher(created.out());
    assertThat(id.find()).as(created.out()).isTrue();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(lattice("entry", "list").out()).contains(id.group(1), "spiffe://lattice.local/ns/default/sa/web", "unix:uid:1000"));

    CliRun bad = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/x/", "--parent-id", node.group(1),
        "--selector", "unix:uid:1");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("Error from server (BadRequest)").contains("trailing slash");

    CliRun deleted = lattice("entry", "delete", id.group(1));
    assertThat(deleted.exit()).as(deleted.err()).isZero();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lattice("entry", "list").out()).doesNotContain(id.group(1)));
    assertThat(lattice("entry", "delete", "no-such-id").err()).contains("NotFound");
  }

  @Test
  void tokenForAFixedNodeIdAndAnEntryWithAHint() {
    CliRun token = lattice("token", "create", "--ttl", "10m", "--node-id", "cli-node");
    assertThat(token.exit()).as(token.err()).isZero();
    assertThat(token.out()).contains("node:      spiffe://lattice.local/lattice/node/cli-node");
    CliRun again = lattice("token", "create", "--node-id", "cli-node");
    assertThat(again.exit()).as(again.err()).isZero();
    assertThat(again.out()).contains("spiffe://lattice.local/lattice/node/cli-node");
    CliRun bad = lattice("token", "create", "--node-id", "jt-mine");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("BadRequest").contains("nodeId: 'jt-mine'");

    CliRun created = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/default/sa/hinted",
        "--parent-id", "spiffe://lattice.local/lattice/node/cli-node", "--selector", "unix:uid:1001", "--hint", "external");
    assertThat(created.exit()).as(created.err()).isZero();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(lattice("entry", "list", "-o", "json").out()).contains("\"hint\" : \"external\""));
  }

  @Test
  void anEntryOthersHangFromIsDeletedOnlyWithCascade() {
    assertThat(lattice("token", "create", "--node-id", "cli-cascade").exit()).isZero();
    String api = createdId(lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/shop/sa/api",
        "--parent-id", "spiffe://lattice.local/lattice/node/cli-cascade", "--selector", "unix:uid:3001"));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lattice("entry", "list").out()).contains(api));
    String worker = createdId(lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/shop/sa/worker",
        "--parent-id", "spiffe://lattice.local/ns/shop/sa/api", "--selector", "unix:uid:3002"));
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lattice("entry", "list").out()).contains(worker));

    CliRun refused = lattice("entry", "delete", api);
    assertThat(refused.exit()).isEqualTo(1);
    assertThat(refused.err()).contains("Error from server (Conflict)", "is the parent of 1 entry", worker, "--cascade");
    assertThat(lattice("entry", "list").out()).contains(api, worker);

    CliRun cascaded = lattice("entry", "delete", api, "--cascade");
    assertThat(cascaded.exit()).as(cascaded.err()).isZero();
    assertThat(cascaded.out()).contains("entry/" + worker + " deleted", "entry/" + api + " deleted");
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lattice("entry", "list").out()).doesNotContain(api, worker));

    assertThat(lattice("token", "delete", "cli-cascade").exit()).isZero();
    CliRun none = lattice("token", "delete", "cli-cascade");
    assertThat(none.exit()).isEqualTo(1);
    assertThat(none.err()).contains("NotFound", "no unused token");
  }

  static String createdId(CliRun created) {
    assertThat(created.exit()).as(created.err()).isZero();
    Matcher id = Pattern.compile("entry/(\\S+) created").matcher(created.out());
    assertThat(id.find()).as(created.out()).isTrue();
    return id.group(1);
  }
}
