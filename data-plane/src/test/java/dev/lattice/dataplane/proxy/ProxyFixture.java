package dev.lattice.dataplane.proxy;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.filter.HttpFilterFactory;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A proxy on real loopback sockets for tests: Vert.x with native transport preferred (epoll here), a
 * config written as the YAML a user writes, and every completed exchange captured as a value.
 */
final class ProxyFixture implements AutoCloseable {
  /** The fields of a completed exchange, copied in the callback. */
  record Seen(String listener, String method, String authority, String path, int status, String flags, String route,
              String cluster, String requestId, long bytesIn, long bytesOut, boolean local, int retries, Object decision, long startMillis) {}

  static final Instant NOW = Instant.parse("2026-12-03T10:00:00Z");
  final Vertx vertx = Vertx.vertx(new VertxOptions().setPreferNativeTransport(true).setEventLoopPoolSize(2));
  final LinkedBlockingQueue<Seen> completed = new LinkedBlockingQueue<>();
  ProxyServer server;
  /** The proxy's clock; a test that moves time sets a {@link ManualClock} before {@link #start}. */
  Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
  /** The node's SVIDs and bundles for inbound mTLS, when a test sets one before {@link #start}. */
  dev.lattice.dataplane.identity.WorkloadIdentitySource identity;

  ProxyServer start(String yaml) throws Exception {
    return start(yaml, List.of());
  }

  ProxyServer start(String yaml, List<HttpFilterFactory> filters) throws Exception {
    ProxyConfig config = ProxyConfigFile.parse(yaml);
    ProxyServerOptions options = ProxyServerOptions.defaults().withFilterFactories(filters)
        .withClock(clock)
        .withExchangeListener(ex -> completed.add(new Seen(ex.listenerName(), ex.method(), ex.authority(), ex.path(), ex.status(),
            ex.responseFlags(), ex.route(), ex.cluster(), ex.requestId(), ex.bytesReceived(), ex.bytesSent(), ex.localResponse(),
            ex.retries(), ex.get(dev.lattice.dataplane.filter.ExchangeKeys.AUTHZ_DECISION), ex.startEpochMillis())));
    if (identity != null) {
      options = options.withIdentitySource(identity);
    }
    server = ProxyServer.start(vertx, config, options).await(10, TimeUnit.SECONDS);
    return server;
  }

  InetSocketAddress address(String listener) {
    return server.address(listener);
  }

  Seen nextCompleted() throws InterruptedException {
    Seen s = completed.poll(10, TimeUnit.SECONDS);
    if (s == null) {
      throw new AssertionError("no exchange completed within 10 s");
    }
    return s;
  }

  /** One outbound HTTP listener {@code out} on an ephemeral port routing every request to {@code backend}. */
  static String singleRoute(int backendPort, String settings) {
    return """
        settings: {node: node-a%s}
        listeners:
          - name: out
            port: 0
            direction: OUTBOUND
            protocol: HTTP
            routeConfig: r1
          - name: in
            port: 0
            direction: INBOUND
            protocol: HTTP
            routeConfig: r1
        routes:
          - name: r1
            virtualHosts:
              - name: echo
                domains: ["echo.default", "echo.default:8080"]
                routes:
                  - name: default/echo
                    clusters: [{cluster: echo}]
              - name: empty
                domains: ["empty.default"]
                routes:
                  - name: default/empty
                    clusters: [{cluster: empty}]
              - name: dead
                domains: ["dead.default"]
                routes:
                  - name: default/dead
                    clusters: [{cluster: dead}]
        clusters:
          - name: echo
            host: echo.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
          - name: empty
            host: empty.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: UNHEALTHY}]
          - name: dead
            host: dead.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
        """.formatted(settings, backendPort, backendPort, closedPort());
  }

  /** A loopback port nothing listens on (bound, then released). */
  static int closedPort() {
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Override
  public void close() throws Exception {
    if (server != null) {
      server.close().await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }
}
