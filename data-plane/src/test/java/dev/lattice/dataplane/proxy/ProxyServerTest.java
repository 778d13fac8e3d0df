package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.authz.Decision;
import dev.lattice.authz.Reason;
import dev.lattice.dataplane.config.ProxyConfigFile;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The HTTP/1.1 traffic path on real loopback sockets: client → proxy listener → route → cluster → backend. */
class ProxyServerTest {
  private ProxyFixture fx;
  private EchoBackend backend;

  @BeforeEach
  void setUp() throws Exception {
    fx = new ProxyFixture();
    backend = new EchoBackend(fx.vertx, "b1");
    fx.start(ProxyFixture.singleRoute(backend.port(), ""));
  }

  @AfterEach
  void tearDown() throws Exception {
    backend.close();
    fx.close();
  }

  @Test
  void forwardsWithForwardingHeadersAndWithoutHopByHopOnes() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("GET /items?id=7 HTTP/1.1\r\nHost: echo.default\r\nConnection: keep-alive, x-secret\r\nx-secret: s\r\n"
          + "Keep-Alive: timeout=5\r\nTE: trailers\r\nProxy-Connection: keep-alive\r\nx-forwarded-proto: https\r\n"
          + "x-request-id: req-1\r\nX-Forwarded-For: 10.9.9.9\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("GET /items?id=7\n")
          .contains("host: echo.default\n", "via: 1.1 node-a\n", "x-forwarded-for: 10.9.9.9, 127.0.0.1\n",
              "x-forwarded-proto: http\n", "x-request-id: req-1\n")
          .doesNotContain("x-secret", "keep-alive", "te:", "proxy-connection");
      assertThat(r.header("via")).isEqualTo("1.1 node-a");
      assertThat(r.header("keep-alive")).isNull(); // the backend's, hop-by-hop
      assertThat(r.header("x-backend")).isEqualTo("b1");
    }
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(seen.status()).isEqualTo(200);
    assertThat(seen.route()).isEqualTo("default/echo");
    assertThat(seen.cluster()).isEqualTo("echo");
    assertThat(seen.requestId()).isEqualTo("req-1");
    assertThat(seen.path()).isEqualTo("/items");
    assertThat(seen.flags()).isEmpty();
    assertThat(seen.startMillis()).isEqualTo(ProxyFixture.NOW.toEpochMilli());
  }

  @Test
  void keepAliveDownstreamAndPooledUpstream() throws Exception {
    try (RawHttpClient a = new RawHttpClient(fx.address("out")); RawHttpClient b = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 20; i++) {
        RawHttpClient c = i % 2 == 0 ? a : b;
        RawHttpClient.Response r = c.get("/n/" + i, "echo.default");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.body()).startsWith("GET /n/" + i + "\n");
        assertThat(r.header("connection")).isNull();
      }
    }
    assertThat(backend.requests.get()).isEqualTo(20);
    // two client connections, used one after the other, on two event loops at most: at most two upstream connections
    assertThat(backend.connections.get()).isBetween(1, 2);
  }

  @Test
  void generatesARequestIdWhenTheClientSentNoneOrAnInsaneOne() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("GET / HTTP/1.1\r\nHost: echo.default\r\nx-request-id: " + "x".repeat(200) + "\r\n\r\n");
      assertThat(c.read().body()).containsPattern("x-request-id: [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\n");
    }
  }

  @Test
  void streamsRequestBodiesInBothFramingsAndChunkedResponses() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("POST /upload HTTP/1.1\r\nHost: echo.default\r\nContent-Length: 11\r\n\r\nhello world");
      assertThat(c.read().body()).endsWith("\n\nhello world").contains("content-length: 11");
      c.send("POST /upload HTTP/1.1\r\nHost: echo.default\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
      assertThat(c.read().body()).endsWith("\n\nhello world");
      RawHttpClient.Response chunked = c.get("/chunked", "echo.default");
      assertThat(chunked.header("transfer-encoding")).isEqualTo("chunked");
      assertThat(chunked.body()).isEqualTo("part1-part2");
    }
    assertThat(backend.connections.get()).isEqualTo(1);
  }

  @Test
  void headResponsesCarryNoBodyAndTheConnectionStaysUsable() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("HEAD /x HTTP/1.1\r\nHost: echo.default\r\n\r\n");
      RawHttpClient.Response h = c.read(true);
      assertThat(h.status()).isEqualTo(200);
      assertThat(c.get("/after-head", "echo.default").body()).startsWith("GET /after-head\n");
    }
  }

  @Test
  void pipelinedRequestsAreAnsweredInOrder() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("GET /one HTTP/1.1\r\nHost: echo.default\r\n\r\nGET /two HTTP/1.1\r\nHost: nowhere\r\n\r\n"
          + "GET /three HTTP/1.1\r\nHost: echo.default\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /one\n");
      assertThat(c.read().status()).isEqualTo(404);
      assertThat(c.read().body()).startsWith("GET /three\n");
    }
  }

  @Test
  void noRouteNoHealthyEndpointAndConnectFailureAreLocalAnswersWithResponseFlags() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/", "unknown.default").status()).isEqualTo(404);
      assertThat(fx.nextCompleted().flags()).isEqualTo("NR");
      RawHttpClient.Response uh = c.get("/", "empty.default");
      assertThat(uh.status()).isEqualTo(503);
      assertThat(uh.body()).isEqualTo("no healthy upstream");
      assertThat(fx.nextCompleted().flags()).isEqualTo("UH");
      RawHttpClient.Response uf = c.get("/", "dead.default");
      assertThat(uf.status()).isEqualTo(503);
      assertThat(uf.body()).contains("connection failure");
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.flags()).isEqualTo("UF");
      assertThat(seen.local()).isTrue();
      // and the connection still serves
      assertThat(c.get("/", "echo.default").status()).isEqualTo(200);
    }
  }

  @Test
  void inboundListenerKeepsTheMeshCallersForwardedProto() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("in"))) {
      c.send("GET / HTTP/1.1\r\nHost: echo.default:8080\r\nX-Forwarded-Proto: https\r\n\r\n");
      assertThat(c.read().body()).contains("x-forwarded-proto: https\n");
    }
  }

  @Test
  void pathIsNormalizedBeforeRoutingAndForwardingAndMalformedPathsAre400() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/a/./b/../c?q=1", "echo.default").body()).startsWith("GET /a/c?q=1\n");
      assertThat(c.get("/%7Euser", "echo.default").body()).startsWith("GET /~user\n");
      fx.nextCompleted();
      fx.nextCompleted();
      RawHttpClient.Response bad = c.send("GET /a%zz HTTP/1.1\r\nHost: echo.default\r\nx-request-id: bad-path-1\r\n\r\n").read();
      assertThat(bad.status()).isEqualTo(400);
      assertThat(bad.header("connection")).isEqualTo("close");
      assertThat(c.closedByPeer()).isTrue();
    }
    ProxyFixture.Seen seen = fx.nextCompleted();
    assertThat(((Decision) seen.decision()).reason()).isEqualTo(Reason.REJECTED_BEFORE_AUTHZ);
    assertThat(seen.flags()).isEqualTo("DPE");
    // the rejected request keeps the caller's id (its flow record and access log line can be found by it)
    assertThat(seen.requestId()).isEqualTo("bad-path-1");
  }

  /** Found by the e2e AuthorizationParityThroughProxyTest: a head the codec refuses carried no decision at all. */
  @Test
  void everyMalformedHeadIsRejectedBeforeAuthorizationAsExplainSaysIt() throws Exception {
    for (String head : List.of("GE(T / HTTP/1.1\r\nHost: echo.default\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: echo.default\r\nx-team: bl\u0001ue\r\n\r\n",
        "GET / HTTP/1.1\r\nHost: echo.default\r\nHost: other.default\r\n\r\n")) {
      try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
        assertThat(c.send(head).read().status()).as(head).isEqualTo(400);
      }
      ProxyFixture.Seen seen = fx.nextCompleted();
      assertThat(seen.decision()).as(head).isInstanceOfSatisfying(Decision.class,
          d -> assertThat(d.reason()).isEqualTo(Reason.REJECTED_BEFORE_AUTHZ));
      assertThat(seen.flags()).isEqualTo("DPE");
    }
  }

  @Test
  void absoluteFormTargetsAreForwardedInOriginForm() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("GET http://echo.default:8080/p?x=1 HTTP/1.1\r\nHost: ignored.example\r\n\r\n");
      assertThat(c.read().body()).startsWith("GET /p?x=1\n").contains("host: echo.default:8080\n");
    }
  }

  @Test
  void http10ClientsGetTheirKeepAliveSemantics() throws Exception {
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("GET /ka HTTP/1.0\r\nHost: echo.default\r\nConnection: keep-alive\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.header("connection")).isEqualTo("keep-alive");
      c.send("GET /chunked HTTP/1.0\r\nHost: echo.default\r\n\r\n");
      RawHttpClient.Response chunked = c.read();
      assertThat(chunked.header("transfer-encoding")).isNull();
      assertThat(chunked.body()).isEqualTo("part1-part2"); // close-delimited
    }
  }

  @Test
  void aConfigSwapTakesEffectForTheNextRequestOnTheSameConnection() throws Exception {
    try (EchoBackend other = new EchoBackend(fx.vertx, "b2"); RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/", "echo.default").header("x-backend")).isEqualTo("b1");
      int port = fx.address("out").getPort();
      String swapped = ProxyFixture.singleRoute(other.port(), "").replaceFirst("port: 0", "port: " + port);
      fx.server.apply(ProxyConfigFile.parse(swapped)).await(10, TimeUnit.SECONDS);
      assertThat(fx.address("out").getPort()).isEqualTo(port);
      assertThat(c.get("/", "echo.default").header("x-backend")).isEqualTo("b2");
    }
  }

  @Test
  void aConfigThatCannotBindIsRefusedAndTheOldOneKeepsServing() throws Exception {
    try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      String bad = ProxyFixture.singleRoute(backend.port(), "").replaceFirst("port: 0", "port: " + taken.getLocalPort());
      assertThat(fx.server.apply(ProxyConfigFile.parse(bad)).toCompletionStage().toCompletableFuture())
          .failsWithin(10, TimeUnit.SECONDS).withThrowableThat().withMessageContaining("cannot bind");
    }
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      assertThat(c.get("/", "echo.default").status()).isEqualTo(200);
    }
  }
}
