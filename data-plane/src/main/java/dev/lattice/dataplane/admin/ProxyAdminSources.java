package dev.lattice.dataplane.admin;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.route.UpstreamCluster;
import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.dataplane.telemetry.AccessLog;
import dev.lattice.dataplane.telemetry.FlowExporter;
import dev.lattice.dataplane.telemetry.IstioMetrics;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What a running node proxy shows on its admin API: the served snapshot, listener sockets, counters in
 * Envoy's dotted style ({@code server.*}, {@code http.downstream_rq_2xx}, {@code cluster.<name>.*},
 * {@code lattice.flows.*}, {@code lattice.access_log.*}), and the Prometheus text of the Istio metrics with
 * the proxy's own {@code lattice_dataplane_*} meters registered beside them. Drain is the proxy's
 * {@link ProxyServer#drain}. Thread-safe; reads are in-memory.
 */
public final class ProxyAdminSources implements AdminServer.Sources {
  private final ProxyServer proxy;
  private final IstioMetrics metrics;
  private final FlowExporter flows;
  private final AccessLog accessLog;
  private final Duration drainGrace;
  private final java.util.Set<String> outlierMeters = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param flows the flow exporter, or null when records are off
   * @param accessLog the access log, or null when it is off
   * @param drainGrace how long {@code POST /drain} lets open connections finish
   */
  public ProxyAdminSources(ProxyServer proxy, IstioMetrics metrics, FlowExporter flows, AccessLog accessLog,
      Duration drainGrace) {
    this.proxy = Objects.requireNonNull(proxy, "proxy");
    this.metrics = Objects.requireNonNull(metrics, "metrics");
    this.flows = flows;
    this.accessLog = accessLog;
    this.drainGrace = Objects.requireNonNull(drainGrace, "drainGrace");
    register(metrics.registry());
  }

  private void register(MeterRegistry r) {
    Gauge.builder("lattice_dataplane_downstream_connections", proxy, ProxyServer::openConnections)
        .description("Downstream connections open").register(r);
    FunctionCounter.builder("lattice_dataplane_headers_timeouts", proxy, ProxyServer::headersTimeouts)
        .description("Request heads not complete within the headers timeout (408)").register(r);
    FunctionCounter.builder("lattice_dataplane_idle_timeouts", proxy, ProxyServer::idleTimeouts)
        .description("Connections closed idle").register(r);
    FunctionCounter.builder("lattice_dataplane_tls_handshake_failures", proxy, ProxyServer::tlsHandshakeFailures)
        .description("TLS handshakes that failed or timed out").register(r);
    FunctionCounter.builder("lattice_dataplane_metrics_overflowed", metrics, IstioMetrics::overflowed)
        .description("Requests not in istio_* metrics because their label set exceeded the bound").register(r);
    if (flows != null) {
      FunctionCounter.builder("lattice_dataplane_flow_records_sent", flows, f -> f.stats().sent())
          .description("Flow records the broker acknowledged").register(r);
      FunctionCounter.builder("lattice_dataplane_flow_records_dropped", flows, f -> f.stats().droppedBufferFull())
          .tag("reason", "buffer_full").description("Flow records lost").register(r);
      FunctionCounter.builder("lattice_dataplane_flow_records_dropped", flows, f -> f.stats().failed())
          .tag("reason", "delivery_failed").description("Flow records lost").register(r);
      Gauge.builder("lattice_dataplane_flow_records_buffered", flows, f -> f.stats().buffered())
          .description("Flow records waiting for the sender").register(r);
    }
    if (accessLog != null) {
      FunctionCounter.builder("lattice_dataplane_access_log_dropped", accessLog, AccessLog::dropped)
          .description("Access-log lines dropped (queue full)").register(r);
    }
  }

  @Override
  public AdminServer.EndpointOutlier outlier(String cluster, String address, int port) {
    OutlierDetector od = outlierOf(cluster);
    OutlierDetector.Host h = od == null ? null : od.host(new InetSocketAddress(address, port));
    return h == null ? null : new AdminServer.EndpointOutlier(h.ejected(), h.ejections());
  }

  private OutlierDetector outlierOf(String cluster) {
    UpstreamCluster c = proxy.config() == null ? null : proxy.cluster(cluster);
    return c == null ? null : c.outlier();
  }

  @Override
  public ProxyConfig config() {
    return proxy.config();
  }

  @Override
  public Map<String, InetSocketAddress> listenerAddresses() {
    return proxy.listenerAddresses();
  }

  @Override
  public Map<String, Number> stats() {
    Map<String, Number> s = new LinkedHashMap<>();
    s.put("server.downstream_cx_active", proxy.openConnections());
    s.put("server.headers_timeouts", proxy.headersTimeouts());
    s.put("server.idle_timeouts", proxy.idleTimeouts());
    s.put("server.tls_handshake_failures", proxy.tlsHandshakeFailures());
    s.put("server.state", proxy.draining() ? 1 : 0);
    for (int c = 1; c <= 5; c++) {
      s.put("http.downstream_rq_" + c + "xx", metrics.requests(c));
    }
    s.put("http.downstream_rq_no_response", metrics.requests(0));
    s.put("lattice.metrics.label_sets_overflowed", metrics.overflowed());
    ProxyConfig c = proxy.config();
    if (c != null) {
      for (ClusterConfig cl : c.clusters().values()) {
        long healthy = cl.getEndpoints().stream().filter(ProxyAdminSources::healthy).count();
        OutlierDetector od = outlierOf(cl.getName());
        if (od != null) {
          // Envoy's membership_healthy counts outlier ejections as unhealthy too
          healthy -= cl.getEndpoints().stream().filter(e -> healthy(e) && od.isEjected(new InetSocketAddress(e.getAddress(), e.getPort())))
              .count();
          String p = "cluster." + cl.getName() + ".outlier_detection.";
          s.put(p + "ejections_active", od.ejectionsActive());
          s.put(p + "ejections_enforced_total", od.ejectionsEnforcedTotal());
          s.put(p + "ejections_enforced_consecutive_5xx", od.ejectionsEnforcedConsecutive5xx());
          s.put(p + "ejections_detected_consecutive_5xx", od.ejectionsDetectedConsecutive5xx());
          s.put(p + "ejections_enforced_consecutive_gateway_failure", od.ejectionsEnforcedConsecutiveGatewayFailure());
          s.put(p + "ejections_detected_consecutive_gateway_failure", od.ejectionsDetectedConsecutiveGatewayFailure());
          s.put(p + "ejections_enforced_consecutive_local_origin_failure", od.ejectionsEnforcedConsecutiveLocalOriginFailure());
          s.put(p + "ejections_overflow", od.ejectionsOverflow());
          s.put(p + "panic", od.panic() ? 1 : 0);
        }
        s.put("cluster." + cl.getName() + ".membership_total", cl.getEndpoints().size());
        s.put("cluster." + cl.getName() + ".membership_healthy", healthy);
      }
    }
    if (flows != null) {
      FlowExporter.Stats f = flows.stats();
      s.put("lattice.flows.accepted", f.accepted());
      s.put("lattice.flows.dropped_buffer_full", f.droppedBufferFull());
      s.put("lattice.flows.sent", f.sent());
      s.put("lattice.flows.failed", f.failed());
      s.put("lattice.flows.buffered", f.buffered());
    }
    if (accessLog != null) {
      s.put("lattice.access_log.written", accessLog.written());
      s.put("lattice.access_log.dropped", accessLog.dropped());
    }
    return s;
  }

  private static boolean healthy(ClusterEndpoint e) {
    return e.getHealth() != WorkloadHealth.UNHEALTHY && e.getHealth() != WorkloadHealth.DRAINING;
  }

  @Override
  public String prometheus() {
    registerOutlierMeters();
    return metrics.scrape();
  }

  /**
   * Per-cluster outlier meters, registered the first time a scrape sees a cluster with outlier detection
   * (clusters come and go with config pushes; a meter reads the cluster of the served snapshot, 0 once gone).
   */
  private void registerOutlierMeters() {
    ProxyConfig c = proxy.config();
    if (c == null) {
      return;
    }
    MeterRegistry r = metrics.registry();
    for (String name : c.clusters().keySet()) {
      if (outlierOf(name) == null || !outlierMeters.add(name)) {
        continue;
      }
      Gauge.builder("lattice_dataplane_outlier_ejections_active", this, a -> a.outlierValue(name, OutlierDetector::ejectionsActive))
          .tag("cluster", name).description("Endpoints ejected by outlier detection now").register(r);
      FunctionCounter.builder("lattice_dataplane_outlier_ejections", this,
              a -> a.outlierValue(name, OutlierDetector::ejectionsEnforcedConsecutive5xx))
          .tag("cluster", name).tag("cause", "consecutive_5xx").description("Outlier ejections enforced").register(r);
      FunctionCounter.builder("lattice_dataplane_outlier_ejections", this,
              a -> a.outlierValue(name, OutlierDetector::ejectionsEnforcedConsecutiveGatewayFailure))
          .tag("cluster", name).tag("cause", "consecutive_gateway_failure").description("Outlier ejections enforced").register(r);
      FunctionCounter.builder("lattice_dataplane_outlier_ejections_overflow", this, a -> a.outlierValue(name, OutlierDetector::ejectionsOverflow))
          .tag("cluster", name).description("Outlier ejections refused by maxEjectionPercent").register(r);
    }
  }

  private double outlierValue(String cluster, java.util.function.ToLongFunction<OutlierDetector> f) {
    OutlierDetector od = outlierOf(cluster);
    return od == null ? 0 : f.applyAsLong(od);
  }

  @Override
  public Future<Void> drain() {
    return proxy.drain(drainGrace);
  }
}
