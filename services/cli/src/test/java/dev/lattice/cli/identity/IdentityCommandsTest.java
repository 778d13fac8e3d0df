package dev.lattice.cli.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.cli.LatticeCli;
import dev.lattice.identity.IdentityService;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceLauncher;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
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
import picocli.CommandLine;

/** {@code lattice token|entry …} run in-process against a real IdentityService (real HTTP, real broker). */
@LatticeKafkaTest
class IdentityCommandsTest {
  private static ServiceLauncher launcher;
  private static RunningService identity;

  @TempDir Path dir;

  record Run(int exit, String out, String err) {}

  @BeforeAll
  static void start(KafkaCluster cluster, @TempDir Path data) throws Exception {
    Map<String, String> cfg = new HashMap<>();
    cfg.put("kafka.bootstrap.servers", cluster.bootstrapServers());
    cfg.put("identity.http.port", "0");
    cfg.put("identity.signing.port", "0");
    cfg.put("identity.bundle.endpoint.port", "0");
    cfg.put("identity.data.dir", data.resolve("identity").toString());
    cfg.put("identity.topics.entries", cluster.uniqueTopic("cli-entries"));
    cfg.put("identity.topics.bundles", cluster.uniqueTopic("cli-bundles"));
    cfg.put("identity.topics.audit", cluster.uniqueTopic("cli-audit"));
    launcher = ServiceLauncher.create(LatticeConfig.of(cfg));
    identity = launcher.start(new IdentityService()).toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
    HttpClient http = HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(60)).until(() -> http.send(HttpRequest.newBuilder(identity.url("/readyz")).build(),
        HttpResponse.BodyHandlers.ofString()).statusCode() == 200);
  }

  @AfterAll
  static void stop() throws Exception {
    launcher.stop().toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  Run lattice(String... args) {
    LatticeCli root = new LatticeCli(Map.of("LATTICE_IDENTITY_URL", identity.baseUrl().toString()));
    CommandLine cli = LatticeCli.commandLine(root);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 2];
    all[0] = "--data-dir";
    all[1] = dir.resolve("data").toString();
    System.arraycopy(args, 0, all, 2, args.length);
    int exit = cli.execute(all);
    return new Run(exit, out.toString(), err.toString());
  }

  @Test
  void tokenThenEntryCreateListDelete() {
    Run token = lattice("token", "create", "--ttl", "10m");
    assertThat(token.exit()).as(token.err()).isZero();
    Matcher node = Pattern.compile("node:\\s+(spiffe://\\S+)").matcher(token.out());
    assertThat(node.find()).as(token.out()).isTrue();

    Run created = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/default/sa/web",
        "--parent-id", node.group(1), "--selector", "unix:uid:1000", "--dns-name", "web.default.svc");
    assertThat(created.exit()).as(created.err()).isZero();
    Matcher id = Pattern.compile("entry/(\\S+) created").matcher(created.out());
    assertThat(id.find()).as(created.out()).isTrue();

    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(lattice("entry", "list").out()).contains(id.group(1), "spiffe://lattice.local/ns/default/sa/web", "unix:uid:1000"));

    Run bad = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/x/", "--parent-id", node.group(1),
        "--selector", "unix:uid:1");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("Error from server (BadRequest)").contains("trailing slash");

    Run deleted = lattice("entry", "delete", id.group(1));
    assertThat(deleted.exit()).as(deleted.err()).isZero();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(lattice("entry", "list").out()).doesNotContain(id.group(1)));
    assertThat(lattice("entry", "delete", "no-such-id").err()).contains("NotFound");
  }

  @Test
  void tokenForAFixedNodeIdAndAnEntryWithAHint() {
    Run token = lattice("token", "create", "--ttl", "10m", "--node-id", "cli-node");
    assertThat(token.exit()).as(token.err()).isZero();
    assertThat(token.out()).contains("node:      spiffe://lattice.local/lattice/node/cli-node");
    Run again = lattice("token", "create", "--node-id", "cli-node");
    assertThat(again.exit()).as(again.err()).isZero();
    assertThat(again.out()).contains("spiffe://lattice.local/lattice/node/cli-node");
    Run bad = lattice("token", "create", "--node-id", "jt-mine");
    assertThat(bad.exit()).isEqualTo(1);
    assertThat(bad.err()).contains("BadRequest").contains("nodeId: 'jt-mine'");

    Run created = lattice("entry", "create", "--spiffe-id", "spiffe://lattice.local/ns/default/sa/hinted",
        "--parent-id", "spiffe://lattice.local/lattice/node/cli-node", "--selector", "unix:uid:1001", "--hint", "external");
    assertThat(created.exit()).as(created.err()).isZero();
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(lattice("entry", "list", "-o", "json").out()).contains("\"hint\" : \"external\""));
  }
}
