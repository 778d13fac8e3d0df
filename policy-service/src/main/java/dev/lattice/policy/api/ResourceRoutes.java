package dev.lattice.policy.api;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.kit.kafka.EventPublisher;
import dev.lattice.kit.kafka.KafkaUnavailableException;
import dev.lattice.kit.service.HttpFailureHandler;
import dev.lattice.kit.topic.Topic;
import dev.lattice.policy.model.ObjectMeta;
import dev.lattice.policy.model.ParseResult;
import dev.lattice.policy.model.ParsedDocument;
import dev.lattice.policy.model.RegistryView;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceCodec;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceKey;
import dev.lattice.policy.model.ResourceKind;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.model.ResourceView;
import dev.lattice.policy.model.ValidationContext;
import dev.lattice.policy.model.ValidationIssue;
import dev.lattice.policy.model.ValidationReport;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The REST door of the policy service, {@code /v1/resources}:
 *
 * <ul>
 *   <li>{@code POST /v1/resources} — apply (create or update) one or more resources, YAML or JSON body;
 *       optimistic concurrency: a {@code metadata.resourceVersion} that is not the current one → 409;
 *       {@code ?dryRun=true} validates and answers what would change (resource diff, and the compiled
 *       config diff through the {@link ChangePreview} seam) without writing.</li>
 *   <li>{@code PUT /v1/resources/{kind}/{namespace}/{name}} — apply one resource at that address.</li>
 *   <li>{@code GET /v1/resources[/{kind}[/{namespace}[/{name}]]]} — get or list; {@code ?labelSelector=},
 *       {@code ?output=yaml|json} (or {@code Accept: application/yaml}).</li>
 *   <li>{@code DELETE /v1/resources/{kind}/{namespace}/{name}} — delete (a tombstone); {@code ?dryRun=true}.</li>
 * </ul>
 *
 * Invalid input → 400 {@code {"errors": [{"path", "message"}], "warnings": [...]}}; unknown → 404;
 * conflicts → 409. Handlers never block: parsing and validation are in memory and writes go through the
 * non-blocking {@link EventPublisher}. Used on one Vert.x context (the in-flight set is not shared).
 */
public final class ResourceRoutes {
  private static final String YAML = "application/yaml";
  /** The largest request body read; bigger ones get 413 with this limit. */
  public static final long MAX_BODY_BYTES = 4 * 1024 * 1024;

  private final ResourceStore store;
  private final RegistryView registry;
  private final EventPublisher publisher;
  private final Topic<String, ResourceEvent> topic;
  private final ChangePreview preview;
  private final Clock clock;
  private final ResourceParser parser = ResourceParser.create();
  private final Set<String> inFlight = new HashSet<>();

  public ResourceRoutes(ResourceStore store, RegistryView registry, EventPublisher publisher,
      Topic<String, ResourceEvent> topic, ChangePreview preview, Clock clock) {
    this.store = store;
    this.registry = registry;
    this.publisher = publisher;
    this.topic = topic;
    this.preview = preview;
    this.clock = clock;
  }

  /** Adds the routes to {@code router}. */
  public void mount(Router router) {
    // Refuse a body we cannot read before reading it (and before BodyHandler decodes it as a form).
    router.post("/v1/resources").handler(ResourceRoutes::requireResourceContentType);
    router.put("/v1/resources/:kind/:namespace/:name").handler(ResourceRoutes::requireResourceContentType);
    router.route("/v1/resources*").handler(HttpFailureHandler.bodyHandler(MAX_BODY_BYTES));
    router.post("/v1/resources").handler(rc -> apply(rc, null));
    router.put("/v1/resources/:kind/:namespace/:name").handler(rc -> resolveKind(rc).ifPresent(kind ->
        apply(rc, new ResourceKey(kind, rc.pathParam("namespace"), rc.pathParam("name")))));
    router.get("/v1/resources").handler(rc -> list(rc, null, null));
    router.get("/v1/resources/:kind").handler(rc -> resolveKind(rc).ifPresent(k -> list(rc, k, null)));
    router.get("/v1/resources/:kind/:namespace").handler(rc -> resolveKind(rc).ifPresent(k -> list(rc, k, rc.pathParam("namespace"))));
    router.get("/v1/resources/:kind/:namespace/:name").handler(this::get);
    router.delete("/v1/resources/:kind/:namespace/:name").handler(this::delete);
  }

