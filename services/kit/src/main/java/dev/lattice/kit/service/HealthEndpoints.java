package dev.lattice.kit.service;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Duration;
import java.util.List;

/**
 * Mounts the three operational endpoints every Lattice service has on its router:
 * {@code GET /healthz} (200 while the process lives), {@code GET /readyz} (200 when every readiness
 * check passes, else 503; JSON either way) and {@code GET /metrics} (Prometheus text).
 *
 * <p>Stateless after construction and thread-safe; the handlers never block the event loop (readiness
 * checks are asynchronous and each is bounded by a timeout, the Prometheus scrape is an in-memory
 * render).
 */
public final class HealthEndpoints {

  /** Content type of the Prometheus text exposition format 0.0.4. */
  public static final String PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

  private final String serviceName;
  private final Readiness readiness;
  private final Vertx vertx;
  private final Duration checkTimeout;
  private final List<PrometheusMeterRegistry> registries;

  /**
   * @param serviceName reported in the {@code /readyz} body
   * @param readiness the checks {@code /readyz} evaluates
   * @param vertx for the per-check timeout timers
   * @param checkTimeout how long one check may take before it counts as failing
   * @param registries scraped in order and concatenated on {@code /metrics} (their meter names must
   *     not overlap)
   */
  public HealthEndpoints(String serviceName, Readiness readiness, Vertx vertx, Duration checkTimeout,
      List<PrometheusMeterRegistry> registries) {
    this.serviceName = serviceName;
    this.readiness = readiness;
    this.vertx = vertx;
    this.checkTimeout = checkTimeout;
    this.registries = List.copyOf(registries);
  }

  /** Adds the three routes to {@code router}. */
  public void mount(Router router) {
    router.get("/healthz").handler(this::healthz);
    router.get("/readyz").handler(this::readyz);
    router.get("/metrics").handler(this::metrics);
  }

  private void healthz(RoutingContext rc) {
    rc.response()
        .putHeader("content-type", "application/json")
        .end(new JsonObject().put("service", serviceName).put("status", "alive").encode());
  }

  private void readyz(RoutingContext rc) {
    readiness.evaluate(vertx, checkTimeout).onComplete(ar -> {
      if (ar.failed()) {
        // evaluate() never fails by contract; if it does, report it rather than hang the probe.
        respondReadiness(rc, false, new JsonArray().add(new JsonObject()
            .put("name", "readiness").put("ready", false)
            .put("detail", String.valueOf(ar.cause().getMessage()))));
        return;
      }
      JsonArray checks = new JsonArray();
      boolean ready = true;
      for (Readiness.CheckResult r : ar.result()) {
        ready &= r.ready();
        checks.add(new JsonObject().put("name", r.name()).put("ready", r.ready()).put("detail", r.detail()));
      }
      respondReadiness(rc, ready, checks);
    });
  }

  private void respondReadiness(RoutingContext rc, boolean ready, JsonArray checks) {
    JsonObject body = new JsonObject()
        .put("service", serviceName)
        .put("status", ready ? "ready" : "not ready")
        .put("checks", checks);
    if (!ready) {
      JsonArray failing = new JsonArray();
      checks.forEach(c -> {
        JsonObject check = (JsonObject) c;
        if (!check.getBoolean("ready")) failing.add(check.getString("name") + ": " + check.getString("detail"));
      });
      body.put("failing", failing);
    }
    rc.response()
        .setStatusCode(ready ? 200 : 503)
        .putHeader("content-type", "application/json")
        .putHeader("cache-control", "no-store")
        .end(body.encodePrettily());
  }

  private void metrics(RoutingContext rc) {
    StringBuilder text = new StringBuilder(8192);
    for (PrometheusMeterRegistry registry : registries) {
      text.append(registry.scrape());
    }
    rc.response().putHeader("content-type", PROMETHEUS_CONTENT_TYPE).end(text.toString());
  }
}
