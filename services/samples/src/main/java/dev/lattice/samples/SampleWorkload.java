package dev.lattice.samples;

import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Objects;

/**
 * One demo workload of the sample application (Istio's bookinfo, smaller): {@code frontend} serves a page
 * that asks {@code catalog} for its items; {@code catalog} asks {@code ratings} for each item's stars;
 * {@code ratings} v1 answers stars, v2 stars and a colour. Each binds its own loopback address, so the node
 * proxy tells callers apart by source address, and each forwards the tracing and request-id headers it
 * received (as Istio asks of applications), so one trace spans the whole call chain.
 *
 * <p>Runs on the Vert.x event loop it was started on; {@link #close()} stops it.
 */
public final class SampleWorkload {
  /** The three roles. */
  public enum Role { FRONTEND, CATALOG, RATINGS }

  /** Headers a request carries on to the next hop (W3C trace context, B3, request id). */
  static final List<String> PROPAGATED = List.of("traceparent", "tracestate", "x-request-id", "x-b3-traceid",
      "x-b3-spanid", "x-b3-parentspanid", "x-b3-sampled", "baggage");

  /**
   * Where a workload sends its calls: usually the node proxy's outbound listener for the next service, with
   * the service's name as the authority so the proxy can route by host.
   *
   * @param host address to connect to
   * @param port port to connect to
   * @param authority {@code Host} header, e.g. {@code catalog.shop:9080}
   */
  public record Upstream(String host, int port, String authority) {
    public Upstream {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(authority, "authority");
    }
  }

  /**
   * @param role what it does
   * @param version {@code v1}, {@code v2}
   * @param host the loopback address it binds, e.g. {@code 127.0.0.12}
   * @param port 0 for an ephemeral port
   * @param upstream the next hop (frontend → catalog, catalog → ratings); null for ratings
   */
  public record Spec(Role role, String version, String host, int port, Upstream upstream) {
    public Spec {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(version, "version");
      Objects.requireNonNull(host, "host");
      if (role != Role.RATINGS && upstream == null) {
        throw new IllegalArgumentException(role.name().toLowerCase(java.util.Locale.ROOT) + ": no upstream (expected: the next service)");
      }
    }
  }

  private static final int[] ITEMS = {1, 2, 3};

  private final Spec spec;
  private final HttpServer server;
  private final HttpClient client;

  private SampleWorkload(Spec spec, HttpServer server, HttpClient client) {
    this.spec = spec;
    this.server = server;
    this.client = client;
  }

  /** Binds {@code spec.host():spec.port()} and serves. */
  public static Future<SampleWorkload> start(Vertx vertx, Spec spec) {
    HttpClient client = spec.upstream() == null ? null : vertx.createHttpClient(new HttpClientOptions()
        // the client connects from the workload's own address: that is how the proxy knows who calls
        .setLocalAddress(spec.host()).setConnectTimeout(2_000).setKeepAlive(true));
    HttpServer server = vertx.createHttpServer(new HttpServerOptions().setHost(spec.host()).setPort(spec.port()));
    SampleWorkload w = new SampleWorkload(spec, server, client);
    server.requestHandler(w::handle);
    return server.listen().map(s -> w);
  }

  public Spec spec() {
    return spec;
  }

  /** The bound port. */
  public int port() {
    return server.actualPort();
  }

  /** Stops accepting first, then closes the upstream client (requests still in flight fail with 502). */
  public Future<Void> close() {
    return server.close().eventually(() -> client == null ? Future.succeededFuture() : client.close());
  }

  private void handle(HttpServerRequest req) {
    String path = req.path();
    if (path.equals("/healthz")) {
      req.response().end("ok");
      return;
    }
    switch (spec.role()) {
      case RATINGS -> ratings(req);
      case CATALOG -> catalog(req);
      case FRONTEND -> frontend(req);
    }
  }

  private void ratings(HttpServerRequest req) {
    String path = req.path();
    if (!path.startsWith("/ratings/")) {
      notFound(req);
      return;
    }
    int id;
    try {
      id = Integer.parseInt(path.substring("/ratings/".length()));
    } catch (NumberFormatException e) {
      json(req, 400, new JsonObject().put("error", "item id: " + path.substring(9) + " (expected: a number)"));
      return;
    }
    JsonObject r = new JsonObject().put("item", id).put("stars", 3 + id % 3).put("version", spec.version());
    if (!spec.version().equals("v1")) {
      r.put("color", id % 2 == 0 ? "black" : "red");
    }
    json(req, 200, r);
  }

  private void catalog(HttpServerRequest req) {
    if (!req.path().equals("/items")) {
      notFound(req);
      return;
    }
    MultiMap carry = carried(req);
    JsonArray items = new JsonArray();
    Future<Void> chain = Future.succeededFuture();
    for (int id : ITEMS) {
      chain = chain.compose(v -> call("/ratings/" + id, carry)
          .<Void>map(rating -> {
            items.add(new JsonObject().put("id", id).put("name", "item-" + id).put("rating", rating));
            return null;
          })
          .recover(err -> {
            // a failed rating degrades the item, not the page (bookinfo's behaviour)
            items.add(new JsonObject().put("id", id).put("name", "item-" + id).put("ratingError", err.getMessage()));
            return Future.<Void>succeededFuture();
          }));
    }
    chain.onComplete(ar -> json(req, 200, new JsonObject().put("items", items).put("catalogVersion", spec.version())));
  }

  private void frontend(HttpServerRequest req) {
    if (!req.path().equals("/") && !req.path().equals("/page")) {
      notFound(req);
      return;
    }
    call("/items", carried(req))
        .onSuccess(catalog -> json(req, 200, new JsonObject().put("page", "shop").put("catalog", catalog)))
        .onFailure(err -> json(req, 502, new JsonObject().put("error", "catalog: " + err.getMessage())));
  }

  private Future<JsonObject> call(String path, MultiMap headers) {
    Upstream u = spec.upstream();
    RequestOptions o = new RequestOptions().setMethod(HttpMethod.GET).setHost(u.host()).setPort(u.port()).setURI(path)
        .setHeaders(MultiMap.caseInsensitiveMultiMap().addAll(headers).set("host", u.authority()))
        .setIdleTimeout(5_000);
    Future<io.vertx.core.http.HttpClientRequest> request;
    try {
      request = client.request(o);
    } catch (IllegalStateException closed) {
      // the workload is closing
      return Future.failedFuture(closed);
    }
    return request.compose(r -> r.send()).compose(resp -> resp.body().compose(body -> {
      if (resp.statusCode() != 200) {
        return Future.failedFuture(u.authority() + " answered " + resp.statusCode());
      }
      return Future.succeededFuture(body.toJsonObject());
    }));
  }

  private static MultiMap carried(HttpServerRequest req) {
    MultiMap m = MultiMap.caseInsensitiveMultiMap();
    for (String h : PROPAGATED) {
      String v = req.getHeader(h);
      if (v != null) {
        m.set(h, v);
      }
    }
    return m;
  }

  private void notFound(HttpServerRequest req) {
    json(req, 404, new JsonObject().put("error", "no such path " + req.path() + " on " + spec.role().name().toLowerCase(java.util.Locale.ROOT)));
  }

  private void json(HttpServerRequest req, int status, JsonObject body) {
    req.response().setStatusCode(status).putHeader("content-type", "application/json")
        .putHeader("x-sample", spec.role().name().toLowerCase(java.util.Locale.ROOT) + "-" + spec.version())
        .end(body.encode());
  }
}