  // ------------------------------------------------------------------ apply

  private record Planned(Resource resource, ResourceEvent event, String action, List<ValidationIssue> warnings, List<String> diff) {}

  private void apply(RoutingContext rc, ResourceKey addressed) {
    boolean dryRun = flag(rc, "dryRun");
    String body = rc.body() == null ? null : rc.body().asString();
    ParseResult parsed = parser.parse(body == null ? "" : body);
    JsonArray errors = new JsonArray();
    JsonArray warnings = new JsonArray();
    if (parsed.syntaxError() != null) errors.add(issue(parsed.syntaxError(), null));
    boolean many = parsed.documents().size() > 1;
    for (ParsedDocument d : parsed.documents()) {
      for (ValidationIssue e : d.errors()) errors.add(issue(e, many ? d : null));
    }
    if (!errors.isEmpty()) {
      respond(rc, 400, new JsonObject().put("errors", errors).put("warnings", warnings));
      return;
    }
    List<Resource> resources = parsed.resources();
    if (addressed != null) {
      if (resources.size() != 1) {
        badRequest(rc, "", resources.size() + " resources (expected: exactly one for PUT)");
        return;
      }
      ResourceKey k = resources.get(0).key();
      if (!k.equals(addressed)) {
        badRequest(rc, "metadata", "body is " + k + " (expected: " + addressed + " as in the URL)");
        return;
      }
    }
    Set<String> keys = new HashSet<>();
    ValidationContext ctx = new ValidationContext(registry, ResourceView.of(resources).orElse(store));
    List<ValidationReport> reports = new ArrayList<>();
    for (int i = 0; i < resources.size(); i++) {
      Resource r = resources.get(i);
      ParsedDocument d = parsed.documents().get(i);
      if (!keys.add(r.key().asString())) {
        errors.add(issue(ValidationIssue.error("metadata.name", r.key() + " appears twice (expected: each resource once)"), many ? d : null));
      }
      ValidationReport report = ResourceValidator.validate(r, ctx);
      reports.add(report);
      for (ValidationIssue e : report.errors()) errors.add(issue(e, many ? d : null).put("resource", r.key().asString()));
      for (ValidationIssue w : report.warnings()) warnings.add(issue(w, many ? d : null).put("resource", r.key().asString()));
    }
    if (!errors.isEmpty()) {
      respond(rc, 400, new JsonObject().put("errors", errors).put("warnings", warnings));
      return;
    }
    List<Planned> plan = new ArrayList<>();
    for (int i = 0; i < resources.size(); i++) {
      Resource r = resources.get(i);
      String key = r.key().asString();
      if (inFlight.contains(key)) {
        conflict(rc, r.key(), "another change to " + r.key() + " is in progress (expected: retry once it completes)");
        return;
      }
      Optional<ResourceStore.Entry> current = store.get(r.key());
      Optional<Long> sent = r.metadata().resourceVersionNumber();
      if (sent.isPresent()) {
        if (current.isEmpty()) {
          conflict(rc, r.key(), r.key() + " does not exist, but resourceVersion " + sent.get()
              + " was sent (expected: no resourceVersion when creating)");
          return;
        }
        if (sent.get() != current.get().resourceVersion()) {
          conflict(rc, r.key(), "resourceVersion " + sent.get() + " is stale: " + r.key() + " is at "
              + current.get().resourceVersion() + " (expected: the current resourceVersion; get the resource, re-apply your change and retry)");
          return;
        }
      }
      plan.add(plan(r, current, reports.get(i), rc));
    }
    List<Resource> proposed = plan.stream().filter(p -> !p.action().equals("unchanged")).map(Planned::resource).toList();
    if (dryRun) {
      preview.preview(proposed, List.of())
          .recover(err -> Future.succeededFuture(new JsonObject().put("error", String.valueOf(err.getMessage()))))
          .onComplete(ar -> respond(rc, 200, result(plan, warnings, true).put("compiled", ar.result())));
      return;
    }
    List<Future<?>> writes = new ArrayList<>();
    for (Planned p : plan) {
      if (p.action().equals("unchanged")) continue;
      String key = p.resource().key().asString();
      inFlight.add(key);
      writes.add(publisher.publish(topic, key, p.event())
          .onSuccess(md -> store.recordWrite(key, p.event()))
          .eventually(() -> {
            inFlight.remove(key);
            return Future.succeededFuture();
          }));
    }
    Future.all(writes).onComplete(ar -> {
      if (ar.failed()) {
        writeFailed(rc, ar.cause());
        return;
      }
      boolean allCreated = plan.stream().allMatch(p -> p.action().equals("created"));
      respond(rc, allCreated ? 201 : 200, result(plan, warnings, false));
    });
  }

