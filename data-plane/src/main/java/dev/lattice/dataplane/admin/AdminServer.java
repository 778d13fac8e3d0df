package dev.lattice.dataplane.admin;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.kit.admin.AdminAuth;
import dev.lattice.kit.admin.AdminTokenFile;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.slf4j.ILoggerFactory;
import org.slf4j.LoggerFactory;

/**
 * The proxy's admin API (Envoy's admin port, 127.0.0.1:15000 by default): {@code GET /config_dump},
 * {@code /clusters}, {@code /stats}, {@code /stats/prometheus}, {@code /ready}, {@code /logging}, and
 * {@code POST /drain}, {@code POST /logging}. Reads are open on the loopback address it binds; every write
 * needs the admin token ({@code Authorization: Bearer <token>}, the kit's {@link AdminAuth}), since
 * draining a node or turning on debug logs is not for any local process.
 *
 * <p>Runs on Vert.x (never on the traffic path); every handler answers from in-memory state. The creator
 * closes it.
 */
public final class AdminServer {
  private static final org.slf4j.Logger LOG = LoggerFactory.getLogger(AdminServer.class);
  private static final String TEXT = "text/plain; charset=utf-8";
  private static final String JSON = "application/json";
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";

  /** What the admin API shows and controls; implemented by whoever runs the proxy. */
  public interface Sources {
    /** The snapshot being served, or null before the first one. */
    ProxyConfig config();

    /** Bound socket per listener name. */
    Map<String, InetSocketAddress> listenerAddresses();

    /** Counters and gauges, Envoy-style dotted names ({@code lattice.flows.dropped}) → value. */
    Map<String, Number> stats();

    /** The Prometheus text exposition (Istio metrics and the proxy's own). */
    String prometheus();

    /** Stops accepting connections, lets in-flight requests finish, then closes the proxy. */
    Future<Void> drain();

    /**
     * Outlier-detection state of endpoint {@code address:port} of {@code cluster}, or null when the
     * cluster has no outlier detection (or no such endpoint).
     */
    default EndpointOutlier outlier(String cluster, String address, int port) {
      return null;
    }
  }

  /** An endpoint's outlier state as {@code /clusters} shows it: ejected now, and how often so far. */
  public record EndpointOutlier(boolean ejected, int ejections) {}

