package dev.lattice.identity.api;

import dev.lattice.identity.attestation.JoinTokenStore;
import dev.lattice.identity.bundle.BundleJwks;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.entry.EntryDraft;
import dev.lattice.identity.entry.EntryInUseException;
import dev.lattice.identity.entry.EntryRegistry;
import dev.lattice.identity.entry.EntryValidationException;
import dev.lattice.identity.entry.RegistrationEntryRecord;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.kafka.KafkaUnavailableException;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import java.time.Duration;
import java.util.List;
import java.util.NoSuchElementException;

/**
 * The identity admin REST API on the service's HTTP router (7070):
 * <ul>
 *   <li>{@code POST /v1/entries} (JSON entry) → 201 with the entry, 400 {@code {"error": …}} on bad input;
 *   <li>{@code GET /v1/entries}, {@code GET /v1/entries/:id};
 *   <li>{@code DELETE /v1/entries/:id} → 204, 404, or 409 {@code {"error": …, "children": [{id, spiffeId}]}}
 *       when other entries hang from it (a node entry with its workloads' entries);
 *       {@code DELETE /v1/entries/:id?cascade=true} deletes those too → 200 {@code {"deleted": [ids]}};
 *   <li>{@code POST /v1/tokens} {@code {"ttl": "10m", "nodeId": "local"}} (nodeId optional, see
 *       {@link JoinTokenStore#create(Duration, java.util.Optional)}) → 201 {@code {token, nodeId, spiffeId, expiresAt}};
 *   <li>{@code DELETE /v1/tokens/:nodeId} → 204 (the node's unused tokens are revoked), 404 when it has none;
 *   <li>{@code GET /v1/bundle} → the SPIFFE bundle (JWKS);
 *   <li>{@code GET /v1/bundle.pem} → the X.509 roots as PEM (what a node agent's bootstrap bundle file holds).
 * </ul>
 * Handlers never block: the token store's disk writes run on a worker; entry commands are Kafka sends.
 * Thread-safe (stateless besides its collaborators).
 */
public final class IdentityApi {

  private final Vertx vertx;
  private final EntryRegistry entries;
  private final JoinTokenStore tokens;
  private final CertificateAuthority ca;
  private final TrustDomain trustDomain;

  public IdentityApi(Vertx vertx, EntryRegistry entries, JoinTokenStore tokens, CertificateAuthority ca) {
    this.vertx = vertx;
    this.entries = entries;
    this.tokens = tokens;
    this.ca = ca;
    this.trustDomain = ca.trustDomain();
  }

  /** Mounts the routes on {@code router}. */
  public void mount(Router router) {
    router.route("/v1/*").handler(BodyHandler.create().setBodyLimit(64 * 1024));
    router.post("/v1/entries").handler(this::createEntry);
    router.get("/v1/entries").handler(this::listEntries);
    router.get("/v1/entries/:id").handler(this::getEntry);
    router.delete("/v1/entries/:id").handler(this::deleteEntry);
    router.post("/v1/tokens").handler(this::createToken);
    router.delete("/v1/tokens/:nodeId").handler(this::revokeTokens);
    router.get("/v1/bundle").handler(ctx -> ctx.response().putHeader("Content-Type", "application/json")
        .end(BundleJwks.toJson(ca.bundle()).encodePrettily()));
    router.get("/v1/bundle.pem").handler(ctx -> ctx.response().putHeader("Content-Type", "application/x-pem-file")
        .end(rootsPem(ca)));
  }

  private static String rootsPem(CertificateAuthority ca) {
    StringBuilder pem = new StringBuilder();
    java.util.Base64.Encoder mime = java.util.Base64.getMimeEncoder(64, "\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    for (java.security.cert.X509Certificate root : ca.bundle().x509Authorities()) {
      try {
        pem.append("-----BEGIN CERTIFICATE-----\n").append(mime.encodeToString(root.getEncoded()))
            .append("\n-----END CERTIFICATE-----\n");
      } catch (java.security.cert.CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode a CA root", e);
      }
    }
    return pem.toString();
  }

  private void createEntry(RoutingContext ctx) {
    JsonObject body;
    EntryDraft draft;
    try {
      body = ctx.body().asJsonObject();
      if (body == null) {
        throw new EntryValidationException("body: empty (expected: a JSON object with spiffeId, parentId, selectors)");
      }
      draft = new EntryDraft(body.getString("spiffeId"), body.getString("parentId"),
          strings(body, "selectors"), body.getInteger("x509SvidTtlSeconds"), body.getInteger("jwtSvidTtlSeconds"),
          strings(body, "dnsNames"), body.getBoolean("admin", false), body.getString("hint"));
    } catch (DecodeException | ClassCastException e) {
      error(ctx, 400, "body: not a valid entry JSON object (" + e.getMessage() + ")");
      return;
    } catch (EntryValidationException e) {
      error(ctx, 400, e.getMessage());
      return;
    }
    entries.create(draft)
        .onSuccess(e -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
            .putHeader("Location", "/v1/entries/" + e.id()).end(toJson(e).encodePrettily()))
        .onFailure(e -> writeFailed(ctx, e, e instanceof IllegalArgumentException ? 400 : 503));
  }

