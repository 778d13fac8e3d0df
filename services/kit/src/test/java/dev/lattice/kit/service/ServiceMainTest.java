package dev.lattice.kit.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.vertx.core.Future;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs {@link ServiceMain} in a child JVM, as a service process runs in production. */
class ServiceMainTest {

  @TempDir Path dir;

  /** The child's main: one trivial service under {@link ServiceMain}. */
  public static final class EchoMain {
    public static void main(String[] args) {
      ServiceMain.run(args, new LatticeService() {
        @Override public String name() { return "echo"; }
        @Override public int defaultHttpPort() { return 0; }
        @Override public Future<Void> start(ServiceContext context) {
          context.router().get("/echo").handler(rc -> rc.response().end("echo"));
          return Future.succeededFuture();
        }
        @Override public Future<Void> stop() { return Future.succeededFuture(); }
      });
    }
  }

  private Process launch(Path log, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx128m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", System.getProperty("java.class.path"), EchoMain.class.getName()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  @Test
  void servesUntilSigtermThenStopsCleanly() throws Exception {
    int port;
    try (ServerSocket s = new ServerSocket(0)) {
      port = s.getLocalPort();
    }
    Path log = dir.resolve("echo.log");
    Process process = launch(log, "--echo.http.port=" + port);
    try {
      HttpClient http = HttpClient.newHttpClient();
      URI readyz = URI.create("http://127.0.0.1:" + port + "/readyz");
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
          assertThat(http.send(HttpRequest.newBuilder(readyz).build(), HttpResponse.BodyHandlers.ofString())
              .statusCode()).isEqualTo(200));

      long began = System.nanoTime();
      process.destroy(); // SIGTERM: the shutdown hook stops the launcher
      assertThat(process.waitFor(60, TimeUnit.SECONDS)).as("exited rather than hung").isTrue();
      assertThat(Duration.ofNanos(System.nanoTime() - began)).isLessThan(Duration.ofSeconds(60));
      assertThat(Files.readString(log, StandardCharsets.UTF_8)).contains("launcher stopped");
    } finally {
      process.destroyForcibly();
    }
  }

  @Test
  void badConfigurationExitsTwoWithTheReason() throws Exception {
    Path log = dir.resolve("bad.log");
    Process process = launch(log, "--echo.http.port=eighty");
    assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(process.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log, StandardCharsets.UTF_8))
        .contains("echo.http.port: 'eighty' (expected: an integer; from flag --echo.http.port)");

    Path log2 = dir.resolve("flag.log");
    Process malformed = launch(log2, "echo.http.port=80");
    assertThat(malformed.waitFor(30, TimeUnit.SECONDS)).isTrue();
    assertThat(malformed.exitValue()).isEqualTo(2);
    assertThat(Files.readString(log2, StandardCharsets.UTF_8)).contains("expected: --key=value");
  }

}
