package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed and hostile HTTP/1.1 clients on real sockets: each gets its clear answer (or its close),
 * nothing of it reaches the workload, and a well-behaved connection opened before it keeps working.
 * Timeouts are configured short and the test waits for their effect (a response, a close) within the
 * client's bounded read timeout, so no assertion depends on how fast the machine is.
 */
class HostileInputTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend backend;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
  }

  private InetSocketAddress start(String settings) throws Exception {
    backend = new EchoBackend(fx.vertx, "b1");
    fx.start(ProxyFixture.singleRoute(backend.port(), settings));
    return fx.address("out");
  }

  /** A keep-alive connection that made one request, to be checked again after the hostile one. */
  private static RawHttpClient healthy(InetSocketAddress proxy) throws Exception {
    RawHttpClient c = new RawHttpClient(proxy);
    assertThat(c.get("/before", "echo.default").status()).isEqualTo(200);
    return c;
  }

  private static void stillServes(RawHttpClient c) throws Exception {
    RawHttpClient.Response r = c.get("/after", "echo.default");
    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).startsWith("GET /after\n");
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "Content-Length: 5\r\nTransfer-Encoding: chunked",           // CL.TE
      "Transfer-Encoding: chunked\r\nContent-Length: 4",           // TE.CL
      "Transfer-Encoding: gzip, chunked",                          // chunked not alone
      "Transfer-Encoding: chunked\r\nTransfer-Encoding: identity", // two codings
      "Transfer-Encoding: xchunked",                               // unknown coding
      "Transfer-Encoding : chunked",                               // space before the colon (CVE-2019-16869)
      "Content-Length: 5\r\nContent-Length: 6",                    // conflicting lengths
      "Content-Length: 5, 6",                                      // conflicting list
      "Content-Length: -1",
      "Content-Length: +5",
      "Content-Length: 5a",
      "Content-Length: 5\r\nContent-Length: 5",                    // duplicate, even equal (RFC 9112 §6.3 allows refusing)
      "Content-Length: 0x5",
      "Content-Length: 99999999999999999999",                      // overflows a long
      "Content-Length:",                                           // empty
      "Content Length: 5",                                         // space in the name
      "Transfer-Encoding: chunked, gzip",                          // chunked not last
      "Transfer-Encoding: identity",                               // no framing the proxy forwards
      "Transfer-Encoding:\r\n chunked",                            // obs-fold
      "Transfer-Encoding\t: chunked",                              // tab before the colon
      "Transfer-Encoding: \u000bchunked",                          // vertical tab
  })
  void requestSmugglingShapesAre400AndClose(String framing) throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient ok = healthy(proxy); RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("POST /x HTTP/1.1\r\nHost: echo.default\r\n" + framing + "\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: echo.default\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(400);
      assertThat(c.closedByPeer()).isTrue();
      stillServes(ok);
    }
    assertThat(backend.requests.get()).isEqualTo(2); // /before and /after only
  }

  /** A body that, were it unframed, is a request of its own to the upstream. */
  private static final String SMUGGLED = "GET /smuggled HTTP/1.1\r\nHost: echo.default\r\n\r\n";

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {"content-length", "Content-Length, close", "transfer-encoding", "host"})
  void aConnectionOptionNamingAFramingOrRoutingHeaderNeverUnframesTheRequest(String option) throws Exception {
    // RFC 9110 §7.6.1 removes what Connection names; removing Content-Length would forward the body as a
    // next request upstream, past routing and authorization (found by this test: it used to reach the workload)
    InetSocketAddress proxy = start("");
    boolean chunked = option.equals("transfer-encoding");
    String framing = chunked ? "Transfer-Encoding: chunked\r\n" : "Content-Length: " + SMUGGLED.length() + "\r\n";
    String body = chunked ? Integer.toHexString(SMUGGLED.length()) + "\r\n" + SMUGGLED + "\r\n0\r\n\r\n" : SMUGGLED;
    try (RawHttpClient ok = healthy(proxy); RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("POST /x HTTP/1.1\r\nHost: echo.default\r\nConnection: " + option + "\r\n" + framing + "\r\n" + body);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body()).startsWith("POST /x\n").contains("\nhost: echo.default\n").endsWith("\n\n" + SMUGGLED);
      stillServes(ok);
    }
    // /before, the POST (its body intact) and /after: never a /smuggled
    assertThat(backend.requests.get()).isEqualTo(3);
  }

  @ParameterizedTest(name = "{0}")
  @ValueSource(strings = {
      "GET /x HTTP/1.1\r\nHost: echo.default\r\n x\r\n\r\n",           // obs-fold joined into Host
      "GET /x HTTP/1.1\r\nHost: echo.default:80:80\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: user@echo.default\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: echo.default/x\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: echo.default:123456\r\n\r\n",
      "GET /x HTTP/1.1\r\nHost: [::1\r\n\r\n",
      "GET http://user@echo.default/x HTTP/1.1\r\nHost: echo.default\r\n\r\n", // userinfo in absolute-form
  })
  void anAuthorityThatIsNotHostAndPortIs400AndClose(String raw) throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient ok = healthy(proxy); RawHttpClient c = new RawHttpClient(proxy)) {
      c.send(raw);
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(400);
      assertThat(r.body()).contains("host: not a valid authority");
      assertThat(c.closedByPeer()).isTrue();
      stillServes(ok);
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void anH2cUpgradeIsNeverForwardedSoTheWorkloadCannotBeReachedPastTheProxy() throws Exception {
    // h2c smuggling: a proxy forwarding Upgrade: h2c lets a backend switch the connection to HTTP/2, whose
    // streams the client then sends straight to the backend, past routing and authorization
    InetSocketAddress proxy = start("");
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("GET /x HTTP/1.1\r\nHost: echo.default\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
          + "Connection: Upgrade, HTTP2-Settings\r\n\r\n");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.body().toLowerCase(java.util.Locale.ROOT)).startsWith("get /x\n")
          .doesNotContain("upgrade").doesNotContain("http2-settings").doesNotContain("\nconnection:");
      // still HTTP/1.1 on both hops: the next request on the connection is an ordinary one
      RawHttpClient.Response next = c.get("/y", "echo.default");
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.body()).startsWith("GET /y\n");
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void chunkedOnHttp10And400() throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("POST /x HTTP/1.0\r\nHost: echo.default\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(400);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void aBrokenChunkMidBodyClosesBothSidesInsteadOfEndingTheUpstreamBody() throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient ok = healthy(proxy); RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("POST /x HTTP/1.1\r\nHost: echo.default\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\nzz\r\n\r\n");
      // the head may already be upstream: the proxy answers 400 or closes, and never completes the body
      RawHttpClient.Response r = readOrNull(c);
      if (r != null) {
        assertThat(r.status()).isEqualTo(400);
      }
      assertThat(c.closedByPeer()).isTrue();
      stillServes(ok);
    }
    assertThat(backend.requests.get()).isEqualTo(2);
    assertThat(flagsOfNonHealthy()).contains("DPE");
  }

  @Test
  void oversizedHeadersAre431AndAnOversizedRequestLine414() throws Exception {
    InetSocketAddress proxy = start(", maxHeaderBytes: 4096, maxInitialLineBytes: 1024");
    try (RawHttpClient ok = healthy(proxy)) {
      try (RawHttpClient c = new RawHttpClient(proxy)) {
        c.send("GET / HTTP/1.1\r\nHost: echo.default\r\nx-big: " + "a".repeat(5000) + "\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(431);
        assertThat(c.closedByPeer()).isTrue();
      }
      try (RawHttpClient c = new RawHttpClient(proxy)) {
        StringBuilder many = new StringBuilder();
        for (int i = 0; i < 600; i++) {
          many.append("x-h").append(i).append(": v\r\n"); // many small headers add up
        }
        c.send("GET / HTTP/1.1\r\nHost: echo.default\r\n" + many + "\r\n");
        assertThat(c.read().status()).isEqualTo(431);
      }
      try (RawHttpClient c = new RawHttpClient(proxy)) {
        c.send("GET /" + "p".repeat(2000) + " HTTP/1.1\r\nHost: echo.default\r\n\r\n");
        assertThat(c.read().status()).isEqualTo(414);
        assertThat(c.closedByPeer()).isTrue();
      }
      stillServes(ok);
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @ParameterizedTest(name = "{index}")
  @ValueSource(strings = {
      "GARBAGE\r\n\r\n",
      "GET\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: echo.default\r\nbad header\r\n\r\n",
      "GET / HTTP/1.1\r\nHost: echo.default\r\nx-nul: a\u0000b\r\n\r\n",
      "\u0016\u0003\u0001\u0000\u00a5\u0001\u0000\u0000\u00a1\u0003\u0003\r\n\r\n", // a TLS ClientHello on a plaintext port
  })
  void invalidHttpIs400AndClose(String raw) throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient ok = healthy(proxy); RawHttpClient c = new RawHttpClient(proxy)) {
      c.send(raw);
      RawHttpClient.Response r = readOrNull(c);
      if (r != null) {
        assertThat(r.status()).isEqualTo(400);
      }
      assertThat(c.closedByPeer()).isTrue();
      stillServes(ok);
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void anHttpVersionOtherThan1Is505() throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("GET / HTTP/9.9\r\nHost: echo.default\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(505);
      assertThat(c.closedByPeer()).isTrue();
    }
    assertThat(backend.requests.get()).isZero();
  }

  @Test
  void slowlorisGets408WhenItsHeadDoesNotCompleteInTime() throws Exception {
    InetSocketAddress proxy = start(", headersTimeout: 300ms");
    try (RawHttpClient ok = healthy(proxy); RawHttpClient slow = new RawHttpClient(proxy)) {
      slow.send("GET /slow HTTP/1.1\r\nHost: echo.default\r\nx-a: 1\r\n");
      RawHttpClient.Response r = slow.read(); // within the client's 10 s read timeout
      assertThat(r.status()).isEqualTo(408);
      assertThat(r.header("connection")).isEqualTo("close");
      assertThat(slow.closedByPeer()).isTrue();
      assertThat(fx.server.headersTimeouts()).isEqualTo(1);
      stillServes(ok); // idle between requests: the headers timeout does not apply to it
    }
    assertThat(backend.requests.get()).isEqualTo(2);
  }

  @Test
  void idleConnectionsAreClosedAfterTheIdleTimeoutButNotDuringAnExchange() throws Exception {
    InetSocketAddress proxy = start(", idleTimeout: 300ms");
    try (RawHttpClient used = new RawHttpClient(proxy); RawHttpClient silent = new RawHttpClient(proxy)) {
      assertThat(used.get("/one", "echo.default").status()).isEqualTo(200);
      assertThat(used.closedByPeer()).isTrue(); // idle after its response
      assertThat(silent.closedByPeer()).isTrue(); // never sent a byte
    }
    assertThat(fx.server.idleTimeouts()).isEqualTo(2);
    // a response streaming for longer than the idle timeout is not cut
    try (RawHttpClient c = new RawHttpClient(proxy)) {
      c.send("GET /stream/8 HTTP/1.1\r\nHost: echo.default\r\n\r\n");
      assertThat(c.read().body()).hasSize(8 << 20);
    }
  }

  @Test
  void aClientThatNeverReadsStallsItsUpstreamWithBoundedBuffers() throws Exception {
    InetSocketAddress proxy = start("");
    try (RawHttpClient ok = healthy(proxy); Socket lazy = new Socket()) {
      lazy.setReceiveBufferSize(16 * 1024);
      lazy.connect(proxy, 5000);
      lazy.getOutputStream().write("GET /stream/512 HTTP/1.1\r\nHost: echo.default\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      lazy.getOutputStream().flush();
      // wait until the backend is stalled and its count stops moving: the proxy stopped reading it
      AtomicLong seen = new AtomicLong(-1);
      await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(200)).until(() -> {
        long now = backend.streamed.get();
        return backend.streamStalled.get() && now > 0 && now == seen.getAndSet(now);
      });
      // socket buffers on both hops plus the proxy's 64 KiB write marks; nowhere near the 512 MiB body
      assertThat(backend.streamed.get()).isLessThan(64L << 20);
      stillServes(ok);
      InputStream in = lazy.getInputStream();
      assertThat(in.read()).isEqualTo('H'); // it was the response being held back, not a failure
    }
    // the lazy client went away mid-body: the proxy closes the upstream too
    await().atMost(10, TimeUnit.SECONDS).untilTrue(backend.streamAborted);
  }

  @Test
  void aClientPipeliningRequestsWithoutReadingIsHeldBackByItsOwnSocket() throws Exception {
    InetSocketAddress proxy = start("");
    String one = "GET /p HTTP/1.1\r\nHost: echo.default\r\n\r\n";
    int sent = 0;
    try (RawHttpClient ok = healthy(proxy); Socket flood = new Socket()) {
      flood.setReceiveBufferSize(8 * 1024);
      flood.connect(proxy, 5000);
      flood.setSoTimeout(10_000);
      // write in a background thread: once the proxy stops reading, the write blocks — that is the point
      byte[] batch = one.repeat(200).getBytes(StandardCharsets.US_ASCII);
      java.util.concurrent.atomic.AtomicInteger written = new java.util.concurrent.atomic.AtomicInteger();
      Thread writer = new Thread(() -> {
        try {
          for (int i = 0; i < 2_000; i++) { // at most 400,000 requests (~18 MB)
            flood.getOutputStream().write(batch);
            written.addAndGet(200);
          }
        } catch (java.io.IOException e) {
          // closed by the test
        }
      }, "pipeline-flood");
      writer.setDaemon(true);
      writer.start();
      // the backend count stops moving while the client reads nothing: responses back up, the proxy stops reading it
      AtomicLong seen = new AtomicLong(-1);
      await().atMost(30, TimeUnit.SECONDS).pollInterval(Duration.ofMillis(300)).until(() -> {
        long now = backend.requests.get();
        return now > 1 && now == seen.getAndSet(now);
      });
      sent = written.get();
      int served = backend.requests.get();
      System.out.printf("pipelining flood: %d requests written, %d reached the workload%n", sent, served);
      assertThat(sent).as("the writer was stopped by TCP backpressure, not by running out").isLessThan(400_000);
      // the requests held back sit in socket buffers (kernel-sized), not in the proxy's memory
      assertThat(served).isLessThanOrEqualTo(sent);
      stillServes(ok);
      flood.close();
      writer.join(10_000);
    }
  }

  private static RawHttpClient.Response readOrNull(RawHttpClient c) {
    try {
      return c.read();
    } catch (java.io.IOException e) {
      return null; // closed without a response
    }
  }

  private String flagsOfNonHealthy() throws InterruptedException {
    StringBuilder all = new StringBuilder();
    ProxyFixture.Seen s;
    while ((s = fx.completed.poll(2, TimeUnit.SECONDS)) != null) {
      if (!s.path().equals("/before") && !s.path().equals("/after")) {
        all.append(s.flags()).append(';');
      }
    }
    return all.toString();
  }
}