  private void listEntries(RoutingContext ctx) {
    JsonArray list = new JsonArray();
    entries.list().forEach(e -> list.add(toJson(e)));
    ctx.response().putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("entries", list).encodePrettily());
  }

  private void getEntry(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    entries.get(id).ifPresentOrElse(
        e -> ctx.response().putHeader("Content-Type", "application/json").end(toJson(e).encodePrettily()),
        () -> error(ctx, 404, "entry: '" + id + "' not found"));
  }

  private void deleteEntry(RoutingContext ctx) {
    String id = ctx.pathParam("id");
    String cascadeParam = ctx.queryParams().get("cascade");
    if (cascadeParam != null && !cascadeParam.equals("true") && !cascadeParam.equals("false")) {
      error(ctx, 400, "cascade: '" + cascadeParam + "' (expected: true or false)");
      return;
    }
    boolean cascade = "true".equals(cascadeParam);
    entries.delete(id, cascade)
        .onSuccess(deleted -> {
          if (cascade) {
            ctx.response().setStatusCode(200).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("deleted", new JsonArray(deleted)).encodePrettily());
          } else {
            ctx.response().setStatusCode(204).end();
          }
        })
        .onFailure(e -> {
          if (e instanceof EntryInUseException inUse) {
            JsonArray children = new JsonArray();
            inUse.children().forEach(c -> children.add(new JsonObject().put("id", c.id()).put("spiffeId", c.spiffeId().toString())));
            ctx.response().setStatusCode(409).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", e.getMessage()).put("children", children).encode());
          } else {
            writeFailed(ctx, e, e instanceof NoSuchElementException ? 404 : 503);
          }
        });
  }

  private void revokeTokens(RoutingContext ctx) {
    String nodeId = ctx.pathParam("nodeId");
    vertx.executeBlocking(() -> tokens.revoke(nodeId), false)
        .onSuccess(n -> {
          if (n == 0) {
            error(ctx, 404, "join token: node '" + nodeId + "' has no unused token");
          } else {
            ctx.response().setStatusCode(204).end();
          }
        })
        .onFailure(e -> error(ctx, 500, e.getMessage()));
  }

  private void createToken(RoutingContext ctx) {
    Duration ttl;
    java.util.Optional<String> nodeId;
    try {
      JsonObject body = ctx.body().length() == 0 ? new JsonObject() : ctx.body().asJsonObject();
      if (body == null) {
        body = new JsonObject();
      }
      Object rawNodeId = body.getValue("nodeId");
      if (rawNodeId != null && !(rawNodeId instanceof String)) {
        error(ctx, 400, "nodeId: " + rawNodeId + " (expected: a string such as \"local\")");
        return;
      }
      nodeId = java.util.Optional.ofNullable((String) rawNodeId);
      ttl = LatticeConfig.parseDuration(body.getString("ttl", "10m"));
    } catch (RuntimeException e) {
      error(ctx, 400, "ttl: " + e.getMessage() + " (expected: a duration such as 10m, 1h)");
      return;
    }
    vertx.executeBlocking(() -> tokens.create(ttl, nodeId), false)
        .onSuccess(t -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
            .end(new JsonObject().put("token", t.token()).put("nodeId", t.nodeId())
                .put("spiffeId", SpiffeIds.node(trustDomain, t.nodeId()).toString())
                .put("expiresAt", t.expiresAt().toString()).encodePrettily()))
        .onFailure(e -> error(ctx, e instanceof IllegalArgumentException ? 400 : 500, e.getMessage()));
  }

  /** The JSON form of an entry (also what the CLI prints). */
  public static JsonObject toJson(RegistrationEntryRecord e) {
    return new JsonObject()
        .put("id", e.id())
        .put("spiffeId", e.spiffeId().toString())
        .put("parentId", e.parentId().toString())
        .put("selectors", new JsonArray(e.selectors().stream().map(Object::toString).toList()))
        .put("x509SvidTtlSeconds", e.x509SvidTtl().toSeconds())
        .put("jwtSvidTtlSeconds", e.jwtSvidTtl().toSeconds())
        .put("dnsNames", new JsonArray(e.dnsNames()))
        .put("admin", e.admin())
        .put("hint", e.hint())
        .put("createdAt", e.createdAt().toString())
        .put("revision", e.revision());
  }

  private static List<String> strings(JsonObject body, String field) {
    JsonArray a = body.getJsonArray(field);
    if (a == null) {
      return List.of();
    }
    return a.stream().map(o -> {
      if (!(o instanceof String s)) {
        throw new EntryValidationException(field + ": " + o + " (expected: a string)");
      }
      return s;
    }).toList();
  }

  /** A failed write: Kafka away → 503 with {@code Retry-After}; else {@code status}. */
  private static void writeFailed(RoutingContext ctx, Throwable e, int status) {
    KafkaUnavailableException away = KafkaUnavailableException.find(e);
    if (away != null) {
      ctx.response().putHeader("Retry-After", away.retryAfterSeconds());
      error(ctx, 503, away.getMessage());
      return;
    }
    error(ctx, status, e.getMessage());
  }

  private static void error(RoutingContext ctx, int status, String message) {
    ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}
