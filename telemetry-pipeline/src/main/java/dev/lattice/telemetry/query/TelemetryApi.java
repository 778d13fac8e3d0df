package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.FlowStats;
import dev.lattice.telemetry.aggregate.LatencyHistogram;
import dev.lattice.telemetry.aggregate.MetricsKey;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.aggregate.TelemetryOptions;
import dev.lattice.telemetry.aggregate.WindowSize;
import dev.lattice.telemetry.flow.FlowSignals;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * The query API (any instance answers for every key):
 * <ul>
 *   <li>{@code GET /v1/edges?window=10s|1m&range=5m&source=&destination=&workload=&namespace=} — edges with
 *       their signals ({@code workload}: either side is that node; {@code namespace}: either side in it)</li>
 *   <li>{@code GET /v1/graph?window=1m&range=&workload=&namespace=} — nodes (workloads, services, external
 *       hosts, unknown callers) and edges; denied and plaintext edges flagged; filtered like edges</li>
 *   <li>{@code GET /v1/services/{ns}/{name}/signals?window=10s&range=5m} — the service's golden signals per
 *       window</li>
 * </ul>
 * {@code range} defaults to the window; {@code to} (epoch ms, default now) and {@code from} (epoch ms)
 * override it. Bad parameters answer 400 naming the parameter; stores migrating or an instance not
 * answering 503 with {@code Retry-After: 1}. Plus the instance-to-instance endpoints
 * {@code /internal/v1/scan} and {@code /internal/v1/series}.
 *
 * <p>Handlers run on the event loop; store reads go to worker threads.
 */
public final class TelemetryApi {

  private final DistributedQueries queries;
  private final TelemetryOptions options;
  private final Clock clock;

  public TelemetryApi(DistributedQueries queries, TelemetryOptions options, Clock clock) {
    this.queries = queries;
    this.options = options;
    this.clock = clock;
  }

  /** Mounts the routes on {@code router}. */
  public void mount(Router router) {
    router.get("/v1/edges").handler(rc -> answer(rc, filter(rc).compose(f -> range(rc).compose(r ->
        queries.scan(MetricsScope.EDGE, r).map(scan -> edges(scan, r, f))))));
    router.get("/v1/graph").handler(rc -> answer(rc, filter(rc).compose(f -> range(rc).compose(r ->
        queries.scan(MetricsScope.EDGE, r).compose(edges -> queries.scan(MetricsScope.SERVICE, r)
            .map(services -> graph(edges, services, r, f)))))));
    router.get("/v1/services/:ns/:name/signals").handler(rc -> {
      String service = rc.pathParam("ns") + "/" + rc.pathParam("name");
      answer(rc, range(rc).compose(r -> queries.series(MetricsKey.service(service), r).map(points -> {
        JsonArray series = new JsonArray();
        FlowStats total = FlowStats.empty();
        for (WindowPoint p : points) {
          series.add(signals(p.stats(), r.window().millis() / 1000.0).put("start", p.startMillis()));
          total.merge(p.stats());
        }
        return rangeJson(r).put("service", service).put("total", signals(total, r.seconds()))
            .put("series", series);
      })));
    });
    router.get(DistributedQueries.SCAN_PATH).handler(rc -> answer(rc, internalRange(rc).compose(r ->
        rc.vertx().executeBlocking(() -> DistributedQueries.scanToJson(
            queries.local().scan(MetricsScope.parse(rc.queryParams().get("scope")), r)), false))));
    router.get(DistributedQueries.SERIES_PATH).handler(rc -> answer(rc, internalRange(rc).compose(r ->
        rc.vertx().executeBlocking(() -> DistributedQueries.seriesToJson(
            queries.local().series(MetricsKey.parse(rc.queryParams().get("key")), r)), false))));
  }

