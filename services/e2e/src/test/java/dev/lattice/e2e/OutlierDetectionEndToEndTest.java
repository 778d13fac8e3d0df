package dev.lattice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.dataplane.upstream.resilience.OutlierDetector;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.policy.compiler.CompiledResource;
import dev.lattice.policy.compiler.MeshState;
import dev.lattice.policy.compiler.OutboundCompiler;
import dev.lattice.policy.model.ParsedDocument;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.registry.RegisteredWorkload;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Outlier detection from the user's DestinationPolicy to real traffic: Istio-style YAML (durations as
 * {@code 1s}/{@code 30s}) → validation → the policy compiler's outbound cluster → the node proxy on
 * loopback, where an instance answering 503 is ejected after {@code consecutive5xxErrors} and returns when
 * the base ejection time has passed on the proxy's clock (moved by the test, not waited for).
 */
class OutlierDetectionEndToEndTest {
  private final Vertx vertx = Vertx.vertx();
  private final List<HttpServer> backends = new ArrayList<>();
  private final AtomicLong now = new AtomicLong(Instant.parse("2026-12-04T00:00:00Z").toEpochMilli());
  private final Clock clock = new Clock() {
    @Override public ZoneId getZone() { return ZoneOffset.UTC; }
    @Override public Clock withZone(ZoneId z) { return this; }
    @Override public Instant instant() { return Instant.ofEpochMilli(now.get()); }
  };
  private ProxyServer proxy;

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
    for (HttpServer b : backends) {
      b.close().await(10, TimeUnit.SECONDS);
    }
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private int backend(String name, int status) throws Exception {
    HttpServer s = vertx.createHttpServer().requestHandler(req -> req.response().setStatusCode(status).putHeader("x-backend", name).end(name))
        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    backends.add(s);
    return s.actualPort();
  }

  private static RegisteredWorkload workload(String instance, int servicePort, int targetPort) {
    return new RegisteredWorkload("default", "reviews", instance, List.of("reviews.default"), "127.0.0.1",
        List.of(new RegisteredWorkload.ServicePort("http", servicePort, targetPort, "HTTP")), Map.of("app", "reviews"), "node-b", "",
        "HEALTHY");
  }

  private static void apply(MeshState state, String yaml) {
    ParsedDocument d = ResourceParser.create().parseOne(yaml);
    assertThat(d.errors()).as("parse errors").isEmpty();
    Resource r = d.resource();
    assertThat(ResourceValidator.validate(r).errors()).as("validation errors").isEmpty();
    r = r.withMetadata(r.metadata().withServerFields("1", "2026-12-04T00:00:00Z", "uid-" + r.metadata().name()));
    state.putResource(ResourceEventMapper.toEvent(r, new ResourceEventMapper.Provenance(1, "e2e", ResourceSource.REST,
        Instant.parse("2026-12-04T00:00:00Z"))));
  }

  @Test
  void anInstanceAnswering503IsEjectedAndReturnsAfterTheBaseEjectionTime() throws Exception {
    int servicePort;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      servicePort = s.getLocalPort();
    }
    MeshState state = new MeshState("lattice-system");
    int badPort = backend("bad", 503);
    state.putWorkload(workload("reviews-bad", servicePort, badPort));
    state.putWorkload(workload("reviews-good", servicePort, backend("good", 200)));
    apply(state, """
        apiVersion: lattice.dev/v1alpha1
        kind: DestinationPolicy
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          trafficPolicy:
            loadBalancer: {simple: ROUND_ROBIN}
            outlierDetection: {consecutive5xxErrors: 2, interval: 1s, baseEjectionTime: 30s, maxEjectionPercent: 100}
        """);
    List<ListenerConfig> listeners = new ArrayList<>();
    List<RouteConfig> routes = new ArrayList<>();
    List<ClusterConfig> clusters = new ArrayList<>();
    for (CompiledResource c : OutboundCompiler.compile(state, "reviews.default").resources().values()) {
      switch (c.type()) {
        case LISTENER -> listeners.add((ListenerConfig) c.payload());
        case ROUTE -> routes.add((RouteConfig) c.payload());
        case CLUSTER -> clusters.add((ClusterConfig) c.payload());
        default -> { }
      }
    }
    ProxyConfig config = ProxyConfig.of("e2e", ProxySettings.defaults("node-a"), listeners, routes, clusters, List.of(), List.of());
    proxy = ProxyServer.start(vertx, config, ProxyServerOptions.defaults().withClock(clock)).await(10, TimeUnit.SECONDS);
    String cluster = "outbound|" + servicePort + "||reviews.default";
    OutlierDetector od = proxy.cluster(cluster).outlier();
    assertThat(od).as("the compiled cluster carries outlierDetection").isNotNull();
    assertThat(od.settings()).isEqualTo(new OutlierDetector.Settings(2, 0, 1_000, 30_000, 300_000, 100, 0));
    InetSocketAddress listener = proxy.address("outbound|" + servicePort + "|reviews.default");

    List<String> answered = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      answered.add(get(listener));
    }
    // round robin alternates until bad's second 503, then only good answers
    assertThat(answered.stream().filter("503 bad"::equals).count()).isEqualTo(2);
    int lastBad = answered.lastIndexOf("503 bad");
    assertThat(lastBad).isLessThanOrEqualTo(3);
    assertThat(answered.subList(lastBad + 1, answered.size())).containsOnly("200 good");
    assertThat(od.ejected()).containsExactly(new InetSocketAddress("127.0.0.1", badPort));

    now.addAndGet(30_000);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!od.ejected().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(10); // the proxy's sweep timer notices the moved clock
    }
    assertThat(od.ejected()).as("returned after the base ejection time").isEmpty();
    List<String> after = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      after.add(get(listener));
    }
    assertThat(after).containsExactlyInAnyOrder("503 bad", "200 good");
  }

  /** A GET on its own connection: status and the answering backend. */
  private static String get(InetSocketAddress to) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 5000);
      s.setSoTimeout(10_000);
      s.getOutputStream().write("GET / HTTP/1.1\r\nHost: reviews.default\r\nconnection: close\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      String text = new String(in.readAllBytes(), StandardCharsets.ISO_8859_1);
      String status = text.substring(9, 12);
      int body = text.indexOf("\r\n\r\n") + 4;
      return status + " " + text.substring(body);
    }
  }
}
