package dev.lattice.kit.service;

import dev.lattice.kit.config.LatticeConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.ext.web.Router;

/**
 * What the launcher hands a {@link LatticeService}: the Vert.x instance, its configuration, the
 * router of its HTTP endpoint, its readiness checks and its meter registry.
 *
 * @param vertx the shared Vert.x instance (never closed by the service)
 * @param config layered configuration (flags &gt; env &gt; YAML &gt; defaults)
 * @param router router of the service's HTTP server; {@code /healthz}, {@code /readyz}, {@code /metrics}
 *     are already mounted
 * @param readiness where the service registers what must hold before it is ready
 * @param meters Prometheus-backed registry exposed on {@code /metrics}
 * @param httpHost the host the service's HTTP server bound
 * @param httpPort the port it actually bound (the real one when {@code <name>.http.port} was 0), or -1
 *     when unknown
 */
public record ServiceContext(Vertx vertx, LatticeConfig config, Router router, Readiness readiness,
    MeterRegistry meters, String httpHost, int httpPort) {

  /** A context whose HTTP address is unknown (embedding, tests). */
  public ServiceContext(Vertx vertx, LatticeConfig config, Router router, Readiness readiness, MeterRegistry meters) {
    this(vertx, config, router, readiness, meters, "127.0.0.1", -1);
  }

  /** Kafka bootstrap servers for this run ({@code kafka.bootstrap.servers}). */
  public String kafkaBootstrapServers() {
    return config.require("kafka.bootstrap.servers");
  }
}
