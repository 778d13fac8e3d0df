package dev.lattice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
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
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Traffic simulation after Istio's {@code pilot/pkg/simulation} (issue 10 item 7), run against the data
 * plane itself: TrafficRoute and DestinationPolicy YAML as a user writes it → validation → the policy
 * compiler's outbound units for the registered workloads → the node proxy's config → real requests on
 * loopback sockets to real backends. Each row of the table is a call and the route, cluster, status,
 * response flags and backend (or redirect location) it must get. No Kafka: the compiler's pure function
 * is what the Streams topology runs, and the distributor only carries its output.
 */
class TrafficSimulationTest {
  private static final String NODE = "node-a";

  private Vertx vertx;
  private final List<HttpServer> backends = new ArrayList<>();
  private ProxyServer proxy;
  private final LinkedBlockingQueue<String[]> completed = new LinkedBlockingQueue<>();

  /** One call: where it goes and what it must get. */
  record Call(String name, String host, String method, String path, Map<String, String> headers) {
    static Call get(String name, String host, String path) {
      return new Call(name, host, "GET", path, Map.of());
    }

    Call with(String header, String value) {
      Map<String, String> h = new LinkedHashMap<>(headers);
      h.put(header, value);
      return new Call(name, host, method, path, h);
    }
  }

  /**
   * The expected outcome: route and cluster as the flow record names them (null: none), status, flags, the
   * backend that answered (null: none did), and for redirects the location; {@code upstreamPath} is the path
   * the backend saw (rewrites), or null to skip.
   */
  record Expect(String route, String cluster, int status, String flags, String backend, String location, String upstreamPath) {}

  @BeforeEach
  void setUp() {
    vertx = Vertx.vertx();
  }

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