  private Future<TimeRange> range(RoutingContext rc) {
    try {
      WindowSize window = window(rc);
      long to = longParam(rc, "to", clock.millis());
      String rangeText = rc.queryParams().get("range");
      long rangeMillis = rangeText == null ? window.millis() : WindowSize.parse(rangeText).millis();
      String from = rc.queryParams().get("from");
      TimeRange r = from == null ? TimeRange.ending(window, to, rangeMillis)
          : TimeRange.ending(window, to, to - longParam(rc, "from", 0));
      return Future.succeededFuture(r);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  /**
   * Which edges a query keeps: {@code source} / {@code destination} (exact node names), {@code workload} (a
   * node on either side) and {@code namespace} (either side in it). All given must hold.
   */
  record EdgeFilter(String source, String destination, String workload, String namespace) {

    boolean keeps(MetricsKey key) {
      return (source == null || source.equals(key.source()))
          && (destination == null || destination.equals(key.destination()))
          && (workload == null || workload.equals(key.source()) || workload.equals(key.destination()))
          && (namespace == null || key.source().startsWith(namespace + "/")
              || key.destination().startsWith(namespace + "/"));
    }
  }

  private static Future<EdgeFilter> filter(RoutingContext rc) {
    try {
      return Future.succeededFuture(new EdgeFilter(node(rc, "source"), node(rc, "destination"), node(rc, "workload"),
          namespace(rc)));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  private static String node(RoutingContext rc, String name) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      return null;
    }
    int slash = v.indexOf('/');
    if (!v.equals(FlowSignals.UNKNOWN) && (slash <= 0 || slash == v.length() - 1 || v.contains("|"))) {
      throw new IllegalArgumentException(name + ": '" + v
          + "' (expected: namespace/workload, external/<host> or unknown)");
    }
    return v;
  }

  private static String namespace(RoutingContext rc) {
    String v = rc.queryParams().get("namespace");
    if (v != null && (v.isBlank() || v.contains("/") || v.contains("|"))) {
      throw new IllegalArgumentException("namespace: '" + v + "' (expected: a namespace name, no '/')");
    }
    return v;
  }

  private Future<TimeRange> internalRange(RoutingContext rc) {
    try {
      return Future.succeededFuture(new TimeRange(window(rc), longParam(rc, "from", -1), longParam(rc, "to", -1)));
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
  }

  private WindowSize window(RoutingContext rc) {
    String text = rc.queryParams().get("window");
    WindowSize w = text == null ? options.windows().get(0) : WindowSize.parse(text);
    if (!options.windows().contains(w)) {
      throw new IllegalArgumentException("window: '" + text + "' (expected one of " + options.windows() + ")");
    }
    return w;
  }

  private static long longParam(RoutingContext rc, String name, long fallback) {
    String v = rc.queryParams().get(name);
    if (v == null) {
      if (fallback < 0) {
        throw new IllegalArgumentException(name + ": missing (expected: epoch milliseconds)");
      }
      return fallback;
    }
    try {
      return Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": '" + v + "' (expected: epoch milliseconds)");
    }
  }

  private static void answer(RoutingContext rc, Future<JsonObject> result) {
    result.onComplete(ar -> {
      if (ar.succeeded()) {
        rc.json(ar.result());
        return;
      }
      Throwable e = ar.cause();
      int status = e instanceof QueryUnavailableException ? 503 : e instanceof IllegalArgumentException ? 400 : 500;
      if (status == 503) {
        rc.response().putHeader("Retry-After", "1");
      }
      rc.response().setStatusCode(status).putHeader("content-type", "application/json")
          .end(new JsonObject().put("error", String.valueOf(e.getMessage())).encode());
    });
  }

  private static JsonObject rangeJson(TimeRange r) {
    return new JsonObject().put("window", r.window().label()).put("from", r.fromMillis()).put("to", r.toMillis());
  }

  private static JsonObject edges(Map<String, FlowStats> scan, TimeRange r, EdgeFilter filter) {
    JsonArray edges = new JsonArray();
    scan.forEach((k, stats) -> {
      MetricsKey key = MetricsKey.parse(k);
      if (filter.keeps(key)) {
        edges.add(signals(stats, r.seconds()).put("source", key.source()).put("destination", key.destination()));
      }
    });
    return rangeJson(r).put("edges", edges);
  }

  private static JsonObject graph(Map<String, FlowStats> edgeScan, Map<String, FlowStats> serviceScan, TimeRange r,
      EdgeFilter filter) {
    Map<String, JsonObject> nodes = new TreeMap<>();
    Function<String, JsonObject> node = name -> nodes.computeIfAbsent(name, n -> new JsonObject().put("id", n)
        .put("kind", n.equals(FlowSignals.UNKNOWN) ? "unknown"
            : n.startsWith(FlowSignals.EXTERNAL_PREFIX) ? "external" : "workload"));
    JsonArray edges = new JsonArray();
    edgeScan.forEach((k, stats) -> {
      MetricsKey key = MetricsKey.parse(k);
      if (!filter.keeps(key)) {
        return;
      }
      node.apply(key.source());
      node.apply(key.destination());
      edges.add(signals(stats, r.seconds()).put("source", key.source()).put("destination", key.destination())
          .put("deniedEdge", stats.denied() > 0).put("fullyDenied", stats.requests() > 0
              && stats.denied() == stats.requests())
          .put("plaintext", stats.mtls() < stats.requests()));
    });
    boolean filtered = !filter.equals(new EdgeFilter(null, null, null, null));
    serviceScan.forEach((k, stats) -> {
      String service = MetricsKey.parse(k).destination();
      // a filtered graph shows the services of the edges it kept
      if (!filtered || nodes.containsKey(service)) {
        node.apply(service).put("service", true).put("signals", signals(stats, r.seconds()));
      }
    });
    return rangeJson(r).put("nodes", new JsonArray(java.util.List.copyOf(nodes.values()))).put("edges", edges);
  }

  /** The golden signals of one aggregate as JSON (latencies in ms, rates per second of {@code seconds}). */
  static JsonObject signals(FlowStats s, double seconds) {
    LatencyHistogram h = s.latency();
    return new JsonObject()
        .put("requests", s.requests())
        .put("rps", seconds <= 0 ? 0 : s.requests() / seconds)
        .put("errors", s.errors())
        .put("errorRatio", s.errorRatio())
        .put("errors4xx", s.errors4xx())
        .put("errors5xx", s.errors5xx())
        .put("denied", s.denied())
        .put("rateLimited", s.rateLimited())
        .put("deniedBy", new JsonObject(new TreeMap<>(s.deniedBy())))
        .put("responseFlags", new JsonObject(new TreeMap<>(s.responseFlags())))
        .put("p50Ms", h.quantile(0.5) / 1000.0)
        .put("p90Ms", h.quantile(0.9) / 1000.0)
        .put("p99Ms", h.quantile(0.99) / 1000.0)
        .put("maxMs", h.maxMicros() / 1000.0)
        .put("bytesIn", s.bytesIn())
        .put("bytesOut", s.bytesOut())
        .put("tcpOpened", s.tcpOpened())
        .put("tcpClosed", s.tcpClosed())
        .put("mtlsShare", s.mtlsShare());
  }
}
