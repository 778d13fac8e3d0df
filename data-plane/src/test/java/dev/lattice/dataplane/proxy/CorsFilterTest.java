package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.dataplane.filter.cors.CorsFilterFactory;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Istio corsPolicy through the proxy on real sockets: preflight and actual requests, exact/prefix/regex origins. */
class CorsFilterTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  private void start(String cors) throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    fx.start("""
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: api
                domains: ["api.default"]
                routes:
                  - name: default/api
                    clusters: [{cluster: echo}]
                    corsPolicy: %s
              - name: plain
                domains: ["plain.default"]
                routes:
                  - name: default/plain
                    clusters: [{cluster: echo}]
        clusters:
          - name: echo
            host: echo.default
            port: 8080
            endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]
        """.formatted(cors, backend.port()), List.of(new CorsFilterFactory()));
  }

  private static final String POLICY = """
      {allowOrigins: [{exact: "https://app.example.com"}, {prefix: "https://dev-"}, {regex: "https://[a-z]+\\\\.corp\\\\.example"}],
       allowMethods: [GET, POST], allowHeaders: [authorization, x-custom], exposeHeaders: [x-backend],
       maxAge: 86400000, allowCredentials: true}""";

  private static String preflight(String host, String origin) {
    return "OPTIONS /items HTTP/1.1\r\nhost: " + host + "\r\norigin: " + origin
        + "\r\naccess-control-request-method: POST\r\naccess-control-request-headers: x-custom\r\n\r\n";
  }

  @Test
  void preflightFromAnAllowedOriginIsAnsweredByTheProxy() throws Exception {
    start(POLICY);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (String origin : List.of("https://app.example.com", "https://dev-42.example.com", "https://shop.corp.example")) {
        RawHttpClient.Response r = c.send(preflight("api.default", origin)).read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("access-control-allow-origin")).isEqualTo(origin);
        assertThat(r.header("access-control-allow-methods")).isEqualTo("GET,POST");
        assertThat(r.header("access-control-allow-headers")).isEqualTo("authorization,x-custom");
        assertThat(r.header("access-control-max-age")).isEqualTo("86400");
        assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
        assertThat(r.body()).isEmpty();
      }
    }
    assertThat(backend.requests.get()).isZero();
    assertThat(fx.nextCompleted().local()).isTrue();
  }

  @Test
  void preflightFromAnotherOriginIsForwardedWithoutCorsHeaders() throws Exception {
    start(POLICY);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (String origin : List.of("https://evil.example.com", "https://app.example.com.evil", "http://dev-1", "https://x.corp.example.org")) {
        RawHttpClient.Response r = c.send(preflight("api.default", origin)).read();
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("OPTIONS /items");
        assertThat(r.header("access-control-allow-origin")).isNull();
      }
    }
    assertThat(backend.requests.get()).isEqualTo(4);
  }

  @Test
  void actualRequestFromAnAllowedOriginGetsAllowOriginCredentialsAndExposeHeaders() throws Exception {
    start(POLICY);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.send("GET /items HTTP/1.1\r\nhost: api.default\r\norigin: https://app.example.com\r\n\r\n").read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).contains("origin: https://app.example.com"); // the request goes on unchanged
      assertThat(r.header("access-control-allow-origin")).isEqualTo("https://app.example.com");
      assertThat(r.header("access-control-allow-credentials")).isEqualTo("true");
      assertThat(r.header("access-control-expose-headers")).isEqualTo("x-backend");
      assertThat(r.header("access-control-allow-methods")).isNull(); // preflight-only header
      RawHttpClient.Response denied = c.send("GET /items HTTP/1.1\r\nhost: api.default\r\norigin: https://evil.example.com\r\n\r\n").read();
      assertThat(denied.status()).isEqualTo(200);
      assertThat(denied.header("access-control-allow-origin")).isNull();
      RawHttpClient.Response noOrigin = c.get("/items", "api.default");
      assertThat(noOrigin.header("access-control-allow-origin")).isNull();
      // a route without corsPolicy: no CORS handling at all, preflights go upstream
      RawHttpClient.Response other = c.send(preflight("plain.default", "https://app.example.com")).read();
      assertThat(other.body()).startsWith("OPTIONS /items");
      assertThat(other.header("access-control-allow-origin")).isNull();
    }
  }

  @Test
  void optionsWithoutRequestMethodIsAnActualRequest() throws Exception {
    start(POLICY);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.send("OPTIONS /items HTTP/1.1\r\nhost: api.default\r\norigin: https://app.example.com\r\n\r\n").read();
      assertThat(r.body()).startsWith("OPTIONS /items");
      assertThat(r.header("access-control-allow-origin")).isEqualTo("https://app.example.com");
    }
  }

  @Test
  void wildcardOriginEchoesTheCaller() throws Exception {
    start("{allowOrigins: [{exact: '*'}], allowMethods: [GET]}");
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      RawHttpClient.Response r = c.send(preflight("api.default", "https://anyone.example")).read();
      assertThat(r.header("access-control-allow-origin")).isEqualTo("https://anyone.example");
      assertThat(r.header("access-control-allow-credentials")).isNull();
      assertThat(r.header("access-control-max-age")).isNull();
    }
  }

  @Test
  void badOriginRegexIsRejectedNamingTheRoute() {
    assertThatThrownBy(() -> start("{allowOrigins: [{regex: '(['}]}"))
        .hasMessageContaining("route default/api: corsPolicy.allowOrigins[0]: regex ([ does not compile");
  }

  @Test
  void emptyOriginMatchIsRejected() {
    assertThatThrownBy(() -> start("{allowOrigins: [{}]}"))
        .hasMessageContaining("corsPolicy.allowOrigins[0]: sets none of exact, prefix, regex");
  }
}
