package dev.lattice.telemetry.live;

import dev.lattice.events.FlowRecord;
import dev.lattice.telemetry.flow.FlowFilter;
import dev.lattice.telemetry.flow.FlowJson;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live flow view: {@code GET /v1/flows?last=N&from=&to=&namespace=&workload=&verdict=&status=&denied=} answers the
 * newest matching flows this instance has seen (at most {@link Settings#recent()}), and with
 * {@code follow=true} keeps the response open as a Server-Sent-Events stream ({@code event: flow}, one
 * {@link FlowJson} per {@code data:} line), after replaying the {@code last} ones (default 0 when following).
 *
 * <p>A client that reads slower than flows arrive is never waited for: what its socket cannot take waits in
 * its own bounded buffer ({@link Settings#clientBuffer()} events); when that overflows the client is
 * disconnected and counted ({@code lattice_telemetry_flow_clients_dropped_total}), so one slow reader costs a
 * bounded amount of memory and never slows the others or the pipeline. More than
 * {@link Settings#maxClients()} followers at once answer 503.
 *
 * <p>Confined to one Vert.x context: {@link #publish} may be called from any thread and hops onto it.
 */
public final class FlowStreamHub {

  /**
   * @param recent flows kept for {@code last=N} answers
   * @param clientBuffer events one follower may have waiting before it is dropped
   * @param maxClients followers at once
   * @param keepAliveMillis interval of SSE comment lines that keep idle connections open (0: none)
   */
  public record Settings(int recent, int clientBuffer, int maxClients, long keepAliveMillis) {
    public Settings {
      if (recent < 0 || clientBuffer < 1 || maxClients < 1 || keepAliveMillis < 0) {
        throw new IllegalArgumentException("flow stream settings: recent=" + recent + " clientBuffer=" + clientBuffer
            + " maxClients=" + maxClients + " keepAliveMillis=" + keepAliveMillis
            + " (expected: recent >= 0, clientBuffer >= 1, maxClients >= 1, keepAliveMillis >= 0)");
      }
    }

    public static Settings defaults() {
      return new Settings(1000, 1000, 64, 15_000);
    }
  }

  /** Bytes Vert.x queues on one connection before we consider its socket full. */
  static final int WRITE_QUEUE_BYTES = 64 * 1024;

  private final Context context;
  private final Settings settings;
  private final ArrayDeque<FlowRecord> recent = new ArrayDeque<>();
  private final Set<Follower> followers = new LinkedHashSet<>();
  private final AtomicLong dropped = new AtomicLong();
  private final AtomicLong delivered = new AtomicLong();
  private final Counter droppedCounter;
  private long keepAliveTimer = -1;

  public FlowStreamHub(Vertx vertx, Settings settings, MeterRegistry meters) {
    this.context = vertx.getOrCreateContext();
    this.settings = settings;
    this.droppedCounter = meters == null ? null : Counter.builder("lattice_telemetry_flow_clients_dropped_total")
        .description("Live flow followers disconnected because their buffer overflowed (slow readers)")
        .register(meters);
    if (meters != null) {
      Gauge.builder("lattice_telemetry_flow_clients", this, h -> h.followerCount())
          .description("Live flow followers connected").register(meters);
    }
    if (settings.keepAliveMillis() > 0) {
      context.runOnContext(v -> keepAliveTimer = vertx.setPeriodic(settings.keepAliveMillis(), id -> keepAlive()));
    }
  }

  /** Mounts {@code GET /v1/flows}. */
  public void mount(Router router) {
    router.get("/v1/flows").handler(this::handle);
  }

  /** Hands new flows to the view (any thread). */
  public void publish(List<FlowRecord> batch) {
    context.runOnContext(v -> deliver(batch));
  }

  /** Followers disconnected for reading too slowly (since start). */
  public long droppedClients() {
    return dropped.get();
  }

  /** Events written or buffered for followers (since start). */
  public long deliveredEvents() {
    return delivered.get();
  }

  /** Followers connected now (approximate off the hub's context). */
  public int followerCount() {
    return followers.size();
  }

  /** Stops the keep-alive timer and ends every follower's stream. */
  public void close() {
    context.runOnContext(v -> {
      if (keepAliveTimer >= 0) {
        context.owner().cancelTimer(keepAliveTimer);
      }
      new ArrayList<>(followers).forEach(f -> f.response.end());
      followers.clear();
    });
  }

  private void handle(RoutingContext rc) {
    FlowFilter filter;
    int last;
    boolean follow;
    try {
      filter = FlowFilter.parse(rc.queryParams()::get);
      follow = bool(rc.queryParams().get("follow"), "follow");
      last = intParam(rc.queryParams().get("last"), follow ? 0 : 100, "last");
    } catch (IllegalArgumentException e) {
      error(rc, 400, e.getMessage());
      return;
    }
    context.runOnContext(v -> {
      List<FlowRecord> replay = newest(filter, last);
      if (!follow) {
        JsonArray flows = new JsonArray();
        replay.forEach(f -> flows.add(FlowJson.toJson(f)));
        rc.json(new JsonObject().put("flows", flows));
        return;
      }
      if (followers.size() >= settings.maxClients()) {
        rc.response().putHeader("Retry-After", "5");
        error(rc, 503, "too many flow followers (" + settings.maxClients() + "); try again later");
        return;
      }
      HttpServerResponse response = rc.response();
      response.setChunked(true)
          .putHeader("Content-Type", "text/event-stream")
          .putHeader("Cache-Control", "no-cache")
          .putHeader("X-Accel-Buffering", "no")
          .setWriteQueueMaxSize(WRITE_QUEUE_BYTES);
      Follower follower = new Follower(response, filter);
      followers.add(follower);
      response.closeHandler(x -> followers.remove(follower));
      response.exceptionHandler(x -> followers.remove(follower));
      response.drainHandler(x -> follower.drain());
      response.write(": following flows\n\n");
      replay.forEach(follower::offer);
    });
  }

  private void deliver(List<FlowRecord> batch) {
    for (FlowRecord f : batch) {
      recent.addLast(f);
      if (recent.size() > settings.recent()) {
        recent.removeFirst();
      }
    }
    if (followers.isEmpty()) {
      return;
    }
    for (Follower follower : new ArrayList<>(followers)) {
      for (FlowRecord f : batch) {
        if (!follower.offer(f)) {
          break;
        }
      }
    }
  }

  private List<FlowRecord> newest(FlowFilter filter, int n) {
    ArrayDeque<FlowRecord> out = new ArrayDeque<>();
    Iterator<FlowRecord> it = recent.descendingIterator();
    while (out.size() < n && it.hasNext()) {
      FlowRecord f = it.next();
      if (filter.test(f)) {
        out.addFirst(f);
      }
    }
    return List.copyOf(out);
  }

  private void keepAlive() {
    for (Follower f : new ArrayList<>(followers)) {
      if (f.pending.isEmpty() && !f.response.writeQueueFull()) {
        f.response.write(": keep-alive\n\n");
      }
    }
  }

  private static boolean bool(String v, String name) {
    if (v == null || v.isEmpty()) {
      return false;
    }
    if (!v.equals("true") && !v.equals("false")) {
      throw new IllegalArgumentException(name + ": '" + v + "' (expected: true or false)");
    }
    return Boolean.parseBoolean(v);
  }

  private int intParam(String v, int fallback, String name) {
    if (v == null || v.isEmpty()) {
      return Math.min(fallback, settings.recent());
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 0 && n <= settings.recent()) {
        return n;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw new IllegalArgumentException(name + ": '" + v + "' (expected: 0.." + settings.recent() + ")");
  }

  private static void error(RoutingContext rc, int status, String message) {
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  /** One SSE client and what its socket could not take yet. */
  private final class Follower {
    final HttpServerResponse response;
    final FlowFilter filter;
    final ArrayDeque<String> pending = new ArrayDeque<>();

    Follower(HttpServerResponse response, FlowFilter filter) {
      this.response = response;
      this.filter = filter;
    }

    /** Queues one flow if it matches; false once the follower is gone. */
    boolean offer(FlowRecord f) {
      if (!followers.contains(this)) {
        return false;
      }
      if (!filter.test(f)) {
        return true;
      }
      String event = "event: flow\ndata: " + FlowJson.toJson(f).encode() + "\n\n";
      delivered.incrementAndGet();
      if (pending.isEmpty() && !response.writeQueueFull()) {
        response.write(event);
        return true;
      }
      pending.addLast(event);
      if (pending.size() > settings.clientBuffer()) {
        drop();
        return false;
      }
      return true;
    }

    void drain() {
      while (!pending.isEmpty() && !response.writeQueueFull()) {
        response.write(pending.removeFirst());
      }
    }

    private void drop() {
      followers.remove(this);
      pending.clear();
      dropped.incrementAndGet();
      if (droppedCounter != null) {
        droppedCounter.increment();
      }
      // The socket is full, so a goodbye event could not be read anyway: reset the connection.
      response.reset();
    }
  }
}
