package dev.lattice.telemetry.dashboard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The dashboard's HTTP side on a real Vert.x server (the browser side is {@link DashboardBrowserTest}): the page
 * and its assets with their types and a same-origin CSP, the redirects, the config the page reads, and that the
 * page loads nothing from elsewhere.
 */
class DashboardTest {

  Vertx vertx;
  HttpServer server;
  final HttpClient jdk = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).build();

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
    Router router = Router.router(vertx);
    Dashboard.load("https://policy.example:7443/", List.of("10s", "1m")).mount(router);
    server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1").await();
  }

  @AfterEach
  void tearDown() {
    vertx.close().await();
  }

  private HttpResponse<String> get(String path) throws Exception {
    return jdk.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.actualPort() + path))
        .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void servesThePageItsAssetsAndConfig() throws Exception {
    for (String path : List.of("/", "/dashboard")) {
      HttpResponse<String> r = get(path);
      assertThat(r.statusCode()).as(path).isEqualTo(302);
      assertThat(r.headers().firstValue("location")).as(path).contains("/dashboard/");
    }
    HttpResponse<String> page = get("/dashboard/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.headers().firstValue("content-type")).contains("text/html; charset=utf-8");
    assertThat(page.headers().firstValue("content-security-policy")).get().asString()
        .contains("default-src 'none'").contains("connect-src 'self'").contains("script-src 'self'");
    assertThat(page.body()).contains("<script src=\"dashboard.js\"></script>", "id=\"graph\"", "id=\"flows\"",
        "id=\"denied\"", "id=\"flow-filter\"");
    assertThat(get("/dashboard/dashboard.js").headers().firstValue("content-type"))
        .contains("text/javascript; charset=utf-8");
    assertThat(get("/dashboard/dashboard.css").headers().firstValue("content-type"))
        .contains("text/css; charset=utf-8");
    assertThat(get("/dashboard/nothing.js").statusCode()).isEqualTo(404);
    assertThat(get("/dashboard/..%2Fdashboard.js").statusCode()).isEqualTo(404);

    HttpResponse<String> config = get("/dashboard/config.json");
    assertThat(config.statusCode()).isEqualTo(200);
    JsonObject c = new JsonObject(config.body());
    assertThat(c.getString("policyUrl")).isEqualTo("https://policy.example:7443");
    assertThat(c.getJsonArray("windows").getList()).containsExactly("10s", "1m");
  }

  @Test
  void thePageLoadsNothingFromElsewhere() throws Exception {
    // no CDN at run time: every src/href of the page is relative (or data:), and the script fetches its own origin
    Pattern external = Pattern.compile("(src|href)=\"(?!data:)[a-z]+:|(src|href)=\"//");
    assertThat(external.matcher(get("/dashboard/").body()).find()).isFalse();
    String js = get("/dashboard/dashboard.js").body();
    assertThat(Pattern.compile("(fetch|getJson|EventSource)\\(\\s*['\"`](https?:)?//").matcher(js).find()).isFalse();
    assertThat(get("/dashboard/dashboard.css").body()).doesNotContain("url(", "@import");
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "policy:7080", "ftp://policy:21", "http://", "http://policy:7080/?x=1",
      "http://policy:7080/#top", "not a url"})
  void refusesAPolicyUrlThatIsNotAnHttpBase(String url) {
    assertThatThrownBy(() -> Dashboard.checkedPolicyUrl(url)).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("telemetry.dashboard.policy-url: '" + url + "'")
        .hasMessageContaining("expected: the policy service's base URL");
  }

  @Test
  void acceptsHttpAndHttpsBasesWithoutTheirTrailingSlash() {
    assertThat(Dashboard.checkedPolicyUrl("http://127.0.0.1:7080")).isEqualTo("http://127.0.0.1:7080");
    assertThat(Dashboard.checkedPolicyUrl("HTTPS://policy.prod/api/")).isEqualTo("HTTPS://policy.prod/api");
  }
}
