package dev.lattice.telemetry.query;

import dev.lattice.telemetry.aggregate.FlowStats;
import dev.lattice.telemetry.aggregate.MetricsKey;
import dev.lattice.telemetry.aggregate.MetricsScope;
import dev.lattice.telemetry.aggregate.TelemetryRunner;
import dev.lattice.telemetry.aggregate.TelemetryTopology;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Answers a query over every pipeline instance: a scan fans out to each instance hosting the store
 * (Streams metadata) and merges their local answers; a one-key series goes to the key's active host.
 * Instances talk over {@code /internal/v1/*} on their {@code application.server} address, carrying the
 * exact aggregates (store bytes, base64), so merged answers equal a single instance's.
 *
 * <p>Thread-safe; futures complete on the Vert.x context of the caller.
 */
public final class DistributedQueries {

  /** Path of the local scan endpoint. */
  public static final String SCAN_PATH = "/internal/v1/scan";
  /** Path of the local series endpoint. */
  public static final String SERIES_PATH = "/internal/v1/series";

  private final Vertx vertx;
  private final TelemetryRunner runner;
  private final LocalStores local;
  private final HostInfo self;
  private final WebClient client;

  /**
   * @param self this instance's {@code application.server} address
   */
  public DistributedQueries(Vertx vertx, TelemetryRunner runner, HostInfo self, WebClient client) {
    this.vertx = vertx;
    this.runner = runner;
    this.local = new LocalStores(runner);
    this.self = self;
    this.client = client;
  }

  /** This instance's stores. */
  public LocalStores local() {
    return local;
  }

  /** Every key of {@code scope} over every instance, windows in {@code range} merged per key. */
  public Future<Map<String, FlowStats>> scan(MetricsScope scope, TimeRange range) {
    String store = TelemetryTopology.storeName(scope, range.window());
    Collection<StreamsMetadata> hosts = runner.streams().streamsMetadataForStore(store);
    if (hosts.isEmpty()) {
      return Future.failedFuture(new QueryUnavailableException("no instance hosts " + store + " yet (rebalancing)",
          null));
    }
    List<Future<Map<String, FlowStats>>> parts = new ArrayList<>();
    for (StreamsMetadata host : hosts) {
      if (host.hostInfo().equals(self)) {
        parts.add(vertx.executeBlocking(() -> local.scan(scope, range), false));
      } else {
        parts.add(remoteScan(host.hostInfo(), scope, range));
      }
    }
    return Future.all(parts).map(all -> {
      Map<String, FlowStats> merged = new TreeMap<>();
      for (int i = 0; i < all.size(); i++) {
        Map<String, FlowStats> part = all.resultAt(i);
        part.forEach((k, v) -> merged.computeIfAbsent(k, x -> FlowStats.empty()).merge(v));
      }
      return merged;
    });
  }

  /** One key's windows in {@code range}, from its active instance. */
  public Future<List<WindowPoint>> series(MetricsKey key, TimeRange range) {
    String store = TelemetryTopology.storeName(key.scope(), range.window());
    KeyQueryMetadata meta = runner.streams().queryMetadataForKey(store, key.text(), Serdes.String().serializer());
    if (meta == null || meta.activeHost() == null || meta.activeHost().port() < 0) {
      return Future.failedFuture(new QueryUnavailableException("no active instance for " + key.text()
          + " yet (rebalancing)", null));
    }
    if (meta.activeHost().equals(self)) {
      return vertx.executeBlocking(() -> local.series(key, range), false);
    }
    return client.get(meta.activeHost().port(), meta.activeHost().host(), SERIES_PATH)
        .addQueryParam("key", key.text())
        .addQueryParam("window", range.window().label())
        .addQueryParam("from", Long.toString(range.fromMillis()))
        .addQueryParam("to", Long.toString(range.toMillis()))
        .send()
        .transform(ar -> ar.succeeded() && ar.result().statusCode() == 200
            ? Future.succeededFuture(seriesFromJson(ar.result().bodyAsJsonObject()))
            : Future.failedFuture(unavailable(meta.activeHost(), ar.failed() ? ar.cause() : null,
                ar.succeeded() ? ar.result() : null)));
  }

  private Future<Map<String, FlowStats>> remoteScan(HostInfo host, MetricsScope scope, TimeRange range) {
    return client.get(host.port(), host.host(), SCAN_PATH)
        .addQueryParam("scope", scope.label())
        .addQueryParam("window", range.window().label())
        .addQueryParam("from", Long.toString(range.fromMillis()))
        .addQueryParam("to", Long.toString(range.toMillis()))
        .send()
        .transform(ar -> ar.succeeded() && ar.result().statusCode() == 200
            ? Future.succeededFuture(scanFromJson(ar.result().bodyAsJsonObject()))
            : Future.failedFuture(unavailable(host, ar.failed() ? ar.cause() : null,
                ar.succeeded() ? ar.result() : null)));
  }

  private static QueryUnavailableException unavailable(HostInfo host, Throwable cause,
      HttpResponse<Buffer> response) {
    String detail = cause != null ? cause.toString() : "HTTP " + response.statusCode() + " " + response.bodyAsString();
    return new QueryUnavailableException("instance " + host.host() + ":" + host.port() + " did not answer: " + detail,
        cause);
  }

  /** The wire form of a local scan. */
  public static JsonObject scanToJson(Map<String, FlowStats> scan) {
    JsonArray entries = new JsonArray();
    scan.forEach((k, v) -> entries.add(new JsonObject().put("key", k).put("stats", encode(v))));
    return new JsonObject().put("entries", entries);
  }

  static Map<String, FlowStats> scanFromJson(JsonObject json) {
    Map<String, FlowStats> out = new TreeMap<>();
    for (Object o : json.getJsonArray("entries", new JsonArray())) {
      JsonObject e = (JsonObject) o;
      out.put(e.getString("key"), decode(e.getString("stats")));
    }
    return out;
  }

  /** The wire form of a local series. */
  public static JsonObject seriesToJson(List<WindowPoint> points) {
    JsonArray out = new JsonArray();
    points.forEach(p -> out.add(new JsonObject().put("start", p.startMillis()).put("stats", encode(p.stats()))));
    return new JsonObject().put("points", out);
  }

  static List<WindowPoint> seriesFromJson(JsonObject json) {
    List<WindowPoint> out = new ArrayList<>();
    for (Object o : json.getJsonArray("points", new JsonArray())) {
      JsonObject p = (JsonObject) o;
      out.add(new WindowPoint(p.getLong("start"), decode(p.getString("stats"))));
    }
    return out;
  }

  private static String encode(FlowStats stats) {
    return Base64.getEncoder().encodeToString(stats.toBytes());
  }

  private static FlowStats decode(String b64) {
    return FlowStats.fromBytes(Base64.getDecoder().decode(b64));
  }
}
