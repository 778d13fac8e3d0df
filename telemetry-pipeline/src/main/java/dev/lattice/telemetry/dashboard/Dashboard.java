package dev.lattice.telemetry.dashboard;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The dashboard web page the pipeline serves at {@code /dashboard/}: the service graph, per-service golden
 * signals, the live flow table with filters and the denied panel, in plain HTML, CSS and JavaScript that read
 * the query API ({@code /v1/graph}, {@code /v1/services/…/signals}, {@code /v1/flows}) of the instance serving
 * the page. No front-end library and nothing fetched from elsewhere at run time: the assets are three
 * classpath resources, read once by {@link #load} (blocking: call it off the event loop) and answered from
 * memory. {@code /dashboard/config.json} tells the page where policies link to.
 *
 * <p>Immutable, safe to share.
 */
public final class Dashboard {

  /** Where the assets live on the classpath. */
  static final String RESOURCES = "dev/lattice/telemetry/dashboard/";

  private static final Map<String, String> ASSETS = Map.of(
      "index.html", "text/html; charset=utf-8",
      "dashboard.js", "text/javascript; charset=utf-8",
      "dashboard.css", "text/css; charset=utf-8");

  // The page talks to its own origin only; links to the policy service are navigations, which this allows.
  private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
      + "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private final Map<String, Buffer> assets;
  private final Buffer config;

  private Dashboard(Map<String, Buffer> assets, Buffer config) {
    this.assets = assets;
    this.config = config;
  }

  /**
   * Reads the assets from the classpath (blocking).
   *
   * @param policyUrl base URL of the policy service's REST API ({@code http(s)://host:port}); a denial links
   *     to {@code <policyUrl>/v1/resources/<Kind>/<ns>/<name>} and to {@code <policyUrl>/v1/explain?…}
   * @param windows the window sizes the query API offers, first the default
   * @throws IllegalArgumentException if {@code policyUrl} is not an absolute http(s) URL
   */
  public static Dashboard load(String policyUrl, List<String> windows) {
    String base = checkedPolicyUrl(policyUrl);
    Map<String, Buffer> assets = new java.util.HashMap<>();
    for (String name : ASSETS.keySet()) {
      try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
        if (in == null) {
          throw new IllegalStateException("dashboard asset missing from the classpath: " + RESOURCES + name);
        }
        assets.put(name, Buffer.buffer(in.readAllBytes()));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read dashboard asset " + RESOURCES + name, e);
      }
    }
    JsonObject cfg = new JsonObject().put("policyUrl", base).put("windows", new JsonArray(List.copyOf(windows)));
    return new Dashboard(Map.copyOf(assets), cfg.toBuffer());
  }

  /** {@code text} checked as the policy service base URL, without a trailing slash. */
  public static String checkedPolicyUrl(String text) {
    String expected = " (expected: the policy service's base URL, e.g. http://127.0.0.1:7080)";
    URI uri;
    try {
      uri = new URI(text);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("telemetry.dashboard.policy-url: '" + text + "'" + expected);
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || uri.getQuery() != null
        || uri.getFragment() != null) {
      throw new IllegalArgumentException("telemetry.dashboard.policy-url: '" + text + "'" + expected);
    }
    return text.endsWith("/") ? text.substring(0, text.length() - 1) : text;
  }

  /** Mounts {@code /} (redirect), {@code /dashboard/}, its assets and {@code /dashboard/config.json}. */
  public void mount(Router router) {
    router.get("/").handler(rc -> redirect(rc));
    // Vert.x matches "/dashboard" with and without the trailing slash: the page's relative asset URLs need it
    router.get("/dashboard").handler(rc -> {
      if (rc.request().path().endsWith("/")) {
        send(rc, "index.html");
      } else {
        redirect(rc);
      }
    });
    router.get("/dashboard/config.json").handler(rc -> rc.response()
        .putHeader("content-type", "application/json").putHeader("cache-control", "no-cache").end(config));
    router.get("/dashboard/:asset").handler(rc -> {
      String name = rc.pathParam("asset");
      if (assets.containsKey(name)) {
        send(rc, name);
      } else {
        rc.next(); // the router's 404
      }
    });
  }

  private static void redirect(RoutingContext rc) {
    rc.response().setStatusCode(302).putHeader("location", "/dashboard/").end();
  }

  private void send(RoutingContext rc, String name) {
    rc.response()
        .putHeader("content-type", ASSETS.get(name))
        .putHeader("cache-control", "no-cache")
        .putHeader("content-security-policy", CSP)
        .putHeader("x-content-type-options", "nosniff")
        .end(assets.get(name));
  }
}
