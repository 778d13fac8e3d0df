package dev.lattice.dataplane;

import dev.lattice.dataplane.admin.AdminServer;
import dev.lattice.dataplane.admin.ProxyAdminSources;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.proxy.ExchangeListener;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.dataplane.telemetry.AccessLog;
import dev.lattice.dataplane.telemetry.FlowExporter;
import dev.lattice.dataplane.telemetry.FlowSink;
import dev.lattice.dataplane.telemetry.IstioMetrics;
import dev.lattice.dataplane.telemetry.ProxyTelemetry;
import dev.lattice.kit.admin.AdminTokenFile;
import dev.lattice.kit.kafka.KafkaClientConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A node proxy with its telemetry and admin API, started and closed as one: the {@link ProxyServer}, the
 * sinks every finished exchange goes to (Istio metrics when the admin API is on, the access log, flow
 * records to {@code lattice.flows.v1} when a broker is named), and the {@link AdminServer} on
 * 127.0.0.1. {@code ./lattice proxy} and the local stack ({@code ./lattice up --samples}) both run it.
 * With every sink off no exchange listener is installed at all (the bare benchmark).
 *
 * <p>Thread-safe. The creator closes it; {@link #close} flushes the flow records (bounded) on a worker.
 */
public final class NodeProxy {

  /**
   * How to run it.
   *
   * @param server the proxy's own options (identity source, clock, filters); the exchange listener is set here
   * @param kafka where flow records go, or null for none
   * @param flows bounded-buffer settings of the flow exporter
   * @param accessLog the access-log sink (this proxy closes it), or null for none
   * @param adminHost admin API bind address (127.0.0.1)
   * @param adminPort admin API port (0 = ephemeral, -1 = no admin API and no Istio metrics)
   * @param adminToken the credential admin writes ({@code POST /drain}, {@code /logging}) need
   * @param drainGrace how long {@code POST /drain} lets open connections finish
   */
  public record Options(ProxyServerOptions server, KafkaClientConfig kafka, FlowExporter.Options flows, AccessLog accessLog,
      String adminHost, int adminPort, AdminTokenFile adminToken, Duration drainGrace) {
    public Options {
      Objects.requireNonNull(server, "server");
      Objects.requireNonNull(flows, "flows");
      Objects.requireNonNull(adminHost, "adminHost");
      Objects.requireNonNull(drainGrace, "drainGrace");
      if (adminPort < -1 || adminPort > 65535) {
        throw new IllegalArgumentException("admin port: " + adminPort + " (expected: -1..65535)");
      }
      if (adminPort >= 0) {
        Objects.requireNonNull(adminToken, "adminToken (the admin API needs one)");
      }
    }

    /** Admin API on 127.0.0.1:{@code adminPort} with {@code adminToken}; no flow records, no access log, 5 s drain. */
    public static Options admin(int adminPort, AdminTokenFile adminToken) {
      return new Options(ProxyServerOptions.defaults(), null, FlowExporter.Options.DEFAULTS, null, "127.0.0.1", adminPort,
          adminToken, Duration.ofSeconds(5));
    }

    public Options withServer(ProxyServerOptions s) {
      return new Options(s, kafka, flows, accessLog, adminHost, adminPort, adminToken, drainGrace);
    }

    /** Flow records to this broker (null: none). */
    public Options withKafka(KafkaClientConfig k) {
      return new Options(server, k, flows, accessLog, adminHost, adminPort, adminToken, drainGrace);
    }

    public Options withFlows(FlowExporter.Options f) {
      return new Options(server, kafka, f, accessLog, adminHost, adminPort, adminToken, drainGrace);
    }

    /** A JSON line per request to {@code log} (null: none). */
    public Options withAccessLog(AccessLog log) {
      return new Options(server, kafka, flows, log, adminHost, adminPort, adminToken, drainGrace);
    }

    public Options withDrainGrace(Duration grace) {
      return new Options(server, kafka, flows, accessLog, adminHost, adminPort, adminToken, grace);
    }
  }

  private final ProxyServer server;
  private final IstioMetrics metrics;
  private final FlowExporter flows;
  private final AccessLog accessLog;
  private final AdminServer admin;
  private final Vertx vertx;

  private NodeProxy(Vertx vertx, ProxyServer server, IstioMetrics metrics, FlowExporter flows, AccessLog accessLog,
      AdminServer admin) {
    this.vertx = vertx;
    this.server = server;
    this.metrics = metrics;
    this.flows = flows;
    this.accessLog = accessLog;
    this.admin = admin;
  }

  /**
   * Starts the sinks, binds every listener of {@code config}, then the admin API. On any failure what was
   * started is closed again and the future fails naming the part.
   */
  public static Future<NodeProxy> start(Vertx vertx, ProxyConfig config, Options options) {
    // creating a Kafka producer resolves hosts and loads classes: not on an event loop
    return vertx.<FlowExporter>executeBlocking(() -> options.kafka() == null ? null
            : FlowExporter.toFlowsTopic(options.kafka(), options.flows()))
        .compose(flows -> startWith(vertx, config, options, flows));
  }

  private static Future<NodeProxy> startWith(Vertx vertx, ProxyConfig config, Options options, FlowExporter flows) {
    // metrics are read on the admin API: without it they would only cost
    IstioMetrics metrics = options.adminPort() >= 0 ? new IstioMetrics() : null;
    List<FlowSink> sinks = new ArrayList<>();
    if (metrics != null) {
      sinks.add(metrics);
    }
    if (options.accessLog() != null) {
      sinks.add(options.accessLog());
    }
    if (flows != null) {
      sinks.add(flows::offer);
    }
    AtomicReference<ProxyServer> running = new AtomicReference<>();
    ExchangeListener listener = sinks.isEmpty() ? ExchangeListener.NONE
        : new ProxyTelemetry(() -> running.get() == null ? null : running.get().config(), sinks);
    return ProxyServer.start(vertx, config, options.server().withExchangeListener(listener))
        .recover(err -> closeSinks(vertx, flows, options.accessLog()).transform(x -> Future.failedFuture(err)))
        .compose(server -> {
          running.set(server);
          if (options.adminPort() < 0) {
            return Future.succeededFuture(new NodeProxy(vertx, server, null, flows, options.accessLog(), null));
          }
          return AdminServer.start(vertx, new AdminServer.Options(options.adminHost(), options.adminPort(), options.adminToken()),
                  metrics.registry(), new ProxyAdminSources(server, metrics, flows, options.accessLog(), options.drainGrace()))
              .map(admin -> new NodeProxy(vertx, server, metrics, flows, options.accessLog(), admin))
              .recover(err -> server.close().eventually(() -> closeSinks(vertx, flows, options.accessLog()))
                  .transform(x -> Future.failedFuture(new IllegalStateException("admin API on " + options.adminHost() + ":"
                      + options.adminPort() + ": " + err.getMessage(), err))));
        });
  }

  /** The traffic path. */
  public ProxyServer server() {
    return server;
  }

  /** The Istio metrics, or null when the admin API is off. */
  public IstioMetrics metrics() {
    return metrics;
  }

  /** The flow exporter, or null when no broker was named. */
  public FlowExporter flows() {
    return flows;
  }

  /** The admin API, or null when it is off. */
  public AdminServer admin() {
    return admin;
  }

  /** Closes the admin API and the proxy, then flushes flow records (at most 5 s) and the access log. */
  public Future<Void> close() {
    Future<Void> adminClosed = admin == null ? Future.succeededFuture() : admin.close();
    return adminClosed.eventually(server::close).eventually(() -> closeSinks(vertx, flows, accessLog));
  }

  private static Future<Void> closeSinks(Vertx vertx, FlowExporter flows, AccessLog accessLog) {
    return vertx.executeBlocking(() -> {
      if (flows != null) {
        flows.close();
      }
      if (accessLog != null) {
        accessLog.close();
      }
      return null;
    });
  }
}
