package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.lattice.dataplane.config.ProxyConfigFile;
import dev.lattice.dataplane.filter.authz.AuthorizationFilterFactory;
import dev.lattice.dataplane.filter.trace.TraceFilterFactory;
import dev.lattice.dataplane.telemetry.FlowExporter;
import dev.lattice.dataplane.telemetry.ProxyTelemetry;
import dev.lattice.events.FlowDirection;
import dev.lattice.events.FlowRecord;
import dev.lattice.events.FlowVerdict;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;
import dev.lattice.kit.topic.TopicSpec;
import dev.lattice.testkit.kafka.KafkaCluster;
import dev.lattice.testkit.kafka.KafkaRecords;
import dev.lattice.testkit.kafka.LatticeKafkaTest;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The proxy's telemetry end to end on real sockets and a real broker: every HTTP request through the
 * proxy becomes one FlowRecord on the flows topic, with verdict, deciding policy and reason, AUDIT and
 * dry-run shadows, response flags and the trace id the proxy propagated upstream; with the broker out of
 * reach requests keep succeeding and the lost records are counted.
 */
@LatticeKafkaTest
class ProxyFlowRecordsTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;
  private FlowExporter exporter;

  @AfterEach
  void tearDown() throws Exception {
    if (exporter != null) {
      exporter.close(Duration.ofSeconds(2));
    }
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  private static Producer<byte[], byte[]> producer(String bootstrap) {
    Map<String, Object> props = new HashMap<>();
    props.put("bootstrap.servers", bootstrap);
    props.put("acks", "all");
    props.put("enable.idempotence", true);
    props.putAll(FlowExporter.producerTuning());
    return new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer());
  }

  private static Topic<String, FlowRecord> topic(String name) {
    return Topic.of(TopicSpec.deleted(name, 1, Duration.ofHours(24)), LatticeTopics.FLOWS.keySerde(),
        LatticeTopics.FLOWS.valueSerde());
  }

  /** Inbound listener {@code in} with authorization: DENY /admin/*, AUDIT everything, dry-run DENY /new/*. */
  private void startProxy(String bootstrap, Topic<String, FlowRecord> topic, FlowExporter.Options options) throws Exception {
    backend = new EchoBackend(fx.vertx, "catalog-v1");
    String yaml = ProxyFixture.singleRoute(backend.port(), "")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    authorization: authz-echo\n")
        .replace("endpoints: [{address: 127.0.0.1, port: " + backend.port() + ", health: HEALTHY}]",
            "endpoints: [{address: 127.0.0.1, port: " + backend.port() + ", health: HEALTHY, "
                + "spiffeId: \"spiffe://lattice.local/ns/shop/sa/catalog\", labels: {app: catalog, version: v1}}]")
        + """
        authorization:
          - name: authz-echo
            policies:
              - namespace: shop
                name: deny-admin
                action: DENY
                rules: [{to: [{operation: {paths: ["/admin/*"]}}]}]
              - namespace: shop
                name: audit-all
                action: AUDIT
                rules: [{}]
              - namespace: shop
                name: deny-new
                action: DENY
                dryRun: true
                rules: [{to: [{operation: {paths: ["/new/*"]}}]}]
        """;
    exporter = new FlowExporter(producer(bootstrap), topic, options);
    AtomicReference<ProxyServer> server = new AtomicReference<>();
    ProxyTelemetry telemetry = new ProxyTelemetry(() -> server.get() == null ? null : server.get().config(),
        List.of(exporter::offer));
    ProxyServerOptions opts = ProxyServerOptions.defaults()
        .withFilterFactories(List.of(new TraceFilterFactory(), new AuthorizationFilterFactory()))
        .withClock(Clock.fixed(ProxyFixture.NOW, ZoneOffset.UTC))
        .withExchangeListener(telemetry);
    fx.server = ProxyServer.start(fx.vertx, ProxyConfigFile.parse(yaml), opts).await(10, TimeUnit.SECONDS);
    server.set(fx.server);
  }

  @Test
  void everyRequestBecomesAFlowRecordWithVerdictPolicyShadowsFlagsAndTrace(KafkaCluster cluster) throws Exception {
    String name = cluster.createTopic(cluster.uniqueTopic("flows"), 1, Map.of());
    Topic<String, FlowRecord> topic = topic(name);
    startProxy(cluster.bootstrapServers(), topic, FlowExporter.Options.DEFAULTS);
    String incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    String forwarded;
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      RawHttpClient.Response ok = c.send("GET /items/1?q=secret HTTP/1.1\r\nHost: echo.default\r\ntraceparent: " + incoming
          + "\r\ntracestate: vendor=1\r\nx-request-id: req-ok\r\n\r\n").read();
      assertThat(ok.status()).isEqualTo(200);
      // the backend saw the same trace with this hop's span as the parent, and tracestate untouched
      forwarded = ok.body().lines().filter(l -> l.startsWith("traceparent: ")).findFirst().orElseThrow().substring(13);
      assertThat(forwarded).startsWith("00-4bf92f3577b34da6a3ce929d0e0e4736-").endsWith("-01")
          .isNotEqualTo(incoming).hasSize(55);
      assertThat(ok.body()).contains("tracestate: vendor=1");

      assertThat(c.send("GET /admin/users HTTP/1.1\r\nHost: echo.default\r\nx-request-id: req-denied\r\n\r\n").read().status())
          .isEqualTo(403);
      assertThat(c.send("GET /new/thing HTTP/1.1\r\nHost: echo.default\r\nx-request-id: req-dry\r\n\r\n").read().status())
          .isEqualTo(200);
      assertThat(c.send("GET / HTTP/1.1\r\nHost: nowhere.default\r\nx-request-id: req-nr\r\n\r\n").read().status())
          .isEqualTo(404);
      assertThat(c.send("GET / HTTP/1.1\r\nHost: dead.default\r\nx-request-id: req-uf\r\n\r\n").read().status())
          .isEqualTo(503);
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> exporter.stats().sent() == 5);
    Map<String, FlowRecord> byRequest = new HashMap<>();
    for (var r : KafkaRecords.readFromBeginning(cluster, name, 5)) {
      FlowRecord f = topic.valueSerde().deserializer().deserialize(name, r.value());
      byRequest.put(f.getRequestId(), f);
    }
    assertThat(byRequest).containsOnlyKeys("req-ok", "req-denied", "req-dry", "req-nr", "req-uf");

    FlowRecord ok = byRequest.get("req-ok");
    assertThat(ok.getTime()).isEqualTo(ProxyFixture.NOW);
    assertThat(ok.getNode()).isEqualTo("node-a");
    assertThat(ok.getDirection()).isEqualTo(FlowDirection.INBOUND);
    assertThat(ok.getVerdict()).isEqualTo(FlowVerdict.FORWARDED);
    assertThat(ok.getL7().getHttpStatus()).isEqualTo(200);
    assertThat(ok.getL7().getHttpMethod()).isEqualTo("GET");
    assertThat(ok.getL7().getPath()).isEqualTo("/items/1");
    assertThat(ok.getL7().getHost()).isEqualTo("echo.default");
    assertThat(ok.getL7().getRoute()).isEqualTo("default/echo");
    assertThat(ok.getPolicyReason()).isEqualTo("no_allow_policies");
    assertThat(ok.getAuditPolicies()).containsExactly("shop/audit-all");
    assertThat(ok.getDryRunVerdict()).isNull();
    assertThat(ok.getResponseFlags()).isEmpty();
    assertThat(ok.getTraceId()).isEqualTo("4bf92f3577b34da6a3ce929d0e0e4736");
    assertThat(ok.getSpanId()).isEqualTo(forwardedSpan(forwarded));
    assertThat(ok.getMtls()).isFalse();
    assertThat(ok.getDestination().getWorkload()).isEqualTo("catalog");
    assertThat(ok.getDestination().getNamespace()).isEqualTo("shop");
    assertThat(ok.getDestination().getSpiffeId()).isEqualTo("spiffe://lattice.local/ns/shop/sa/catalog");
    assertThat(ok.getDestination().getPort()).isEqualTo(backend.port());
    assertThat(ok.getSource().getIp()).isEqualTo("127.0.0.1");
    assertThat(ok.getBytesOut()).isPositive();
    assertThat(ok.getLatencyMicros()).isPositive();

    FlowRecord denied = byRequest.get("req-denied");
    assertThat(denied.getVerdict()).isEqualTo(FlowVerdict.DROPPED);
    assertThat(denied.getPolicy()).isEqualTo("shop/deny-admin");
    assertThat(denied.getPolicyReason()).isEqualTo("deny_matched");
    assertThat(denied.getResponseFlags()).containsExactly("RBAC");
    assertThat(denied.getL7().getHttpStatus()).isEqualTo(403);
    // a request without traceparent starts a trace here
    assertThat(denied.getTraceId()).hasSize(32).isNotEqualTo(ok.getTraceId());

    FlowRecord dry = byRequest.get("req-dry");
    assertThat(dry.getVerdict()).isEqualTo(FlowVerdict.FORWARDED);
    assertThat(dry.getDryRunVerdict()).isEqualTo(FlowVerdict.DROPPED);
    assertThat(dry.getDryRunPolicy()).isEqualTo("shop/deny-new");
    assertThat(dry.getDryRunReason()).isEqualTo("deny_matched");

    assertThat(byRequest.get("req-nr").getVerdict()).isEqualTo(FlowVerdict.ERROR);
    assertThat(byRequest.get("req-nr").getResponseFlags()).containsExactly("NR");
    assertThat(byRequest.get("req-uf").getVerdict()).isEqualTo(FlowVerdict.ERROR);
    assertThat(byRequest.get("req-uf").getResponseFlags()).containsExactly("UF");
    assertThat(exporter.stats().dropped()).isZero();
  }

  private static String forwardedSpan(String traceparent) {
    return traceparent.substring(36, 52);
  }

  @Test
  @Timeout(value = 60, unit = TimeUnit.SECONDS)
  void anUnreachableBrokerCostsFlowRecordsNeverRequests() throws Exception {
    // nothing listens there: the exporter's sender blocks in the producer, its small buffer fills
    startProxy("127.0.0.1:" + ProxyFixture.closedPort(), topic("lattice.flows.v1"),
        new FlowExporter.Options(16, 4, Duration.ofMillis(5)));
    int requests = 300;
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      for (int i = 0; i < requests; i++) {
        assertThat(c.get("/items/" + i, "echo.default").status()).isEqualTo(200);
      }
    }
    assertThat(backend.requests.get()).isEqualTo(requests);
    await().atMost(Duration.ofSeconds(10)).until(() -> exporter.stats().accepted() + exporter.stats().droppedBufferFull() == requests);
    FlowExporter.Stats stats = exporter.stats();
    assertThat(stats.droppedBufferFull()).isGreaterThan(0);
    assertThat(stats.sent()).isZero();
    exporter.close(Duration.ofSeconds(1));
    FlowExporter.Stats end = exporter.stats();
    assertThat(end.sent() + end.dropped()).isEqualTo(requests);
  }
}
