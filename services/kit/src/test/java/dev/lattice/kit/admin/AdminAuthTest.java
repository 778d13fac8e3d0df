package dev.lattice.kit.admin;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.RunningService;
import dev.lattice.kit.service.ServiceContext;
import dev.lattice.kit.service.ServiceLauncher;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.handler.BodyHandler;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The admin credential through the real launcher, router and sockets. */
class AdminAuthTest {

  @TempDir Path dir;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private ServiceLauncher launcher;
  private RunningService running;
  private AdminTokenFile file;

  /** Writes echo their body length; the explain-like POST is open. */
  static final class GuardedService implements LatticeService {
    @Override public String name() { return "guarded"; }
    @Override public int defaultHttpPort() { return 0; }

    @Override
    public Future<Void> start(ServiceContext context) {
      Future<AdminCredential> admin = AdminAuth.protectWrites(context, AdminAuth.openWrite(HttpMethod.POST, "/v1/query"));
      context.router().route("/v1/things*").handler(BodyHandler.create());
      context.router().get("/v1/things").handler(rc -> rc.json(new JsonObject().put("things", 0)));
      context.router().post("/v1/things").handler(rc -> rc.json(new JsonObject().put("bytes", rc.body().length())));
      context.router().post("/v1/query").handler(rc -> rc.json(new JsonObject().put("answer", 42)));
      // a write route without a BodyHandler in front of it
      context.router().delete("/v1/bare/:id").handler(rc -> rc.response().setStatusCode(204).end());
      return admin.mapEmpty();
    }

    @Override public Future<Void> stop() { return Future.succeededFuture(); }
  }