  private Planned plan(Resource r, Optional<ResourceStore.Entry> current, ValidationReport report, RoutingContext rc) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    long version = store.lastVersion(r.key()) + 1;
    String action;
    long generation;
    ObjectMeta meta;
    if (current.isEmpty()) {
      action = "created";
      generation = 1;
      meta = r.metadata().withServerFields(Long.toString(version), now.toString(), UUID.randomUUID().toString());
    } else {
      Resource old = current.get().resource();
      // Compare as stored: the event mapping fills defaults (e.g. action ALLOW), so map the new one the same way.
      r = normalized(r);
      boolean specSame = Objects.equals(old.spec(), r.spec());
      boolean metaSame = old.metadata().labels().equals(r.metadata().labels())
          && old.metadata().annotations().equals(r.metadata().annotations());
      action = specSame && metaSame ? "unchanged" : "configured";
      generation = current.get().event().getGeneration() + (specSame ? 0 : 1);
      if (action.equals("unchanged")) version = current.get().resourceVersion();
      meta = r.metadata().withServerFields(Long.toString(version), old.metadata().creationTimestamp(), old.metadata().uid());
    }
    Resource stamped = r.withMetadata(meta);
    String author = Optional.ofNullable(rc.request().getHeader("lattice-author")).orElse("anonymous");
    String agent = Optional.ofNullable(rc.request().getHeader("user-agent")).orElse("");
    ResourceSource source = agent.startsWith("lattice-cli") ? ResourceSource.CLI : ResourceSource.REST;
    ResourceEvent event = ResourceEventMapper.toEvent(stamped, new ResourceEventMapper.Provenance(generation, author, source, now));
    List<String> diff = TextDiff.lines(current.map(c -> ResourceCodec.toYaml(withoutServerFields(c.resource()))).orElse(""),
        ResourceCodec.toYaml(withoutServerFields(stamped)));
    return new Planned(stamped, event, action, report.warnings(), diff);
  }

  private static Resource normalized(Resource r) {
    try {
      return ResourceEventMapper.toResource(ResourceEventMapper.toEvent(r,
          new ResourceEventMapper.Provenance(1, "", ResourceSource.REST, Instant.EPOCH))).withMetadata(r.metadata());
    } catch (RuntimeException e) {
      return r;
    }
  }

  private static Resource withoutServerFields(Resource r) {
    return r.withMetadata(r.metadata().withServerFields(null, null, null));
  }

  private static JsonObject result(List<Planned> plan, JsonArray warnings, boolean dryRun) {
    JsonArray results = new JsonArray();
    for (Planned p : plan) {
      ResourceKey k = p.resource().key();
      JsonObject o = new JsonObject().put("key", k.asString()).put("kind", k.kind().kindName())
          .put("namespace", k.namespace()).put("name", k.name()).put("action", p.action())
          .put("resourceVersion", p.resource().metadata().resourceVersion());
      if (dryRun) o.put("diff", new JsonArray(new ArrayList<>(p.diff())));
      results.add(o);
    }
    return new JsonObject().put("dryRun", dryRun).put("results", results).put("warnings", warnings);
  }

  // ------------------------------------------------------------------ read

  private void list(RoutingContext rc, ResourceKind kind, String namespace) {
    LabelSelector selector;
    try {
      selector = LabelSelector.parse(rc.queryParams().get("labelSelector"));
    } catch (IllegalArgumentException e) {
      badRequest(rc, "labelSelector", e.getMessage().replaceFirst("^labelSelector: ", ""));
      return;
    }
    String ns = namespace != null ? namespace : rc.queryParams().get("namespace");
    List<Resource> items = store.list(kind, ns).stream().map(ResourceStore.Entry::resource)
        .filter(r -> selector.matches(r.metadata().labels())).toList();
    if (wantsYaml(rc)) {
      rc.response().putHeader("content-type", YAML).end(ResourceCodec.toYaml(items));
      return;
    }
    JsonArray arr = new JsonArray();
    items.forEach(r -> arr.add(new JsonObject(ResourceCodec.toJson(r))));
    respond(rc, 200, new JsonObject().put("apiVersion", Resource.API_VERSION).put("kind", "List").put("items", arr));
  }

  private void get(RoutingContext rc) {
    Optional<ResourceKind> kind = resolveKind(rc);
    if (kind.isEmpty()) return;
    ResourceKey key = new ResourceKey(kind.get(), rc.pathParam("namespace"), rc.pathParam("name"));
    Optional<ResourceStore.Entry> e = store.get(key);
    if (e.isEmpty()) {
      notFound(rc, key);
      return;
    }
    if (wantsYaml(rc)) {
      rc.response().putHeader("content-type", YAML).end(ResourceCodec.toYaml(e.get().resource()));
    } else {
      rc.response().putHeader("content-type", "application/json").end(ResourceCodec.toJson(e.get().resource()));
    }
  }

  // ------------------------------------------------------------------ delete

  private void delete(RoutingContext rc) {
    Optional<ResourceKind> kind = resolveKind(rc);
    if (kind.isEmpty()) return;
    ResourceKey key = new ResourceKey(kind.get(), rc.pathParam("namespace"), rc.pathParam("name"));
    Optional<ResourceStore.Entry> e = store.get(key);
    if (e.isEmpty()) {
      notFound(rc, key);
      return;
    }
    JsonObject result = new JsonObject().put("key", key.asString()).put("action", "deleted")
        .put("dryRun", flag(rc, "dryRun"));
    if (flag(rc, "dryRun")) {
      preview.preview(List.of(), List.of(e.get().resource()))
          .recover(err -> Future.succeededFuture(new JsonObject().put("error", String.valueOf(err.getMessage()))))
          .onComplete(ar -> respond(rc, 200, result.put("compiled", ar.result())));
      return;
    }
    String k = key.asString();
    if (!inFlight.add(k)) {
      conflict(rc, key, "another change to " + key + " is in progress (expected: retry once it completes)");
      return;
    }
    publisher.publish(topic, k, null)
        .onSuccess(md -> store.recordDelete(k))
        .onComplete(ar -> {
          inFlight.remove(k);
          if (ar.failed()) {
            writeFailed(rc, ar.cause());
          } else {
            respond(rc, 200, result);
          }
        });
  }

  // ------------------------------------------------------------------ helpers

  private Optional<ResourceKind> resolveKind(RoutingContext rc) {
    String k = rc.pathParam("kind");
    Optional<ResourceKind> kind = ResourceKind.lookup(k);
    if (kind.isEmpty()) {
      respond(rc, 404, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "kind")
          .put("message", "unknown kind \"" + k + "\" (expected one of: " + ResourceKind.names() + ")"))));
    }
    return kind;
  }

  /**
   * Lets a body through whose Content-Type is YAML, JSON, {@code text/plain} or absent (then sniffed), in
   * UTF-8; anything else (a form — curl's default for {@code -d} —, multipart, binary) → 415 before the
   * body is read.
   */
  static void requireResourceContentType(RoutingContext rc) {
    String header = rc.request().getHeader("content-type");
    if (header == null || header.isBlank()) {
      rc.next();
      return;
    }
    String[] parts = header.split(";");
    String type = parts[0].strip().toLowerCase(Locale.ROOT);
    String charset = null;
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i].strip().toLowerCase(Locale.ROOT);
      if (p.startsWith("charset=")) charset = p.substring("charset=".length()).replace("\"", "");
    }
    boolean readable = type.equals("text/plain") || type.endsWith("/yaml") || type.endsWith("/x-yaml")
        || type.endsWith("+yaml") || type.endsWith("/json") || type.endsWith("+json");
    if (!readable) {
      respondError(rc, 415, "Content-Type " + HttpFailureHandler.printable(header, 100) + " is not accepted for "
          + rc.request().method() + " " + rc.normalizedPath()
          + " (expected: application/yaml or application/json; with curl: -H 'Content-Type: application/yaml' --data-binary @file.yaml)");
      return;
    }
    if (charset != null && !charset.equals("utf-8") && !charset.equals("us-ascii")) {
      respondError(rc, 415, "Content-Type " + HttpFailureHandler.printable(header, 100) + ": charset " + HttpFailureHandler.printable(charset, 40)
          + " (expected: UTF-8)");
      return;
    }
    rc.next();
  }

  /**
   * Answers {@code status} in this API's error shape, {@code {"errors": [{"path": "", "message"}]}} —
   * also what the policy service's failure handler answers, so every error reads the same way.
   */
  public static void respondError(RoutingContext rc, int status, String message) {
    if (status == 413 || status == 415) rc.response().putHeader("connection", "close"); // the body stays unread
    respond(rc, status, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "")
        .put("message", message))).put("warnings", new JsonArray()));
  }

  private static boolean flag(RoutingContext rc, String name) {
    String v = rc.queryParams().get(name);
    return v != null && (v.isEmpty() || v.equalsIgnoreCase("true") || v.equalsIgnoreCase("all"));
  }

  private static boolean wantsYaml(RoutingContext rc) {
    String out = rc.queryParams().get("output");
    if (out != null) return out.toLowerCase(Locale.ROOT).startsWith("y");
    String accept = rc.request().getHeader("accept");
    return accept != null && accept.contains("yaml");
  }

  private static JsonObject issue(ValidationIssue i, ParsedDocument d) {
    JsonObject o = new JsonObject().put("path", i.path()).put("message", i.message());
    if (d != null) o.put("document", d.index() + 1).put("line", d.line());
    return o;
  }

  private static void badRequest(RoutingContext rc, String path, String message) {
    respond(rc, 400, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", path).put("message", message)))
        .put("warnings", new JsonArray()));
  }

  private static void conflict(RoutingContext rc, ResourceKey key, String message) {
    respond(rc, 409, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "metadata.resourceVersion")
        .put("message", message).put("resource", key.asString()))));
  }

  private static void notFound(RoutingContext rc, ResourceKey key) {
    respond(rc, 404, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "")
        .put("message", key.kind().kindName() + " " + key.namespace() + "/" + key.name() + " not found"))));
  }

  /** A write Kafka did not take: 503, with {@code Retry-After} when Kafka is away. */
  private static void writeFailed(RoutingContext rc, Throwable err) {
    KafkaUnavailableException away = KafkaUnavailableException.find(err);
    String message = away != null ? away.getMessage() : "could not write to Kafka: " + err.getMessage();
    if (away != null) rc.response().putHeader("Retry-After", away.retryAfterSeconds());
    respond(rc, 503, new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "")
        .put("message", message))));
  }

  static void respond(RoutingContext rc, int status, JsonObject body) {
    if (rc.response().ended()) return;
    rc.response().setStatusCode(status).putHeader("content-type", "application/json").end(body.encodePrettily());
  }
}
