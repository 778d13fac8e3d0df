package dev.lattice.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.ServiceEndpoints;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.service.ServiceLauncher;
import io.vertx.core.Future;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the CLI in-process against real HTTP services started with the kit launcher. */
class LatticeCliTest {

  private static ServiceLauncher launcher;
  private static RunningService readyService;
  private static RunningService notReadyService;
  private static ServerSocket fakeKafkaListener;

  @TempDir Path dataDir;

  /** A service that is ready or not, and answers 404 with a JSON message on /v1/missing. */
  record TestService(String name, boolean ready) implements LatticeService {
    @Override public int defaultHttpPort() { return 0; }

    @Override
    public Future<Void> start(ServiceContext context) {
      context.readiness().registerCondition("state", () -> ready, "state not caught up");
      context.router().get("/v1/missing").handler(rc -> rc.response().setStatusCode(404)
          .putHeader("content-type", "application/json")
          .end("{\"message\":\"policy default/web not found\"}"));
      context.router().get("/v1/plain").handler(rc -> rc.response().setStatusCode(500).end("boom"));
      return Future.succeededFuture();
    }

    @Override public Future<Void> stop() { return Future.succeededFuture(); }
  }

  @BeforeAll
  static void startServices() throws Exception {
    launcher = ServiceLauncher.create(LatticeConfig.empty());
    List<RunningService> running = launcher.start(List.of(new TestService("policy", true),
            new TestService("identity", false)))
        .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
    readyService = running.get(0);
    notReadyService = running.get(1);
    // status only opens a TCP connection to Kafka; a real listening socket is what it probes.
    fakeKafkaListener = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
  }

  @AfterAll
  static void stopServices() throws Exception {
    launcher.close();
    fakeKafkaListener.close();
  }

  record Result(int exitCode, String out, String err) {}

  private Result run(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = LatticeCli.commandLine(new LatticeCli(env));
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    int code = cli.execute(args);
    return new Result(code, out.toString(), err.toString());
  }

  private Result run(String... args) {
    return run(Map.of(), args);
  }

  private static int closedPort() throws Exception {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private void writeEndpoints(Map<String, URI> services, String kafka) throws Exception {
    new ServiceEndpoints(services, kafka, "test").write(dataDir.resolve(ServiceEndpoints.FILE_NAME));
  }

  @Test
  void statusReportsReadyNotReadyAndDownAndExitsNonZero() throws Exception {
    Map<String, URI> services = new LinkedHashMap<>();
    services.put("policy", readyService.baseUrl());
    services.put("identity", notReadyService.baseUrl());
    services.put("telemetry", URI.create("http://127.0.0.1:" + closedPort()));
    writeEndpoints(services, "127.0.0.1:" + fakeKafkaListener.getLocalPort());

    Result r = run("--data-dir=" + dataDir, "status");

    assertThat(r.exitCode()).isEqualTo(ExitCode.ERROR);
    List<String> lines = r.out().lines().toList();
    assertThat(lines.get(0)).matches("SERVICE\\s+URL\\s+STATUS\\s+DETAIL");
    assertThat(lines.get(1)).matches("kafka\\s+127\\.0\\.0\\.1:\\d+\\s+up");
    assertThat(lines.get(2)).matches("policy\\s+http://127\\.0\\.0\\.1:\\d+\\s+ready");
    assertThat(lines.get(3)).matches("identity\\s+http://\\S+\\s+not ready\\s+state: state not caught up");
    assertThat(lines.get(4)).matches("telemetry\\s+http://\\S+\\s+down\\s+connection refused.*");
  }

  @Test
  void statusExitsZeroWhenEverythingIsReady() throws Exception {
    writeEndpoints(Map.of("policy", readyService.baseUrl()), "127.0.0.1:" + fakeKafkaListener.getLocalPort());
    Result r = run("--data-dir=" + dataDir, "status");
    assertThat(r.exitCode()).as(r.out()).isEqualTo(ExitCode.OK);
    assertThat(r.out()).contains("ready");
  }

  @Test
  void statusWithoutAStackProbesTheFixedPortsAndAnEnvironmentOverride() throws Exception {
    // No endpoints file: the fixed ports; LATTICE_POLICY_URL moves one service to the test server.
    Result r = run(Map.of("LATTICE_POLICY_URL", readyService.baseUrl().toString(),
            "LATTICE_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort()),
        "--data-dir=" + dataDir, "--timeout=1s", "status");
    assertThat(r.out()).containsPattern("policy\\s+" + readyService.baseUrl() + "\\s+ready");
    assertThat(r.out()).containsPattern("kafka\\s+\\S+\\s+down");
    assertThat(r.out()).contains("identity", "distributor", "telemetry", "data-plane");
    assertThat(r.exitCode()).isEqualTo(ExitCode.ERROR);
  }

  @Test
  void versionPrintsTheBuildVersion() {
    Result r = run("version");
    assertThat(r.exitCode()).isZero();
    assertThat(r.out()).startsWith("lattice 0.").contains("java 17");
    assertThat(run("--version").out()).startsWith("lattice 0.");
  }

  @Test
  void usageErrorsExitTwoWithAKubectlLikeHint() {
    Result unknown = run("frobnicate");
    assertThat(unknown.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(unknown.err()).startsWith("error: Unmatched argument").contains("Run 'lattice --help' for usage.");

    Result badOption = run("--timeout=soon", "status");
    assertThat(badOption.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(badOption.err()).contains("'soon' (expected: a duration like 500ms, 5s, 1m)");

    Result nothing = run();
    assertThat(nothing.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(nothing.err()).contains("Usage: lattice", "status", "version");
  }

  @Test
  void apiClientTurnsServerErrorsIntoKubectlMessages() throws Exception {
    ApiClient api = new ApiClient(Duration.ofSeconds(2));
    assertThatThrownBy(() -> api.get("policy", readyService.url("/v1/missing")).requireSuccess())
        .isInstanceOf(CliException.class)
        .hasMessage("Error from server (NotFound): policy default/web not found");
    assertThatThrownBy(() -> api.get("policy", readyService.url("/v1/plain")).requireSuccess())
        .hasMessage("Error from server (InternalError): boom");
    assertThat(api.get("policy", readyService.url("/healthz")).requireSuccess().json().get("status").asText())
        .isEqualTo("alive");

    URI nowhere = URI.create("http://127.0.0.1:" + closedPort() + "/v1/resources");
    assertThatThrownBy(() -> api.get("policy", nowhere))
        .isInstanceOf(CliException.class)
        .hasMessage("error: cannot reach policy at " + nowhere + ": connection refused (is ./lattice up running?)")
        .extracting(e -> ((CliException) e).exitCode()).isEqualTo(ExitCode.ERROR);
  }

  @Test
  void malformedEndpointOverrideIsAUsageError() {
    Result r = run(Map.of("LATTICE_POLICY_URL", "not a url"), "--data-dir=" + dataDir, "status");
    assertThat(r.exitCode()).isEqualTo(ExitCode.USAGE);
    assertThat(r.err()).contains("LATTICE_POLICY_URL: 'not a url' (expected: a URL like http://127.0.0.1:7080)");
  }
}