  /** A backend answering every request with its name in x-backend and the path it saw as the body. */
  private int backend(String name) throws Exception {
    HttpServer s = vertx.createHttpServer().requestHandler(req -> req.response().putHeader("x-backend", name).end(req.uri()))
        .listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    backends.add(s);
    return s.actualPort();
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  private static RegisteredWorkload workload(String name, String instance, int servicePort, int targetPort, Map<String, String> labels) {
    return new RegisteredWorkload("default", name, instance, List.of(name + ".default"), "127.0.0.1",
        List.of(new RegisteredWorkload.ServicePort("http", servicePort, targetPort, "HTTP")), labels, "node-b", "", "HEALTHY");
  }

  private static void apply(MeshState state, String yaml) {
    ParsedDocument d = ResourceParser.create().parseOne(yaml);
    assertThat(d.errors()).as("parse errors").isEmpty();
    Resource r = d.resource();
    assertThat(ResourceValidator.validate(r).errors()).as("validation errors of\n%s", yaml).isEmpty();
    r = r.withMetadata(r.metadata().withServerFields("1", "2026-12-04T00:00:00Z", "uid-" + r.metadata().name()));
    state.putResource(ResourceEventMapper.toEvent(r, new ResourceEventMapper.Provenance(1, "simulation", ResourceSource.REST,
        Instant.parse("2026-12-04T00:00:00Z"))));
  }

  /** The node's outbound config for {@code hosts}, as the compiler emits it. */
  private static ProxyConfig compile(MeshState state, List<String> hosts) {
    List<ListenerConfig> listeners = new ArrayList<>();
    List<RouteConfig> routes = new ArrayList<>();
    List<ClusterConfig> clusters = new ArrayList<>();
    for (String host : hosts) {
      for (CompiledResource c : OutboundCompiler.compile(state, host).resources().values()) {
        switch (c.type()) {
          case LISTENER -> listeners.add((ListenerConfig) c.payload());
          case ROUTE -> routes.add((RouteConfig) c.payload());
          case CLUSTER -> clusters.add((ClusterConfig) c.payload());
          default -> { }
        }
      }
    }
    return ProxyConfig.of("simulation", ProxySettings.defaults(NODE), listeners, routes, clusters, List.of(), List.of());
  }

  @Test
  void compiledRoutesSendEachCallWhereTheTableSays() throws Exception {
    int reviewsPort = freePort();
    int ratingsPort = freePort();
    MeshState state = new MeshState("lattice-system");
    state.putWorkload(workload("reviews", "reviews-v1", reviewsPort, backend("reviews-v1"), Map.of("app", "reviews", "version", "v1")));
    state.putWorkload(workload("reviews", "reviews-v2", reviewsPort, backend("reviews-v2"), Map.of("app", "reviews", "version", "v2")));
    state.putWorkload(workload("ratings", "ratings-1", ratingsPort, backend("ratings"), Map.of("app", "ratings")));
    apply(state, """
        apiVersion: lattice.dev/v1alpha1
        kind: DestinationPolicy
        metadata: {name: reviews, namespace: default}
        spec:
          host: reviews
          subsets:
          - {name: v1, labels: {version: v1}}
          - {name: v2, labels: {version: v2}}
        """);
    apply(state, """
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - name: canary
            match: [{headers: {x-canary: {exact: "1"}}}]
            route: [{destination: {host: reviews, subset: v2}}]
          - name: old-api
            match: [{uri: {prefix: /v0/}}]
            redirect: {uri: /v1/moved, redirectCode: 308}
          - name: maintenance
            match: [{uri: {prefix: /admin}}]
            directResponse: {status: 503, body: {string: maintenance}}
          - name: legacy
            match: [{uri: {prefix: /legacy/}}]
            rewrite: {uri: /}
            route: [{destination: {host: reviews, subset: v1}}]
          - name: to-ratings
            match: [{uri: {prefix: /ratings}, method: {exact: GET}}]
            route: [{destination: {host: ratings}}]
          - name: teapot
            match: [{uri: {exact: /brew}}]
            fault: {abort: {httpStatus: 418, percentage: {value: 100}}}
            route: [{destination: {host: reviews, subset: v1}}]
          - name: default
            route: [{destination: {host: reviews, subset: v1}}]
        """);
    ProxyConfig config = compile(state, List.of("reviews.default", "ratings.default"));
    proxy = ProxyServer.start(vertx, config, ProxyServerOptions.defaults().withExchangeListener(ex -> completed.add(new String[] {
        ex.route(), ex.cluster(), Integer.toString(ex.status()), ex.responseFlags()}))).await(10, TimeUnit.SECONDS);

    String listener = "outbound|" + reviewsPort + "|reviews.default";
    String v1 = "outbound|" + reviewsPort + "|v1|reviews.default";
    String v2 = "outbound|" + reviewsPort + "|v2|reviews.default";
    String ratings = "outbound|" + ratingsPort + "||ratings.default";
    Map<Call, Expect> table = new LinkedHashMap<>();
    table.put(Call.get("default", "reviews.default", "/reviews/1"),
        new Expect("default/reviews/default", v1, 200, "", "reviews-v1", null, "/reviews/1"));
    table.put(Call.get("short host, port", "reviews:" + reviewsPort, "/reviews/1"),
        new Expect("default/reviews/default", v1, 200, "", "reviews-v1", null, null));
    table.put(Call.get("canary header", "reviews.default", "/reviews/1").with("x-canary", "1"),
        new Expect("default/reviews/canary", v2, 200, "", "reviews-v2", null, null));
    table.put(Call.get("canary beats redirect (first match wins)", "reviews.default", "/v0/x").with("x-canary", "1"),
        new Expect("default/reviews/canary", v2, 200, "", "reviews-v2", null, "/v0/x"));
    table.put(Call.get("redirect", "reviews.default", "/v0/old?q=1"),
        new Expect("default/reviews/old-api", null, 308, "", null, "http://reviews.default/v1/moved?q=1", null));
    table.put(Call.get("direct response", "reviews.default", "/admin/users"),
        new Expect("default/reviews/maintenance", null, 503, "", null, null, null));
    table.put(Call.get("prefix rewrite", "reviews.default", "/legacy/books/7"),
        new Expect("default/reviews/legacy", v1, 200, "", "reviews-v1", null, "/books/7"));
    table.put(Call.get("to another service", "reviews.default", "/ratings/7"),
        new Expect("default/reviews/to-ratings", ratings, 200, "", "ratings", null, "/ratings/7"));
    table.put(new Call("method not matched", "reviews.default", "POST", "/ratings/7", Map.of("content-length", "0")),
        new Expect("default/reviews/default", v1, 200, "", "reviews-v1", null, null));
    table.put(Call.get("fault abort", "reviews.default", "/brew"),
        new Expect("default/reviews/teapot", null, 418, "FI", null, null, null));
    table.put(Call.get("exact is exact", "reviews.default", "/brew/more"),
        new Expect("default/reviews/default", v1, 200, "", "reviews-v1", null, null));
    table.put(Call.get("unknown host", "nosuch.default", "/"),
        new Expect(null, null, 404, "NR", null, null, null));
    table.put(Call.get("ratings' own listener", "ratings.default", "/stars"),
        new Expect("default", ratings, 200, "", "ratings", null, "/stars"));

    List<String> failures = new ArrayList<>();
    for (Map.Entry<Call, Expect> row : table.entrySet()) {
      Call call = row.getKey();
      Expect want = row.getValue();
      String l = call.host().startsWith("ratings") ? "outbound|" + ratingsPort + "|ratings.default" : listener;
      Response got = send(proxy.address(l), call);
      String[] seen = completed.poll(10, TimeUnit.SECONDS);
      assertThat(seen).as("%s: an exchange completed", call.name()).isNotNull();
      Map<String, Object> diff = new LinkedHashMap<>();
      check(diff, "route", want.route(), seen[0]);
      check(diff, "cluster", want.cluster(), seen[1]);
      check(diff, "status", want.status(), got.status());
      check(diff, "recorded status", want.status(), Integer.parseInt(seen[2]));
      check(diff, "flags", want.flags(), seen[3]);
      check(diff, "backend", want.backend(), got.headers().get("x-backend"));
      check(diff, "location", want.location(), got.headers().get("location"));
      if (want.upstreamPath() != null) {
        check(diff, "upstream path", want.upstreamPath(), got.body());
      }
      if (!diff.isEmpty()) {
        failures.add(call.name() + ": " + diff);
      }
    }
    assertThat(failures).as("calls that went elsewhere than the table says").isEmpty();
  }

  private static void check(Map<String, Object> diff, String what, Object want, Object got) {
    if (!java.util.Objects.equals(want, got)) {
      diff.put(what, "want " + want + ", got " + got);
    }
  }

  record Response(int status, Map<String, String> headers, String body) {}

  /** One HTTP/1.1 request on its own connection (java.net.http would not let the test set Host). */
  private static Response send(InetSocketAddress to, Call call) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(to, 5000);
      s.setSoTimeout(10_000);
      StringBuilder req = new StringBuilder(call.method()).append(' ').append(call.path()).append(" HTTP/1.1\r\nHost: ")
          .append(call.host()).append("\r\nconnection: close\r\n");
      call.headers().forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      s.getOutputStream().write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      InputStream in = s.getInputStream();
      ByteArrayOutputStream all = new ByteArrayOutputStream();
      in.transferTo(all);
      String text = all.toString(StandardCharsets.ISO_8859_1);
      int end = text.indexOf("\r\n\r\n");
      String[] lines = text.substring(0, end).split("\r\n");
      Map<String, String> headers = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int c = lines[i].indexOf(':');
        headers.put(lines[i].substring(0, c).trim().toLowerCase(Locale.ROOT), lines[i].substring(c + 1).trim());
      }
      return new Response(Integer.parseInt(lines[0].split(" ")[1]), headers, text.substring(end + 4));
    }
  }
}
