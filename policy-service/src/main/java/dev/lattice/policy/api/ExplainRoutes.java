package dev.lattice.policy.api;

import dev.lattice.authz.Decision;
import dev.lattice.authz.IpBlock;
import dev.lattice.authz.PolicyRef;
import dev.lattice.events.ResourceEvent;
import dev.lattice.kit.service.HttpFailureHandler;
import dev.lattice.policy.explain.Explainer;
import dev.lattice.policy.model.ObjectMeta;
import dev.lattice.policy.model.ResourceKind;
import dev.lattice.policy.model.RegistryView;
import dev.lattice.policy.model.SpiffePrincipal;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code GET/POST /v1/explain}: would a request be allowed, and which policy and rule decided (dry-run
 * outcomes and audit marks too)? Query parameters (GET) or a JSON body (POST): {@code from} (SPIFFE ID),
 * {@code to} (service host, required), {@code namespace} (for a short {@code to}, default
 * {@code default}), {@code method}, {@code path}, {@code port}, {@code sourceIp}, {@code header}
 * ({@code name:value}, repeatable; POST: {@code headers} object). No method means a TCP connection.
 * Evaluation is {@link Explainer}: the compiler's policy selection and the data plane's engine
 * ({@code lattice-authz}), run on a worker thread. Answers carry per destination workload the verdict, the
 * reason code ({@code allow_matched}, {@code deny_matched}, {@code no_allow_match}, {@code no_policies},
 * {@code no_allow_policies}, {@code rejected_before_authz}), a one-line {@code detail}, the deciding policy
 * and rule, dry-run outcome and audit matches.
 */
public final class ExplainRoutes {
  private final ResourceStore store;
  private final RegistryView registry;
  private final Explainer explainer;

  public ExplainRoutes(ResourceStore store, RegistryView registry, Explainer explainer) {
    this.store = store;
    this.registry = registry;
    this.explainer = explainer;
  }

  public void mount(Router router) {
    router.route("/v1/explain").handler(HttpFailureHandler.bodyHandler(64 * 1024));
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
    String sourceIp = q.getString("sourceIp");
    if (sourceIp != null && IpBlock.literal(sourceIp) == null) {
      ResourceRoutes.respond(rc, 400, error("sourceIp", "\"" + sourceIp + "\" (expected: an IP address such as 10.0.0.7)"));
      return;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    JsonObject h = q.getJsonObject("headers", new JsonObject());
    h.forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue())));
    Explainer.Request request = new Explainer.Request(from, sourceIp, q.getString("host"), port,
        q.getString("method"), q.getString("path"), headers);
    String namespace = q.getString("namespace", ObjectMeta.DEFAULT_NAMESPACE);
    rc.vertx().executeBlocking(() -> {
      List<ResourceEvent> policies = store.list(ResourceKind.AUTHORIZATION_POLICY, null).stream()
          .map(ResourceStore.Entry::event).toList();
      return explainer.explain(to, namespace, request, policies, registry);
    }, false).onComplete(done -> {
      if (done.succeeded()) {
        ResourceRoutes.respond(rc, 200, toJson(done.result()));
      } else {
        rc.fail(done.cause());
      }
    });
  }

  static JsonObject toJson(Explainer.Explanation ex) {
    JsonArray decisions = new JsonArray();
    for (Explainer.WorkloadDecision wd : ex.decisions()) {
      Decision d = wd.decision();
      JsonObject o = new JsonObject().put("namespace", wd.namespace()).put("labels", new JsonObject(new LinkedHashMap<>(wd.labels())))
          .put("workloads", new JsonArray(wd.workloads()))
          .put("policies", new JsonArray(wd.policies().stream().map(PolicyRef::toString).toList()))
          .put("verdict", d.verdict().name())
          .put("reason", d.reason().code())
          .put("detail", d.detail())
          .put("policy", d.policyName())
          .put("rule", d.ruleIndex() < 0 ? null : d.ruleIndex())
          .put("audits", new JsonArray(d.audits().stream().map(Decision.Match::toString).toList()));
      if (d.dryRun() != null) {
        Decision.Outcome dry = d.dryRun();
        o.put("dryRun", new JsonObject().put("verdict", dry.verdict().name())
            .put("reason", dry.reason().code())
            .put("detail", dry.detail())
            .put("policy", dry.policy() == null ? null : dry.policy().toString())
            .put("rule", dry.ruleIndex() < 0 ? null : dry.ruleIndex()));
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
