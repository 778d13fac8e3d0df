package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Route mirroring on real loopback sockets (issue 10 acceptance: "a mirror receives a copy while the
 * caller's latency and response are unchanged"): the copy's head and body, a mirror that never answers
 * or cannot be reached leaves the caller untouched, and mirrorPercentage over 2,000 requests.
 */
class MirrorTest {
  private final ProxyFixture fx = new ProxyFixture();
  private EchoBackend primary;
  private HttpServer mirror;
  /** What the mirror received: "METHOD uri host body". */
  private final LinkedBlockingQueue<String> copies = new LinkedBlockingQueue<>();
  private final AtomicInteger mirrored = new AtomicInteger();
  /** When set, the mirror holds every request without answering. */
  private volatile boolean hang;

  @BeforeEach
  void backends() throws Exception {
    primary = new EchoBackend(fx.vertx, "primary");
    mirror = fx.vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
    mirror.requestHandler(req -> req.body().onSuccess(body -> {
      mirrored.incrementAndGet();
      copies.add(req.method() + " " + req.uri() + " " + req.getHeader("host") + " " + body);
      if (!hang) {
        req.response().putHeader("x-from", "mirror").setStatusCode(500).end("mirror answer, to be dropped");
      }
    }));
    mirror.listen().await(10, TimeUnit.SECONDS);
  }

  @AfterEach
  void tearDown() throws Exception {
    primary.close();
    mirror.close().await(10, TimeUnit.SECONDS);
    fx.close();
  }

  private String config(int mirrorPort, String percentage) {
    return """
        settings: {node: node-a}
        listeners:
          - {name: out, port: 0, direction: OUTBOUND, protocol: HTTP, routeConfig: r1}
        routes:
          - name: r1
            virtualHosts:
              - name: reviews
                domains: ["*"]
                routes:
                  - name: default/reviews
                    clusters: [{cluster: primary}]
                    mirrorCluster: shadow
                    %s
        clusters:
          - {name: primary, host: reviews.default, port: 9080, mtls: false, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
          - {name: shadow, host: reviews-next.default, port: 9080, mtls: false, endpoints: [{address: 127.0.0.1, port: %d, health: HEALTHY}]}
        """.formatted(percentage, primary.port(), mirrorPort);
  }

  @Test
  void theMirrorGetsACopyOfHeadAndBodyAndItsAnswerIsDropped() throws Exception {
    fx.start(config(mirror.actualPort(), ""));
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      c.send("POST /reviews/1?x=1 HTTP/1.1\r\nHost: reviews.default:9080\r\ncontent-length: 11\r\n\r\nhello world");
      RawHttpClient.Response r = c.read();
      assertThat(r.status()).isEqualTo(200);
      assertThat(r.header("x-backend")).isEqualTo("primary");
      assertThat(r.header("x-from")).isNull();
      assertThat(r.body()).startsWith("POST /reviews/1?x=1\n").endsWith("hello world");
      assertThat(copies.poll(10, TimeUnit.SECONDS)).isEqualTo("POST /reviews/1?x=1 reviews.default-shadow:9080 hello world");

      // chunked body, streamed: the copy gets all of it too
      c.send("PUT /chunks HTTP/1.1\r\nHost: reviews.default\r\ntransfer-encoding: chunked\r\n\r\n5\r\nabcde\r\n3\r\nfgh\r\n0\r\n\r\n");
      assertThat(c.read().status()).isEqualTo(200);
      assertThat(copies.poll(10, TimeUnit.SECONDS)).isEqualTo("PUT /chunks reviews.default-shadow abcdefgh");

      // a bodiless GET
      assertThat(c.get("/plain", "reviews.default").status()).isEqualTo(200);
      assertThat(copies.poll(10, TimeUnit.SECONDS)).isEqualTo("GET /plain reviews.default-shadow ");
      assertThat(fx.nextCompleted().cluster()).isEqualTo("primary");
    }
  }

  @Test
  void aMirrorThatNeverAnswersOrCannotBeReachedLeavesTheCallerUntouched() throws Exception {
    hang = true;
    fx.start(config(mirror.actualPort(), ""));
    long slowest = 0;
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 50; i++) {
        long t0 = System.nanoTime();
        RawHttpClient.Response r = c.get("/r/" + i, "reviews.default");
        slowest = Math.max(slowest, System.nanoTime() - t0);
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.header("x-backend")).isEqualTo("primary");
      }
    }
    for (int i = 0; i < 500 && mirrored.get() < 50; i++) {
      Thread.sleep(10);
    }
    assertThat(mirrored.get()).as("copies held by the mirror").isEqualTo(50);
    // each answer came while its copy was still held: the caller never waits for the mirror
    assertThat(TimeUnit.NANOSECONDS.toMillis(slowest)).isLessThan(2000);

    fx.server.apply(dev.lattice.dataplane.config.ProxyConfigFile.parse(config(ProxyFixture.closedPort(), ""))).await(30, TimeUnit.SECONDS);
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 20; i++) {
        assertThat(c.get("/r/" + i, "reviews.default").status()).isEqualTo(200);
      }
    }
  }

  @Test
  void mirrorPercentageHoldsWithinThreePointsOver2000Requests() throws Exception {
    fx.start(config(mirror.actualPort(), "mirrorPercentage: 25.0"));
    try (RawHttpClient c = new RawHttpClient(fx.address("out"))) {
      for (int i = 0; i < 2000; i++) {
        assertThat(c.get("/p/" + i, "reviews.default").status()).isEqualTo(200);
      }
    }
    for (int i = 0; i < 1000 && mirrored.get() < 480; i++) {
      Thread.sleep(10);
    }
    Thread.sleep(200); // late copies, if any, would push it over
    assertThat(mirrored.get() / 20.0).isBetween(22.0, 28.0);
    List<String> some = List.copyOf(copies);
    assertThat(some).allSatisfy(s -> assertThat(s).startsWith("GET /p/"));
  }
}