  /**
   * Where the admin API listens and who may write.
   *
   * @param host bind address ({@code 127.0.0.1}; anything else exposes the admin API off the node)
   * @param port 0 for an ephemeral port
   * @param tokenFile the admin credential writes need (created with a fresh token if missing)
   */
  public record Options(String host, int port, AdminTokenFile tokenFile) {
    public Options {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(tokenFile, "tokenFile");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("admin port: " + port + " (expected: 0..65535)");
      }
    }
  }

  private final Vertx vertx;
  private final Sources sources;
  private final AtomicBoolean draining = new AtomicBoolean();
  private volatile Future<Void> drained;
  private HttpServer server;

  private AdminServer(Vertx vertx, Sources sources) {
    this.vertx = vertx;
    this.sources = sources;
  }

  /** Binds the admin API; fails if the port is taken or the token file cannot be read or created. */
  public static Future<AdminServer> start(Vertx vertx, Options options, MeterRegistry meters, Sources sources) {
    AdminServer admin = new AdminServer(vertx, sources);
    Router router = Router.router(vertx);
    Future<?> credential = AdminAuth.protectWrites(vertx, router, options.tokenFile(), meters);
    admin.mount(router);
    return credential
        .compose(c -> vertx.createHttpServer(new HttpServerOptions().setHost(options.host()).setPort(options.port()))
            .requestHandler(router).listen())
        .map(s -> {
          admin.server = s;
          LOG.info("admin API on {}:{} (writes need the token in {})", options.host(), s.actualPort(),
              options.tokenFile().path());
          return admin;
        });
  }

  /** The bound port. */
  public int port() {
    return server.actualPort();
  }

  /** Whether {@code POST /drain} was called. */
  public boolean draining() {
    return draining.get();
  }

  /** Completes when a drain that was asked for has finished; null if none was. */
  public Future<Void> drained() {
    return drained;
  }

  public Future<Void> close() {
    return server == null ? Future.succeededFuture() : server.close();
  }

  private void mount(Router r) {
    r.get("/").handler(this::index);
    r.get("/config_dump").handler(this::configDump);
    r.get("/clusters").handler(this::clusters);
    r.get("/stats").handler(this::stats);
    r.get("/stats/prometheus").handler(rc -> rc.response().putHeader("content-type", PROMETHEUS).end(sources.prometheus()));
    r.get("/ready").handler(this::ready);
    r.post("/drain").handler(this::drain);
    r.get("/logging").handler(this::logging);
    r.post("/logging").handler(this::setLogging);
  }

  private void index(RoutingContext rc) {
    rc.response().putHeader("content-type", TEXT).end("""
        lattice data-plane admin
          GET  /config_dump          the served config snapshot (JSON)
          GET  /clusters             clusters and endpoints with health (?format=json)
          GET  /stats                counters (?format=json, ?filter=<regex>)
          GET  /stats/prometheus     Istio metrics and the proxy's own, Prometheus text
          GET  /ready                200 LIVE, 503 DRAINING / PRE_INITIALIZING
          POST /drain                stop accepting, finish in-flight requests, exit (token)
          GET  /logging              logger levels;  POST /logging?level=<lvl> or ?<logger>=<lvl> (token)
        """);
  }

  private void configDump(RoutingContext rc) {
    ProxyConfig c = sources.config();
    if (c == null) {
      json(rc, 503, new JsonObject().put("error", "no config snapshot served yet"));
      return;
    }
    Map<String, InetSocketAddress> bound = sources.listenerAddresses();
    JsonArray listeners = new JsonArray();
    for (ListenerConfig l : c.listeners().values()) {
      JsonObject j = avro(l);
      InetSocketAddress a = bound.get(l.getName());
      if (a != null) {
        j.put("boundAddress", a.getAddress().getHostAddress() + ":" + a.getPort());
      }
      listeners.add(j);
    }
    JsonObject dump = new JsonObject()
        .put("version", c.version())
        .put("node", c.settings().node())
        .put("settings", JsonObject.mapFrom(Map.of(
            "debugHeaders", c.settings().debugHeaders(),
            "maxHeaderBytes", c.settings().maxHeaderBytes(),
            "maxInitialLineBytes", c.settings().maxInitialLineBytes(),
            "headersTimeout", c.settings().headersTimeout().toString(),
            "connectTimeout", c.settings().connectTimeout().toString(),
            "maxPendingRequestBytes", c.settings().maxPendingRequestBytes())))
        .put("listeners", listeners)
        .put("routes", avroAll(c.routes()))
        .put("clusters", avroAll(c.clusters()))
        .put("authorization", avroAll(c.authorizations()))
        .put("peerAuthentication", avroAll(c.peerAuthentications()));
    json(rc, 200, dump);
  }

  private void clusters(RoutingContext rc) {
    ProxyConfig c = sources.config();
    Map<String, ClusterConfig> clusters = c == null ? Map.of() : new TreeMap<>(c.clusters());
    if ("json".equals(rc.queryParams().get("format"))) {
      JsonArray out = new JsonArray();
      clusters.values().forEach(cl -> {
        JsonArray eps = new JsonArray();
        cl.getEndpoints().forEach(e -> {
          EndpointOutlier o = sources.outlier(cl.getName(), e.getAddress(), e.getPort());
          JsonObject ep = new JsonObject().put("address", e.getAddress()).put("port", e.getPort())
              .put("health", e.getHealth().name()).put("healthFlags", healthFlags(e, o)).put("weight", e.getWeight())
              .put("spiffeId", e.getSpiffeId()).put("node", e.getNode());
          if (o != null) {
            ep.put("outlier", new JsonObject().put("ejected", o.ejected()).put("ejections", o.ejections()));
          }
          eps.add(ep);
        });
        out.add(new JsonObject().put("name", cl.getName()).put("host", cl.getHost()).put("port", cl.getPort())
            .put("mtls", cl.getMtls()).put("endpoints", eps));
      });
      json(rc, 200, new JsonObject().put("clusters", out));
      return;
    }
    // Envoy's text form: <cluster>::<host>:<port>::<stat>::<value>
    StringBuilder b = new StringBuilder();
    clusters.values().forEach(cl -> {
      for (ClusterEndpoint e : cl.getEndpoints()) {
        String prefix = cl.getName() + "::" + e.getAddress() + ":" + e.getPort() + "::";
        EndpointOutlier o = sources.outlier(cl.getName(), e.getAddress(), e.getPort());
        b.append(prefix).append("health_flags::").append(healthFlags(e, o)).append('\n');
        b.append(prefix).append("weight::").append(e.getWeight()).append('\n');
        if (o != null) {
          b.append(prefix).append("outlier_ejections::").append(o.ejections()).append('\n');
        }
      }
    });
    rc.response().putHeader("content-type", TEXT).end(b.toString());
  }

  /** Envoy's health_flags rendering: {@code healthy}, or the failure reasons one after the other. */
  private static String healthFlags(ClusterEndpoint e, EndpointOutlier o) {
    String registry = switch (e.getHealth()) {
      case UNHEALTHY -> "/failed_eds_health";
      case DRAINING -> "/pending_dynamic_removal";
      default -> "";
    };
    String flags = o != null && o.ejected() ? registry + "/failed_outlier_check" : registry;
    return flags.isEmpty() ? "healthy" : flags;
  }

  private void stats(RoutingContext rc) {
    Pattern filter = null;
    String f = rc.queryParams().get("filter");
    if (f != null) {
      try {
        filter = Pattern.compile(f);
      } catch (PatternSyntaxException e) {
        rc.response().setStatusCode(400).putHeader("content-type", TEXT)
            .end("filter: invalid regular expression (" + e.getDescription() + ")\n");
        return;
      }
    }
    Map<String, Number> stats = new TreeMap<>(sources.stats());
    if (filter != null) {
      Pattern p = filter;
      stats.keySet().removeIf(k -> !p.matcher(k).find());
    }
    if ("json".equals(rc.queryParams().get("format"))) {
      JsonArray out = new JsonArray();
      stats.forEach((k, v) -> out.add(new JsonObject().put("name", k).put("value", v)));
      json(rc, 200, new JsonObject().put("stats", out));
      return;
    }
    StringBuilder b = new StringBuilder();
    stats.forEach((k, v) -> b.append(k).append(": ").append(v).append('\n'));
    rc.response().putHeader("content-type", TEXT).end(b.toString());
  }

  private void ready(RoutingContext rc) {
    String state = draining.get() ? "DRAINING" : sources.config() == null ? "PRE_INITIALIZING" : "LIVE";
    rc.response().setStatusCode(state.equals("LIVE") ? 200 : 503).putHeader("content-type", TEXT)
        .putHeader("cache-control", "no-store").end(state + "\n");
  }

  private void drain(RoutingContext rc) {
    if (draining.compareAndSet(false, true)) {
      LOG.info("admin: drain requested; no new connections, in-flight requests finish, then the proxy closes");
      drained = sources.drain().onComplete(ar -> LOG.info("admin: drain finished{}",
          ar.failed() ? " (" + ar.cause().getMessage() + ")" : ""));
    }
    json(rc, 202, new JsonObject().put("status", "draining"));
  }

  private void logging(RoutingContext rc) {
    LoggerContext ctx = logback();
    if (ctx == null) {
      json(rc, 501, new JsonObject().put("error", "logging backend is not logback; levels cannot be read here"));
      return;
    }
    JsonObject levels = new JsonObject();
    for (ch.qos.logback.classic.Logger l : ctx.getLoggerList()) {
      if (l.getLevel() != null) {
        levels.put(l.getName(), l.getLevel().toString().toLowerCase(Locale.ROOT));
      }
    }
    json(rc, 200, new JsonObject().put("loggers", levels));
  }

  private void setLogging(RoutingContext rc) {
    LoggerContext ctx = logback();
    if (ctx == null) {
      json(rc, 501, new JsonObject().put("error", "logging backend is not logback; levels cannot be changed here"));
      return;
    }
    if (rc.queryParams().isEmpty()) {
      json(rc, 400, new JsonObject().put("error", "expected ?level=<trace|debug|info|warn|error|off> or ?<logger>=<level>"));
      return;
    }
    JsonObject changed = new JsonObject();
    for (Map.Entry<String, String> p : rc.queryParams()) {
      String value = p.getValue().toUpperCase(Locale.ROOT);
      Level level = Level.toLevel(value, null);
      if (level == null) {
        json(rc, 400, new JsonObject().put("error", "level \"" + p.getValue() + "\" for " + p.getKey()
            + " (expected: trace, debug, info, warn, error or off)"));
        return;
      }
      String name = p.getKey().equals("level") ? org.slf4j.Logger.ROOT_LOGGER_NAME : p.getKey();
      ctx.getLogger(name).setLevel(level);
      changed.put(name, level.toString().toLowerCase(Locale.ROOT));
    }
    LOG.info("admin: log levels changed: {}", changed.encode());
    json(rc, 200, new JsonObject().put("changed", changed));
  }

  private static LoggerContext logback() {
    ILoggerFactory f = LoggerFactory.getILoggerFactory();
    return f instanceof LoggerContext lc ? lc : null;
  }

  private static JsonObject avro(org.apache.avro.specific.SpecificRecord r) {
    // Avro's toString is its JSON encoding without union wrappers
    return new JsonObject(r.toString());
  }

  private static JsonArray avroAll(Map<String, ? extends org.apache.avro.specific.SpecificRecord> m) {
    JsonArray a = new JsonArray();
    new TreeMap<>(m).values().forEach(r -> a.add(avro(r)));
    return a;
  }

  private static void json(RoutingContext rc, int status, JsonObject body) {
    rc.response().setStatusCode(status).putHeader("content-type", JSON).putHeader("cache-control", "no-store")
        .end(body.encodePrettily());
  }
}
