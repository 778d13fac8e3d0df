package dev.lattice.policy.api;

import dev.lattice.policy.engine.Decision;
import dev.lattice.policy.engine.Explainer;
import dev.lattice.policy.engine.PolicyRef;
import dev.lattice.policy.engine.RequestContext;
import dev.lattice.policy.model.ObjectMeta;
import dev.lattice.policy.model.RegistryView;
import dev.lattice.policy.model.SpiffePrincipal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code GET/POST /v1/explain}: would a request be allowed, and which policy and rule decided (dry-run
 * outcomes and audit marks too)? Query parameters (GET) or a JSON body (POST): {@code from} (SPIFFE ID),
 * {@code to} (service host, required), {@code namespace} (for a short {@code to}, default
 * {@code default}), {@code method}, {@code path}, {@code port}, {@code sourceIp}, {@code header}
 * ({@code name:value}, repeatable; POST: {@code headers} object). No method means a TCP connection.
 * Evaluation is {@link Explainer}, i.e. the data plane's engine. Stateless handlers; never block.
 */
public final class ExplainRoutes {
  private final ResourceStore store;
  private final RegistryView registry;
  private final Explainer explainer;

  public ExplainRoutes(ResourceStore store, RegistryView registry, String rootNamespace) {
    this.store = store;
    this.registry = registry;
    this.explainer = new Explainer(rootNamespace);
  }

  public void mount(Router router) {
    router.route("/v1/explain").handler(BodyHandler.create().setBodyLimit(64 * 1024));
    router.get("/v1/explain").handler(rc -> {
      JsonObject q = new JsonObject();
      rc.queryParams().names().forEach(n -> {
        if (!n.equals("header")) q.put(n, rc.queryParams().get(n));
      });
      JsonObject headers = new JsonObject();
      for (String h : rc.queryParams().getAll("header")) {
        int colon = h.indexOf(':');
        if (colon <= 0) {
          ResourceRoutes.respond(rc, 400, error("header", "\"" + h + "\" (expected: name:value)"));
          return;
        }
        headers.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
      }
      q.put("headers", headers);
      explain(rc, q);
    });
    router.post("/v1/explain").handler(rc -> {
      JsonObject body;
      try {
        body = rc.body() == null || rc.body().length() == 0 ? new JsonObject() : rc.body().asJsonObject();
      } catch (DecodeException | ClassCastException e) {
        ResourceRoutes.respond(rc, 400, error("", "malformed JSON body: " + e.getMessage()));
        return;
      }
      explain(rc, body);
    });
  }

  private void explain(RoutingContext rc, JsonObject q) {
    String to = q.getString("to");
    if (to == null || to.isBlank()) {
      ResourceRoutes.respond(rc, 400, error("to", "missing (expected: the destination service host, e.g. reviews.prod)"));
      return;
    }
    String from = q.getString("from");
    if (from != null && !from.isBlank()) {
      var problem = SpiffePrincipal.problem(from);
      if (problem.isPresent() || from.contains("*")) {
        ResourceRoutes.respond(rc, 400, error("from", problem.orElse("\"" + from + "\": wildcards are for policies (expected: one SPIFFE ID)")));
        return;
      }
    } else {
      from = null;
    }
    int port = 0;
    Object portValue = q.getValue("port");
    if (portValue != null) {
      try {
        port = Integer.parseInt(String.valueOf(portValue));
      } catch (NumberFormatException e) {
        ResourceRoutes.respond(rc, 400, error("port", "\"" + portValue + "\" (expected: a port 1..65535)"));
        return;
      }
      if (port < 1 || port > 65535) {
        ResourceRoutes.respond(rc, 400, error("port", port + " (expected: a port 1..65535)"));
        return;
      }
    }
    Map<String, String> headers = new LinkedHashMap<>();
    JsonObject h = q.getJsonObject("headers", new JsonObject());
    h.forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue())));
    RequestContext request = RequestContext.builder().from(from).method(q.getString("method")).path(q.getString("path"))
        .port(port).sourceIp(q.getString("sourceIp")).host(q.getString("host")).headers(headers).build();
    Explainer.Explanation ex = explainer.explain(to, q.getString("namespace", ObjectMeta.DEFAULT_NAMESPACE), request,
        store.authorizationPolicies(), registry);
    ResourceRoutes.respond(rc, 200, toJson(ex));
  }

  static JsonObject toJson(Explainer.Explanation ex) {
    JsonArray decisions = new JsonArray();
    for (Explainer.WorkloadDecision wd : ex.decisions()) {
      Decision d = wd.decision();
      JsonObject o = new JsonObject().put("namespace", wd.namespace()).put("labels", new JsonObject(new LinkedHashMap<>(wd.labels())))
          .put("workloads", new JsonArray(wd.workloads()))
          .put("policies", new JsonArray(wd.policies().stream().map(PolicyRef::toString).toList()))
          .put("verdict", d.verdict().name())
          .put("policy", d.policy() == null ? null : d.policy().toString())
          .put("rule", d.ruleIndex() < 0 ? null : d.ruleIndex())
          .put("reason", d.reason())
          .put("audits", new JsonArray(d.audits().stream().map(Decision.Match::toString).toList()));
      if (d.dryRun() != null) {
        o.put("dryRun", new JsonObject().put("verdict", d.dryRun().verdict().name())
            .put("policy", d.dryRun().policy() == null ? null : d.dryRun().policy().toString())
            .put("rule", d.dryRun().ruleIndex() < 0 ? null : d.dryRun().ruleIndex())
            .put("reason", d.dryRun().reason()));
      }
      decisions.add(o);
    }
    return new JsonObject().put("verdict", ex.verdict().name()).put("host", ex.host()).put("note", ex.note())
        .put("decisions", decisions);
  }

  private static JsonObject error(String path, String message) {
    return new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", path).put("message", message)));
  }
}