  @BeforeEach
  void start() throws Exception {
    Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
    ((Logger) LoggerFactory.getLogger("dev.lattice.kit.admin")).setLevel(Level.DEBUG);
    logs.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    logs.start();
    root.addAppender(logs);
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of("data.dir", dir.toString())));
    running = launcher.start(new GuardedService()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    file = AdminTokenFile.inDataDir(dir);
  }

  @AfterEach
  void stop() {
    launcher.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    ((Logger) LoggerFactory.getLogger("dev.lattice.kit.admin")).setLevel(null);
  }

  @Test
  void theFirstStartCreatesAPrivateTokenFileUnderTheDataDir() throws Exception {
    assertThat(file.path()).exists();
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path()))).isEqualTo("rw-------");
    List<String> tokens = file.tokens();
    assertThat(tokens).hasSize(1);
    assertThat(tokens.get(0)).startsWith("lat_").hasSize(4 + 43);
    // a second service on the same data dir keeps it
    assertThat(file.createIfMissing()).isFalse();
    assertThat(file.tokens()).isEqualTo(tokens);
  }

  @Test
  void anonymousWritesAre401WrongOnes403AndReadsStayOpen() throws Exception {
    HttpResponse<String> anonymous = send("POST", "/v1/things", "{}", null);
    assertThat(anonymous.statusCode()).isEqualTo(401);
    assertThat(anonymous.headers().firstValue("WWW-Authenticate")).contains("Bearer realm=\"lattice\"");
    assertThat(new JsonObject(anonymous.body()).getString("error"))
        .startsWith("unauthorized: POST /v1/things needs the admin credential").contains(file.path().toString());
    assertThat(send("POST", "/v1/things", "{}", "Basic YWRtaW46YWRtaW4=").statusCode()).as("another scheme").isEqualTo(401);
    assertThat(send("POST", "/v1/things", "{}", "Bearer ").statusCode()).as("empty token").isEqualTo(401);

    HttpResponse<String> wrong = send("POST", "/v1/things", "{}", "Bearer lat_not-the-token");
    assertThat(wrong.statusCode()).isEqualTo(403);
    assertThat(new JsonObject(wrong.body()).getString("error")).startsWith("forbidden: the bearer token is not the admin credential");
    assertThat(send("DELETE", "/v1/bare/1", null, "Bearer wrong").statusCode()).isEqualTo(403);
    assertThat(send("DELETE", "/v1/bare/1", null, null).statusCode()).isEqualTo(401);

    assertThat(send("GET", "/v1/things", null, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/healthz", null, null).statusCode()).isEqualTo(200);
    assertThat(send("POST", "/v1/query", "{}", null).statusCode()).as("an open write").isEqualTo(200);
  }

  @Test
  void theRightTokenPassesWithItsBody() throws Exception {
    String token = file.tokens().get(0);
    String body = "x".repeat(100_000);
    HttpResponse<String> ok = send("POST", "/v1/things", body, "Bearer " + token);
    assertThat(ok.statusCode()).isEqualTo(200);
    assertThat(new JsonObject(ok.body()).getInteger("bytes")).isEqualTo(100_000);
    assertThat(send("POST", "/v1/things", "{}", "bearer " + token).statusCode()).as("scheme is case-insensitive").isEqualTo(200);
    assertThat(send("DELETE", "/v1/bare/1", null, "Bearer " + token).statusCode()).isEqualTo(204);
  }

  @Test
  void aRotatedTokenWorksOnItsFirstUseAndTheOldOneStops() throws Exception {
    String old = file.tokens().get(0);
    assertThat(send("POST", "/v1/things", "{}", "Bearer " + old).statusCode()).isEqualTo(200);

    String overlapping = file.rotate(true);
    HttpResponse<String> first = send("POST", "/v1/things", "y".repeat(50_000), "Bearer " + overlapping);
    assertThat(first.statusCode()).as("re-read on a mismatch, body kept while reading").isEqualTo(200);
    assertThat(new JsonObject(first.body()).getInteger("bytes")).isEqualTo(50_000);
    assertThat(send("POST", "/v1/things", "{}", "Bearer " + old).statusCode()).as("overlap").isEqualTo(200);
    assertThat(file.clientToken()).contains(overlapping);

    String only = file.rotate(false);
    assertThat(send("DELETE", "/v1/bare/2", null, "Bearer " + only).statusCode()).isEqualTo(204);
    assertThat(send("POST", "/v1/things", "{}", "Bearer " + old).statusCode()).isEqualTo(403);
    assertThat(send("POST", "/v1/things", "{}", "Bearer " + overlapping).statusCode()).isEqualTo(403);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path()))).isEqualTo("rw-------");
  }

  @Test
  void aBrokenFileKeepsTheTokensReadBefore() throws Exception {
    String token = file.tokens().get(0);
    Files.writeString(file.path(), "# nothing here\n");
    assertThat(send("POST", "/v1/things", "{}", "Bearer other").statusCode()).isEqualTo(403);
    assertThat(send("POST", "/v1/things", "{}", "Bearer " + token).statusCode()).isEqualTo(200);
  }

  @Test
  void theTokenIsNeverLogged() throws Exception {
    String token = file.tokens().get(0);
    send("POST", "/v1/things", "{}", "Bearer " + token);
    send("POST", "/v1/things", "{}", "Bearer " + token + "x");
    send("POST", "/v1/things", "{}", null);
    file.rotate(true);
    String rotated = file.tokens().get(0);
    send("POST", "/v1/things", "{}", "Bearer " + rotated);
    assertThat(logs.list).isNotEmpty();
    for (ILoggingEvent e : logs.list) {
      assertThat(e.getFormattedMessage()).doesNotContain(token).doesNotContain(rotated);
    }
    assertThat(send("GET", "/metrics", null, null).body())
        .contains("lattice_admin_auth_rejected_total{reason=\"anonymous\",service=\"guarded\"} 1.0")
        .contains("lattice_admin_auth_rejected_total{reason=\"wrong\",service=\"guarded\"} 1.0")
        .doesNotContain(token);
  }

  private HttpResponse<String> send(String method, String path, String body, String authorization) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(running.url(path)).timeout(Duration.ofSeconds(30))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) b.header("Content-Type", "application/json");
    if (authorization != null) b.header("Authorization", authorization);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }
}
