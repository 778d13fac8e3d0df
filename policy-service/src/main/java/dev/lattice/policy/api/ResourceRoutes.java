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
import io.vertx.core.Vertx;
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
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;

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
 * conflicts → 409; a resource whose record would exceed the topic's limit → 413 (with {@code size} and
 * {@code limit}); a body that is not YAML/JSON → 415. An apply is all or nothing: every document is
 * checked before the first write. Handlers never block: parsing, validation and planning run on a worker
 * and writes go through the non-blocking {@link EventPublisher}. Used on one Vert.x context (the
 * in-flight set is not shared).
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
  private final RecordSizeLimit sizeLimit;

  /** @param sizeLimit the resources topic's record size limit, checked before any write */
  public ResourceRoutes(ResourceStore store, RegistryView registry, EventPublisher publisher,
      Topic<String, ResourceEvent> topic, RecordSizeLimit sizeLimit, ChangePreview preview, Clock clock) {
    this.store = store;
    this.sizeLimit = sizeLimit;
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

  /**
   * One resource of an apply as it would be written: the event, its encoded record, what changed, and
   * the version of the key it was planned against (re-checked before the write).
   */
  private record Planned(Resource resource, ResourceEvent event, byte[] key, byte[] value, String action,
      long basedOnVersion, List<String> diff) {}

  /** What the worker hands back: a refusal ({@code status}, {@code body}) or the plan of the apply. */
  private record Prepared(int status, JsonObject body, List<Planned> plan, JsonArray warnings) {
    static Prepared refused(int status, JsonObject body) {
      return new Prepared(status, body, List.of(), new JsonArray());
    }
  }

  /** Who asked, read on the event loop before the work moves to a worker. */
  private record Caller(String author, ResourceSource source) {
    static Caller of(RoutingContext rc) {
      String author = Optional.ofNullable(rc.request().getHeader("lattice-author")).orElse("anonymous");
      String agent = Optional.ofNullable(rc.request().getHeader("user-agent")).orElse("");
      return new Caller(author, agent.startsWith("lattice-cli") ? ResourceSource.CLI : ResourceSource.REST);
    }
  }

  /**
   * Parses, validates, size-checks and plans on a worker (a large body takes seconds and must not hold
   * the event loop), then — back on the event loop — claims the keys and writes. All or nothing: every
   * document is checked (syntax, validation, resourceVersion, encoded size against the topic's limit)
   * before the first write.
   */
  private void apply(RoutingContext rc, ResourceKey addressed) {
    boolean dryRun = flag(rc, "dryRun");
    String body = rc.body() == null ? null : rc.body().asString();
    Caller caller = Caller.of(rc);
    Vertx vertx = rc.vertx();
    sizeLimit.current(vertx)
        .compose(limit -> vertx.executeBlocking(() -> prepare(body, addressed, dryRun, caller, limit), false))
        .onComplete(ar -> {
          if (ar.failed()) {
            rc.fail(ar.cause());
            return;
          }
          Prepared prepared = ar.result();
          if (prepared.body() != null) {
            respond(rc, prepared.status(), prepared.body());
            return;
          }
          write(rc, prepared.plan(), prepared.warnings(), dryRun);
        });
  }

  /** Runs on a worker: reads only thread-safe state (the store, the registry index). */
  private Prepared prepare(String body, ResourceKey addressed, boolean dryRun, Caller caller, long limit) {
    ParseResult parsed = parser.parse(body == null ? "" : body);
    JsonArray errors = new JsonArray();
    JsonArray warnings = new JsonArray();
    if (parsed.syntaxError() != null) errors.add(issue(parsed.syntaxError(), null));
    boolean many = parsed.documents().size() > 1;
    for (ParsedDocument d : parsed.documents()) {
      for (ValidationIssue e : d.errors()) errors.add(issue(e, many ? d : null));
    }
    if (!errors.isEmpty()) return Prepared.refused(400, new JsonObject().put("errors", errors).put("warnings", warnings));
    List<Resource> resources = parsed.resources();
    if (addressed != null) {
      if (resources.size() != 1) {
        return Prepared.refused(400, errorBody("", resources.size() + " resources (expected: exactly one for PUT)"));
      }
      ResourceKey k = resources.get(0).key();
      if (!k.equals(addressed)) {
        return Prepared.refused(400, errorBody("metadata", "body is " + k + " (expected: " + addressed + " as in the URL)"));
      }
    }
    Set<String> keys = new HashSet<>();
    ValidationContext ctx = new ValidationContext(registry, ResourceView.of(resources).orElse(store));
    for (int i = 0; i < resources.size(); i++) {
      Resource r = resources.get(i);
      ParsedDocument d = parsed.documents().get(i);
      if (!keys.add(r.key().asString())) {
        errors.add(issue(ValidationIssue.error("metadata.name", r.key() + " appears twice (expected: each resource once)"), many ? d : null));
      }
      ValidationReport report = ResourceValidator.validate(r, ctx);
      for (ValidationIssue e : report.errors()) errors.add(issue(e, many ? d : null).put("resource", r.key().asString()));
      for (ValidationIssue w : report.warnings()) warnings.add(issue(w, many ? d : null).put("resource", r.key().asString()));
    }
    if (!errors.isEmpty()) return Prepared.refused(400, new JsonObject().put("errors", errors).put("warnings", warnings));
    List<Planned> plan = new ArrayList<>();
    for (Resource r : resources) {
      Optional<ResourceStore.Entry> current = store.get(r.key());
      Optional<Long> sent = r.metadata().resourceVersionNumber();
      if (sent.isPresent()) {
        if (current.isEmpty()) {
          return Prepared.refused(409, conflictBody(r.key(), r.key() + " does not exist, but resourceVersion " + sent.get()
              + " was sent (expected: no resourceVersion when creating)"));
        }
        if (sent.get() != current.get().resourceVersion()) {
          return Prepared.refused(409, conflictBody(r.key(), "resourceVersion " + sent.get() + " is stale: " + r.key() + " is at "
              + current.get().resourceVersion() + " (expected: the current resourceVersion; get the resource, re-apply your change and retry)"));
        }
      }
      plan.add(plan(r, current, caller, dryRun));
    }
    // Every size before the first write: one oversized document refuses the whole apply.
    for (int i = 0; i < plan.size(); i++) {
      Planned p = plan.get(i);
      long bytes = (long) p.key().length + p.value().length + RecordSizeLimit.RECORD_OVERHEAD_BYTES;
      if (p.action().equals("unchanged") || bytes <= limit) continue;
      JsonObject e = new JsonObject().put("path", "").put("resource", p.resource().key().asString())
          .put("size", bytes).put("limit", limit)
          .put("message", p.resource().key() + " is " + bytes + " bytes encoded (key, Avro value and record framing), above the limit of "
              + limit + " bytes for one record on " + sizeLimit.topic() + " (the smaller of the topic's max.message.bytes and the "
              + "producer's max.request.size; expected: a smaller resource — split it, e.g. one route per host)");
      if (many) e.put("document", parsed.documents().get(i).index() + 1).put("line", parsed.documents().get(i).line());
      errors.add(e);
    }
    if (!errors.isEmpty()) return Prepared.refused(413, new JsonObject().put("errors", errors).put("warnings", warnings));
    return new Prepared(0, null, plan, warnings);
  }

  /** On the event loop: claims the keys (409 if one is being written or changed meanwhile), then writes. */
  private void write(RoutingContext rc, List<Planned> plan, JsonArray warnings, boolean dryRun) {
    for (Planned p : plan) {
      ResourceKey k = p.resource().key();
      if (inFlight.contains(k.asString())) {
        conflict(rc, k, "another change to " + k + " is in progress (expected: retry once it completes)");
        return;
      }
      if (store.lastVersion(k) != p.basedOnVersion()) {
        conflict(rc, k, k + " changed while this apply was being checked (expected: retry; the next apply sees the new version)");
        return;
      }
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
      writes.add(publisher.publishRaw(new ProducerRecord<>(topic.name(), p.key(), p.value()))
          .onSuccess(md -> store.recordWrite(key, p.event()))
          .eventually(() -> {
            inFlight.remove(key);
            return Future.succeededFuture();
          }));
    }
    Future.all(writes).onComplete(ar -> {
      if (ar.failed()) {
        if (tooLarge(ar.cause())) {
          // The topic's limit was lowered since it was read: the broker refused the record.
          respond(rc, 413, errorBody("", "a resource is larger than " + topic.name() + " accepts: " + ar.cause().getMessage()
              + " (expected: a smaller resource)"));
          return;
        }
        writeFailed(rc, ar.cause());
        return;
      }
      boolean allCreated = plan.stream().allMatch(p -> p.action().equals("created"));
      respond(rc, allCreated ? 201 : 200, result(plan, warnings, false));
    });
  }

  private static boolean tooLarge(Throwable err) {
    for (Throwable t = err; t != null; t = t.getCause()) {
      if (t instanceof RecordTooLargeException || t instanceof RecordBatchTooLargeException) return true;
    }
    return false;
  }

  private Planned plan(Resource r, Optional<ResourceStore.Entry> current, Caller caller, boolean dryRun) {
    Instant now = clock.instant().truncatedTo(ChronoUnit.MILLIS);
    long basedOn = store.lastVersion(r.key());
    long version = basedOn + 1;
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
    ResourceEvent event = ResourceEventMapper.toEvent(stamped, new ResourceEventMapper.Provenance(generation, caller.author(), caller.source(), now));
    String key = stamped.key().asString();
    byte[] keyBytes = topic.keySerde().serializer().serialize(topic.name(), key);
    byte[] valueBytes = action.equals("unchanged") ? new byte[0] : topic.valueSerde().serializer().serialize(topic.name(), event);
    // The line diff only for a dry run, where it is shown (it is bounded, but not free for big resources).
    List<String> diff = !dryRun ? List.of() : TextDiff.lines(current.map(c -> ResourceCodec.toYaml(withoutServerFields(c.resource()))).orElse(""),
        ResourceCodec.toYaml(withoutServerFields(stamped)));
    return new Planned(stamped, event, keyBytes, valueBytes, action, basedOn, diff);
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

  private static JsonObject errorBody(String path, String message) {
    return new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", path).put("message", message)))
        .put("warnings", new JsonArray());
  }

  private static JsonObject conflictBody(ResourceKey key, String message) {
    return new JsonObject().put("errors", new JsonArray().add(new JsonObject().put("path", "metadata.resourceVersion")
        .put("message", message).put("resource", key.asString())));
  }

  private static void badRequest(RoutingContext rc, String path, String message) {
    respond(rc, 400, errorBody(path, message));
  }

  private static void conflict(RoutingContext rc, ResourceKey key, String message) {
    respond(rc, 409, conflictBody(key, message));
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
