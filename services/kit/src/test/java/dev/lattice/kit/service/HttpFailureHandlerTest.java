package dev.lattice.kit.service;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.lattice.kit.config.LatticeConfig;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Failures of a launched service's router answer JSON; client errors log no stack trace. Real sockets. */
class HttpFailureHandlerTest {

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private ServiceLauncher launcher;
  private RunningService running;

  /** /v1 answers in a service's own shape; /plain keeps the kit's default. */
  static final class FailingService implements LatticeService {
    @Override public String name() { return "failing"; }
    @Override public int defaultHttpPort() { return 0; }

    @Override
    public Future<Void> start(ServiceContext context) {
      context.router().route("/v1/*").failureHandler(new HttpFailureHandler((rc, status, message) ->
          rc.response().setStatusCode(status).putHeader("content-type", "application/json")
              .end(new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("message", message))).encode())));
      context.router().post("/v1/echo").handler(HttpFailureHandler.bodyHandler(1024));
      context.router().post("/v1/echo").handler(rc -> rc.response().end(rc.body().asString()));
      context.router().get("/v1/boom").handler(rc -> {
        throw new IllegalStateException("secret-ish detail");
      });
      context.router().post("/plain/form").handler(HttpFailureHandler.bodyHandler(64 * 1024));
      context.router().post("/plain/form").handler(rc -> rc.response().end("ok"));
      return Future.succeededFuture();
    }

    @Override public Future<Void> stop() { return Future.succeededFuture(); }
  }

  @BeforeEach
  void start() throws Exception {
    logs.setContext((LoggerContext) LoggerFactory.getILoggerFactory());
    logs.start();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
    ((Logger) LoggerFactory.getLogger(HttpFailureHandler.class)).setLevel(Level.DEBUG);
    launcher = ServiceLauncher.create(LatticeConfig.of(Map.of()));
    running = launcher.start(new FailingService()).toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stop() {
    launcher.close();
    ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    ((Logger) LoggerFactory.getLogger(HttpFailureHandler.class)).setLevel(null);
  }

  private HttpResponse<String> send(String method, String path, byte[] body, String contentType) throws Exception {
    HttpRequest.Builder b = HttpRequest.newBuilder(running.url(path)).timeout(Duration.ofSeconds(10))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
    if (contentType != null) b.header("content-type", contentType);
    return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static String message(HttpResponse<String> r) {
    assertThat(r.headers().firstValue("content-type")).as(r.body()).hasValueSatisfying(t -> assertThat(t).startsWith("application/json"));
    return new JsonObject(r.body()).getJsonArray("errors").getJsonObject(0).getString("message");
  }

  private List<ILoggingEvent> errorsLogged() {
    return logs.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.ERROR) || e.getThrowableProxy() != null).toList();
  }

  @Test
  void anOversizedBodyIs413JsonNamingTheLimitWithoutAStackTrace() throws Exception {
    HttpResponse<String> small = send("POST", "/v1/echo", "hi".getBytes(), "text/plain");
    assertThat(small.statusCode()).isEqualTo(200);
    assertThat(small.body()).isEqualTo("hi");

    HttpResponse<String> big = send("POST", "/v1/echo", new byte[64 * 1024], "application/yaml");
    assertThat(big.statusCode()).isEqualTo(413);
    assertThat(message(big)).isEqualTo("request body too large for POST /v1/echo (limit: 1024 bytes)");
    assertThat(errorsLogged()).isEmpty();
  }

  @Test
  void anUndecodableFormIs400InTheDefaultShape() throws Exception {
    byte[] garbage = new byte[4096];
    new java.util.Random(12).nextBytes(garbage); // not a form Netty's decoder can read
    HttpResponse<String> r = send("POST", "/plain/form", garbage, "application/x-www-form-urlencoded");
    assertThat(r.statusCode()).isEqualTo(400);
    assertThat(r.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(new JsonObject(r.body()).getString("error")).startsWith("malformed request to POST /plain/form");
    assertThat(errorsLogged()).isEmpty();
    // the log quotes no request bytes beyond printable ASCII
    assertThat(logs.list).allSatisfy(e -> assertThat(e.getFormattedMessage()).matches("[\\x20-\\x7e…]*"));
  }

  @Test
  void unknownRoutesAndMethodsAreJson() throws Exception {
    HttpResponse<String> missing = send("GET", "/nowhere", null, null);
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(new JsonObject(missing.body()).getString("error")).isEqualTo("no such endpoint: GET /nowhere");
    HttpResponse<String> method = send("DELETE", "/healthz", null, null);
    assertThat(method.statusCode()).isEqualTo(405);
    assertThat(new JsonObject(method.body()).getString("error")).isEqualTo("method not allowed: DELETE /healthz");
    assertThat(errorsLogged()).isEmpty();
  }

  @Test
  void aHandlerThatThrowsIs500WithAnErrorIdAndOneErrorLine() throws Exception {
    HttpResponse<String> r = send("GET", "/v1/boom", null, null);
    assertThat(r.statusCode()).isEqualTo(500);
    String message = message(r);
    assertThat(message).startsWith("internal error while handling GET /v1/boom (the service log has the details under error id ")
        .doesNotContain("secret-ish");
    String id = message.replaceAll(".*error id (\\w+)\\)$", "$1");
    List<ILoggingEvent> errors = errorsLogged();
    assertThat(errors).hasSize(1);
    assertThat(errors.get(0).getThrowableProxy().getMessage()).isEqualTo("secret-ish detail");
    assertThat(errors.get(0).getKeyValuePairs()).anySatisfy(kv -> {
      assertThat(kv.key).isEqualTo("error_id");
      assertThat(kv.value).isEqualTo(id);
    });
  }
}
