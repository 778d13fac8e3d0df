package dev.lattice.policy.registry;

import dev.lattice.kit.kafka.KafkaUnavailableException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.service.HttpFailureHandler;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

/**
 * REST door of the static registry, for hosts and VMs no orchestrator reports:
 * {@code PUT /v1/registry/:namespace/:workload/:instance} (body: one entry as in {@link StaticRegistry},
 * JSON; path parameters fill or must match namespace/workload/instance) publishes the instance;
 * {@code DELETE} of the same path publishes its removal; {@code GET /v1/registry} lists the live registry.
 * Errors are 400 with {@code {"errors": ["path: seen (expected: …)"]}}.
 *
 * <p>Handlers never block: parsing is in memory and publishing is asynchronous. Stateless; thread-safe.
 */
public final class StaticRegistryRoutes {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long MAX_BODY = 64 * 1024;

  private final RegistrySink sink;
  private final RegistryIndex index;
  private final String trustDomain;
  private final Clock clock;

  public StaticRegistryRoutes(RegistrySink sink, RegistryIndex index, String trustDomain, Clock clock) {
    this.sink = sink;
    this.index = index;
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  /** Adds the routes to {@code router}. */
  public void mount(Router router) {
    router.put("/v1/registry/:namespace/:workload/:instance").handler(HttpFailureHandler.bodyHandler(MAX_BODY))
        .handler(this::put);
    router.delete("/v1/registry/:namespace/:workload/:instance").handler(this::delete);
    router.get("/v1/registry").handler(this::list);
  }

  private void put(RoutingContext rc) {
    List<String> errors = new ArrayList<>();
    JsonNode body;
    try {
      body = rc.body().length() == 0 ? JSON.createObjectNode() : JSON.readTree(rc.body().asString());
    } catch (java.io.IOException e) {
      badRequest(rc, List.of("body: not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")"));
      return;
    }
    if (!(body instanceof ObjectNode entry)) {
      badRequest(rc, List.of("body: not an object (expected: a workload entry)"));
      return;
    }
    for (String p : List.of("namespace", "workload", "instance")) {
      String fromPath = rc.pathParam(p);
      if (entry.has(p) && !entry.get(p).asText().equals(fromPath)) {
        errors.add(p + ": \"" + entry.get(p).asText() + "\" (expected: \"" + fromPath + "\" as in the URL)");
      }
      entry.put(p, fromPath);
    }
    WorkloadEndpoint w = StaticRegistry.entry(entry, "body", trustDomain, clock.instant(), errors);
    if (!errors.isEmpty() || w == null) {
      badRequest(rc, errors);
      return;
    }
    Future.fromCompletionStage(sink.upsert(w)).onComplete(ar -> {
      if (ar.failed()) {
        publishFailed(rc, ar.cause());
      } else {
        rc.response().putHeader("content-type", "application/json")
            .end(new JsonObject().put("key", WorkloadEndpoints.key(w)).put("published", true).encode());
      }
    });
  }

  private void delete(RoutingContext rc) {
    String key = rc.pathParam("namespace") + "/" + rc.pathParam("workload") + "/" + rc.pathParam("instance");
    Future.fromCompletionStage(sink.delete(key)).onComplete(ar -> {
      if (ar.failed()) {
        publishFailed(rc, ar.cause());
      } else {
        rc.response().putHeader("content-type", "application/json")
            .end(new JsonObject().put("key", key).put("deleted", true).encode());
      }
    });
  }

  private void list(RoutingContext rc) {
    JsonArray items = new JsonArray();
    for (RegisteredWorkload w : index.instances()) {
      items.add(new JsonObject().put("key", w.key()).put("services", new JsonArray(w.services()))
          .put("address", w.address()).put("node", w.node()).put("health", w.health())
          .put("labels", new JsonObject(new java.util.LinkedHashMap<>(w.labels()))));
    }
    rc.response().putHeader("content-type", "application/json")
        .end(new JsonObject().put("available", index.available()).put("items", items).encode());
  }

  private static void badRequest(RoutingContext rc, List<String> errors) {
    rc.response().setStatusCode(400).putHeader("content-type", "application/json")
        .end(new JsonObject().put("errors", new JsonArray(errors)).encode());
  }

  /** 503; Kafka away → with {@code Retry-After}. */
  private static void publishFailed(RoutingContext rc, Throwable err) {
    KafkaUnavailableException away = KafkaUnavailableException.find(err);
    if (away != null) rc.response().putHeader("Retry-After", away.retryAfterSeconds());
    error(rc, 503, "publishing failed: " + (away != null ? away : err).getMessage());
  }

  private static void error(RoutingContext rc, int status, String message) {
    rc.response().setStatusCode(status).putHeader("content-type", "application/json")
        .end(new JsonObject().put("errors", new JsonArray().add(message)).encode());
  }
}
