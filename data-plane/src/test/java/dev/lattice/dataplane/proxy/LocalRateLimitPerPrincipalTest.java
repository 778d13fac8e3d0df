package dev.lattice.dataplane.proxy;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.dataplane.filter.ratelimit.LocalRateLimitFilterFactory;
import dev.lattice.dataplane.identity.FileIdentitySource;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code writes-per-caller} limit of docs/traffic-management.md on real mTLS: one bucket per verified
 * caller SPIFFE ID ({@code perSourcePrincipal}), counting only the requests its {@code match} selects
 * (route, method, uri prefix). Buckets refill by a {@link ManualClock}.
 */
class LocalRateLimitPerPrincipalTest {
  @TempDir
  Path dir;
  private final ProxyFixture fx = new ProxyFixture();
  private final ManualClock clock = new ManualClock(ProxyFixture.NOW);
  private EchoBackend backend;
  private FileIdentitySource identity;
  private TestPki pki;

  @AfterEach
  void tearDown() throws Exception {
    if (backend != null) {
      backend.close();
    }
    fx.close();
    if (identity != null) {
      identity.close();
    }
  }

  private InetSocketAddress start() throws Exception {
    pki = new TestPki(dir, "lattice-local");
    TestPki.Issued node = pki.client("node-b", "spiffe://lattice.local/lattice/node/node-b");
    Path chain = dir.resolve("svid.pem");
    Path key = dir.resolve("svid-key.pem");
    Files.copy(node.certFile(), chain, StandardCopyOption.REPLACE_EXISTING);
    Files.copy(node.keyFile(), key, StandardCopyOption.REPLACE_EXISTING);
    identity = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(chain, key)), Map.of("lattice.local", pki.caFile));
    fx.identity = identity;
    backend = new EchoBackend(fx.vertx, "b1");
    String yaml = ProxyFixture.singleRoute(backend.port(), "")
        .replace("    direction: INBOUND\n", "    direction: INBOUND\n    peerAuthentication: pa\n    rateLimit: rl\n")
        + """
        peerAuthentication:
          - {name: pa, mode: STRICT}
        rateLimits:
          - name: rl
            limits:
              - name: writes-per-caller
                requestsPerUnit: 2
                unit: MINUTE
                perSourcePrincipal: true
                match: {routes: [default/echo], methods: [POST, PUT], uri: {prefix: /api}}
        """;
    fx.start(yaml, List.of(new LocalRateLimitFilterFactory(clock)));
    return fx.address("in");
  }

  private static List<Integer> send(RawHttpClient c, String method, String path, int n) throws Exception {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      c.send(method + " " + path + " HTTP/1.1\r\nHost: echo.default\r\ncontent-length: 0\r\n\r\n");
      out.add(c.read().status());
    }
    return out;
  }

  @Test
  void eachCallerIdentityHasItsOwnBucketAndOnlyMatchedRequestsCount() throws Exception {
    InetSocketAddress proxy = start();
    TestPki.Issued web = pki.client("web", "spiffe://lattice.local/ns/default/sa/web");
    TestPki.Issued api = pki.client("api", "spiffe://lattice.local/ns/default/sa/api");
    try (RawHttpClient w = RawHttpClient.tls(proxy, pki.clientContext(web));
         RawHttpClient w2 = RawHttpClient.tls(proxy, pki.clientContext(web));
         RawHttpClient a = RawHttpClient.tls(proxy, pki.clientContext(api))) {
      assertThat(send(w, "POST", "/api/items", 2)).containsExactly(200, 200);
      // the same identity on another connection shares the bucket (NODE scope): empty
      c429(w2, "PUT", "/api/items");
      // another identity has its own
      assertThat(send(a, "POST", "/api/items", 2)).containsExactly(200, 200);
      c429(a, "POST", "/api/items");
      // requests the match does not select are not counted
      assertThat(send(w, "GET", "/api/items", 3)).containsOnly(200);
      assertThat(send(w, "POST", "/other", 3)).containsOnly(200);
      // 2 per minute: one token back after 30 s
      clock.advance(Duration.ofSeconds(30));
      assertThat(send(w, "POST", "/api/items", 2)).containsExactly(200, 429);
    }
  }

  private static void c429(RawHttpClient c, String method, String path) throws Exception {
    c.send(method + " " + path + " HTTP/1.1\r\nHost: echo.default\r\ncontent-length: 0\r\n\r\n");
    RawHttpClient.Response r = c.read();
    assertThat(r.status()).isEqualTo(429);
    assertThat(r.body()).isEqualTo("local_rate_limited");
    assertThat(r.header("retry-after")).isEqualTo("30");
  }
}
