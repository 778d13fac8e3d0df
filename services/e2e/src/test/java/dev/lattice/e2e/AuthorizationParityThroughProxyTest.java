package dev.lattice.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.authz.Decision;
import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.filter.ExchangeKeys;
import dev.lattice.dataplane.identity.FileIdentitySource;
import dev.lattice.dataplane.proxy.ProxyServer;
import dev.lattice.dataplane.proxy.ProxyServerOptions;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.PeerAuthenticationConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.policy.compiler.CompiledResource;
import dev.lattice.policy.compiler.InboundCompiler;
import dev.lattice.policy.compiler.MeshSettings;
import dev.lattice.policy.compiler.MeshState;
import dev.lattice.policy.explain.Explainer;
import dev.lattice.policy.model.ParsedDocument;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.registry.RegisteredWorkload;
import dev.lattice.policy.registry.RegistryIndex;
import dev.lattice.testkit.tls.TestSpiffeCa;
import dev.lattice.testkit.tls.TestSvid;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 9's parity property on the real proxy: for random AuthorizationPolicy sets (ALLOW/DENY/AUDIT, dry-run,
 * selectors, principals/namespaces/ipBlocks/remoteIpBlocks, methods/paths/ports, header conditions, random mesh
 * path normalization and trusted-proxy count) and random requests (paths that normalize or are malformed,
 * headers, X-Forwarded-For), the status the node proxy answers on real sockets — callers with distinct SPIFFE
 * IDs over real mTLS, or plaintext, each from its own loopback address — equals what {@code explain}
 * (the {@link Explainer} the REST API runs, on the same accepted resources and registry) decides: 200 from the
 * backend for ALLOW, 403 for DENY, 400 for {@code rejected_before_authz}. The proxy's own decision (reason,
 * policy, dry-run, audits) must equal explain's too.
 *
 * <p>YAML → parser → validator → event → {@link InboundCompiler} (what the Streams topology runs) → the proxy's
 * config, pushed live between sets. Kafka and the distributor only carry the compiler's output and are covered
 * by {@code PolicyToProxyEndToEndTest}. Seeds are printed with every disagreement: rerun one with
 * {@code -Dparity.seed=N}.
 */
class AuthorizationParityThroughProxyTest {
  private static final String TD = "lattice.local";
  private static final String NODE = "node-a";
  private static final String WORKLOAD_IP = "127.0.0.71";
  private static final int SERVICE_PORT = 8080;
  private static final int SETS = Integer.getInteger("parity.sets", 20);
  private static final int REQUESTS_PER_SET = 50;

  /** The callers: SPIFFE ID (null = plaintext) and the loopback address each connects from. */
  private record Caller(String spiffeId, String address) {}

  private static final List<Caller> CALLERS = List.of(
      new Caller("spiffe://lattice.local/ns/shop/sa/web", "127.0.0.81"),
      new Caller("spiffe://lattice.local/ns/shop/sa/cart", "127.0.0.82"),
      new Caller("spiffe://lattice.local/ns/ops/sa/admin", "127.0.0.83"),
      new Caller("spiffe://lattice.local/ns/vault/sa/teller", "127.0.0.84"),
      new Caller(null, "127.0.0.85"),
      new Caller(null, "127.0.0.86"));

  private static final List<String> PRINCIPALS = List.of("lattice.local/ns/shop/sa/web", "lattice.local/ns/shop/sa/cart",
      "lattice.local/ns/ops/sa/admin", "spiffe://lattice.local/ns/vault/sa/teller", "lattice.local/ns/shop/*", "*");
  private static final List<String> NAMESPACES = List.of("shop", "ops", "vault");
  private static final List<String> IP_BLOCKS = List.of("127.0.0.81", "127.0.0.80/30", "127.0.0.84/31", "127.0.0.86/32",
      "10.0.0.0/8", "192.168.1.7");
  private static final List<String> METHODS = List.of("GET", "POST", "DELETE", "PUT");
  /** Sent only: not RFC 9110 tokens (400 before authorization). */
  private static final List<String> BAD_METHODS = List.of("GE(T", "PO\"ST", "GET,");
  private static final List<String> HOST_PATTERNS = List.of("ledger.vault", "ledger.vault:8080", "*.vault", "ledger.*",
      "*.vault:8080", "other.bank");
  /** Host headers sent (explain gets the same authority). */
  private static final List<String> HOSTS = List.of("ledger.vault", "ledger.vault", "ledger.vault:8080", "Ledger.Vault",
      "api.vault", "ledger.vault.svc.cluster.local");
  private static final List<String> PATH_PATTERNS = List.of("/accounts/*", "/admin", "/admin/*", "*/export", "*.json",
      "/accounts/{*}/balance", "/health", "/a/b", "*");
  private static final List<String> PATHS = List.of("/accounts/7", "/accounts/7/balance", "/admin", "/admin/users",
      "/admin/../accounts/1", "/accounts/../admin", "/%61dmin", "/%2e%2e/admin", "/a/./b", "/a/../b", "/b", "//admin",
      "/accounts//7", "/admin%2Fusers", "/reports/export", "/reports/x.json", "/health", "/health?probe=1",
      "/admin?x=/accounts/1", "/a%zz", "/a\\b", "/A/B", "/", "/ADMIN", "/admin/", "/%2e/admin", "/accounts/7%2Fbalance",
      "/accounts/7%2fbalance", "/a/b/..", "/health#frag", "/admin%00", "/%41dmin/users", "/admin;x=1", "/.%2e/admin");
  private static final List<String> TEAMS = List.of("blue", "red", "blue-ops", "", " blue", "blue\t", "bl\u0001ue",
      "blue\u007f", "Blue");
  private static final List<String> TEAM_HEADER_NAMES = List.of("x-team", "x-team", "X-Team");

  @TempDir Path dir;

  private final TestSpiffeCa ca = TestSpiffeCa.create(TD);
  private Vertx vertx;
  private HttpServer backend;
  private ProxyServer proxy;
  private FileIdentitySource identity;
  /** x-request-id → the decision the proxy published for that request (completed when its exchange ends). */
  private final Map<String, CompletableFuture<Decision>> proxyDecisions = new ConcurrentHashMap<>();

  @AfterEach
  void tearDown() throws Exception {
    if (proxy != null) {
      proxy.close().await(10, TimeUnit.SECONDS);
    }
    if (backend != null) {
      backend.close().await(10, TimeUnit.SECONDS);
    }
    if (identity != null) {
      identity.close();
    }
    if (vertx != null) {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void theProxysVerdictEqualsExplainsForRandomPoliciesAndRequests() throws Exception {
    long base = Long.getLong("parity.seed", 90_000L);
    vertx = Vertx.vertx();
    int targetPort = freePort(WORKLOAD_IP);
    backend = vertx.createHttpServer().requestHandler(req -> req.response().putHeader("x-backend", "ledger").end("ledger"))
        .listen(targetPort, "127.0.0.1").await(10, TimeUnit.SECONDS);
    RegisteredWorkload ledger = new RegisteredWorkload("vault", "ledger", "vm-1", List.of("ledger.vault"), WORKLOAD_IP,
        List.of(new RegisteredWorkload.ServicePort("http", SERVICE_PORT, targetPort, "HTTP")),
        Map.of("app", "ledger", "tier", "data"), NODE, "spiffe://lattice.local/ns/vault/sa/ledger", "HEALTHY");
    RegistryIndex registry = new RegistryIndex();
    registry.put(ledger);
    registry.markAvailable();
    startIdentity();
    Map<Caller, SSLContext> tls = new LinkedHashMap<>();
    for (Caller c : CALLERS) {
      if (c.spiffeId() != null) {
        tls.put(c, clientContext(ca.issue(c.spiffeId())));
      }
    }

    List<String> disagreements = new ArrayList<>();
    Set<String> outcomes = new TreeSet<>();
    int compared = 0;
    long started = System.nanoTime();
    for (int set = 0; set < SETS; set++) {
      long seed = base + set;
      // java.util.Random's first draws are nearly equal for neighbouring seeds: scramble the seed first
      Random random = new Random(new SplittableRandom(seed).nextLong());
      MeshSettings mesh = new MeshSettings("lattice-system",
          PathNormalization.values()[random.nextInt(PathNormalization.values().length)], random.nextInt(3) == 0 ? 1 : 0);
      MeshState state = new MeshState(mesh);
      state.putWorkload(ledger);
      List<ResourceEvent> policies = new ArrayList<>();
      StringBuilder yaml = new StringBuilder();
      int count = 2 + random.nextInt(6);
      for (int i = 0; i < count; i++) {
        String doc = policy(random, "s" + set + "-p" + i, targetPort);
        yaml.append(doc).append("---\n");
        ResourceEvent e = accept(doc);
        policies.add(e);
        state.putResource(e);
      }
      ProxyConfig config = compile(state, ledger, "set-" + set);
      if (proxy == null) {
        proxy = ProxyServer.start(vertx, config, ProxyServerOptions.defaults().withIdentitySource(identity)
            .withExchangeListener(ex -> {
              Decision d = ex.get(ExchangeKeys.AUTHZ_DECISION);
              if (d != null) {
                // a head the codec refuses has no request id: known by its connection (closed after the 400)
                decisionOf(ex.requestId() != null ? ex.requestId() : connectionKey(ex.sourceAddress())).complete(d);
              }
            })).await(10, TimeUnit.SECONDS);
      } else {
        proxy.apply(config).await(10, TimeUnit.SECONDS);
      }
      InetSocketAddress listener = proxy.address(InboundCompiler.listenerName(SERVICE_PORT, ledger.key()));
      Explainer explainer = new Explainer(mesh);
      Map<Caller, Connection> connections = new LinkedHashMap<>();
      try {
        for (int i = 0; i < REQUESTS_PER_SET; i++) {
          Caller caller = CALLERS.get(random.nextInt(CALLERS.size()));
          int m = random.nextInt(20);
          String method = m == 0 ? "get" : m == 1 ? pick(random, BAD_METHODS) : pick(random, METHODS);
          String host = pick(random, HOSTS);
          String path = pick(random, PATHS);
          Map<String, String> headers = new LinkedHashMap<>();
          if (random.nextBoolean()) {
            headers.put(pick(random, TEAM_HEADER_NAMES), pick(random, TEAMS));
          }
          if (random.nextInt(4) == 0) {
            headers.put("x-forwarded-for", random.nextBoolean() ? "192.168.1.7" : "10.1.2.3, 127.0.0.81");
          }
          String id = "parity-" + seed + "-" + i;
          Connection c = connections.get(caller);
          if (c == null || c.closed) {
            c = Connection.open(listener, caller, tls.get(caller));
            connections.put(caller, c);
          }
          int status = c.exchange(method, host, path, headers, id);

          // explain on the same resources: what a user asking the REST API gets (the port the workload serves on)
          Map<String, String> explainHeaders = new LinkedHashMap<>(headers);
          Explainer.Explanation ex = explainer.explain("ledger.vault", "vault", new Explainer.Request(caller.spiffeId(),
              caller.address(), host, targetPort, method, path, explainHeaders), policies, registry);
          Decision want = ex.decisions().get(0).decision();
          int wantStatus = want.reason().code().equals("rejected_before_authz") ? 400 : want.allowed() ? 200 : 403;
          outcomes.add(want.reason().code() + (want.dryRun() != null ? "+dry-run" : "") + (want.audits().isEmpty() ? "" : "+audit"));
          String row = "seed " + seed + " request " + i + ": " + caller + " " + method + " " + host + " " + path + " " + headers
              + " (normalization " + mesh.pathNormalization() + ", trustedProxies " + mesh.trustedProxies() + ")";
          if (status != wantStatus) {
            disagreements.add(row + ": proxy " + status + ", explain " + wantStatus + " " + render(want) + "\n  policies:\n" + yaml);
          } else {
            Decision got = awaitDecision(id, connectionKey(c.local()));
            if (got == null || !render(got).equals(render(want))) {
              disagreements.add(row + ": proxy decided " + (got == null ? "nothing" : render(got)) + ", explain "
                  + render(want) + "\n  policies:\n" + yaml);
            }
          }
          compared++;
        }
      } finally {
        for (Connection c : connections.values()) {
          c.close();
        }
      }
    }
    long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - started);
    System.out.printf("authorization parity: %d requests over %d policy sets in %d s, outcomes %s%n", compared, SETS, seconds,
        outcomes);
    assertThat(disagreements).as("requests where the proxy and explain disagree (base seed %d)", base).isEmpty();
    assertThat(compared).isEqualTo(SETS * REQUESTS_PER_SET);
    // the random cases reach every kind of outcome, not just the default allow
    assertThat(String.join(" ", outcomes)).contains("allow_matched", "deny_matched", "no_allow_match", "no_allow_policies",
        "rejected_before_authz", "dry-run", "audit");
  }

  private CompletableFuture<Decision> decisionOf(String requestId) {
    return proxyDecisions.computeIfAbsent(requestId, k -> new CompletableFuture<>());
  }

  private static String connectionKey(InetSocketAddress source) {
    return "connection " + source.getAddress().getHostAddress() + ":" + source.getPort();
  }

  /** The proxy publishes its decision when the exchange completes, just after the answer is written. */
  private Decision awaitDecision(String requestId, String connection) throws Exception {
    try {
      return (Decision) CompletableFuture.anyOf(decisionOf(requestId), decisionOf(connection)).get(5, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      return null;
    } finally {
      proxyDecisions.remove(requestId);
      proxyDecisions.remove(connection);
    }
  }

  private void startIdentity() throws Exception {
    TestSvid node = ca.issue("spiffe://" + TD + "/lattice/node/" + NODE);
    Path cert = Files.writeString(dir.resolve("node.crt"), node.certPem());
    Path key = Files.writeString(dir.resolve("node.key"), node.keyPem());
    Path bundle = Files.writeString(dir.resolve("bundle.pem"), ca.rootPem());
    identity = FileIdentitySource.load(List.of(new FileIdentitySource.SvidFiles(cert, key)), Map.of(TD, bundle));
  }

  private SSLContext clientContext(TestSvid svid) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("ca", ca.root());
    TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(trust);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(new KeyManager[] {svid.keyManager()}, tmf.getTrustManagers(), null);
    return ctx;
  }

  /** Parses and validates {@code yaml} and returns the accepted event, as the policy service stores it. */
  private static ResourceEvent accept(String yaml) {
    ParsedDocument d = ResourceParser.create().parseOne(yaml);
    assertThat(d.errors()).as("parse errors of\n%s", yaml).isEmpty();
    Resource r = d.resource();
    assertThat(ResourceValidator.validate(r).errors()).as("validation errors of\n%s", yaml).isEmpty();
    r = r.withMetadata(r.metadata().withServerFields("1", "2026-12-04T00:00:00Z", "uid-" + r.metadata().name()));
    return ResourceEventMapper.toEvent(r, new ResourceEventMapper.Provenance(1, "parity", ResourceSource.REST,
        Instant.parse("2026-12-04T00:00:00Z")));
  }

  /** The node's config for {@code w}'s inbound side, as the compiler emits it. */
  private static ProxyConfig compile(MeshState state, RegisteredWorkload w, String version) {
    List<ListenerConfig> listeners = new ArrayList<>();
    List<RouteConfig> routes = new ArrayList<>();
    List<ClusterConfig> clusters = new ArrayList<>();
    List<AuthorizationConfig> authz = new ArrayList<>();
    List<PeerAuthenticationConfig> peer = new ArrayList<>();
    for (CompiledResource c : InboundCompiler.compile(state, w).values()) {
      switch (c.type()) {
        case LISTENER -> listeners.add((ListenerConfig) c.payload());
        case ROUTE -> routes.add((RouteConfig) c.payload());
        case CLUSTER -> clusters.add((ClusterConfig) c.payload());
        case AUTHORIZATION -> authz.add((AuthorizationConfig) c.payload());
        case PEER_AUTHENTICATION -> peer.add((PeerAuthenticationConfig) c.payload());
        default -> { }
      }
    }
    return ProxyConfig.of(version, ProxySettings.defaults(NODE), listeners, routes, clusters, authz, peer);
  }

  private static String policy(Random r, String name, int targetPort) {
    String action = List.of("ALLOW", "ALLOW", "DENY", "AUDIT").get(r.nextInt(4));
    boolean rootNamespace = r.nextInt(8) == 0;
    StringBuilder b = new StringBuilder("apiVersion: lattice.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata:\n")
        .append("  name: ").append(name).append("\n  namespace: ").append(rootNamespace ? "lattice-system" : "vault").append('\n');
    if (r.nextInt(4) == 0) {
      b.append("  annotations: {lattice.dev/dry-run: \"true\"}\n");
    }
    b.append("spec:\n");
    switch (r.nextInt(4)) {
      case 1 -> b.append("  selector: {matchLabels: {app: ledger}}\n");
      case 2 -> b.append("  selector: {matchLabels: {app: ledger, tier: web}}\n"); // selects nothing
      case 3 -> b.append("  selector: {matchLabels: {tier: data}}\n");
      default -> { }
    }
    b.append("  action: ").append(action).append('\n');
    int rules = r.nextInt(3);
    if (rules == 0 && r.nextInt(3) == 0) {
      return b.toString(); // no rules: ALLOW matches nothing, DENY/AUDIT nothing
    }
    b.append("  rules:\n");
    for (int i = 0; i < Math.max(1, rules); i++) {
      List<String> parts = new ArrayList<>();
      if (r.nextBoolean()) {
        parts.add("from: [{source: {" + source(r) + "}}]");
      }
      if (r.nextBoolean()) {
        List<String> op = new ArrayList<>();
        if (r.nextBoolean()) {
          op.add((r.nextInt(5) == 0 ? "notMethods" : "methods") + ": [" + pick(r, METHODS)
              + (r.nextBoolean() ? ", " + pick(r, METHODS) : "") + "]");
        }
        if (r.nextBoolean()) {
          op.add((r.nextInt(4) == 0 ? "notPaths" : "paths") + ": [\"" + pick(r, PATH_PATTERNS) + "\""
              + (r.nextInt(3) == 0 ? ", \"" + pick(r, PATH_PATTERNS) + "\"" : "") + "]");
        }
        if (r.nextInt(4) == 0) {
          op.add((r.nextInt(4) == 0 ? "notPorts" : "ports") + ": [\"" + (r.nextBoolean() ? targetPort : 9090) + "\"]");
        }
        if (r.nextInt(4) == 0) {
          op.add((r.nextInt(4) == 0 ? "notHosts" : "hosts") + ": [\"" + pick(r, HOST_PATTERNS) + "\"]");
        }
        if (!op.isEmpty()) {
          parts.add("to: [{operation: {" + String.join(", ", op) + "}}]");
        }
      }
      if (r.nextInt(3) == 0) {
        parts.add("when: [" + condition(r, targetPort) + "]");
      }
      b.append(parts.isEmpty() ? "  - {}\n" : "  - {" + String.join(", ", parts) + "}\n");
    }
    return b.toString();
  }

  /** One {@code when} condition over the keys a request through the proxy carries. */
  private static String condition(Random r, int targetPort) {
    String key;
    String value;
    switch (r.nextInt(9)) {
      case 0 -> { key = "source.ip"; value = pick(r, IP_BLOCKS); }
      case 1 -> { key = "remote.ip"; value = pick(r, IP_BLOCKS); }
      case 2 -> { key = "source.namespace"; value = pick(r, NAMESPACES); }
      case 3 -> { key = "source.principal"; value = pick(r, PRINCIPALS); }
      case 4 -> { key = "destination.port"; value = r.nextBoolean() ? String.valueOf(targetPort) : "9090"; }
      case 5 -> { key = "destination.ip"; value = pick(r, List.of(WORKLOAD_IP, "127.0.0.64/28", "10.0.0.1")); }
      default -> { key = "request.headers[x-team]"; value = pick(r, List.of("blue", "blue*", "*-ops", "*")); }
    }
    return "{key: \"" + key + "\", " + (r.nextInt(4) == 0 ? "notValues" : "values") + ": [\"" + value + "\"]}";
  }

  private static String source(Random r) {
    return switch (r.nextInt(8)) {
      case 6 -> (r.nextInt(3) == 0 ? "notServiceAccounts" : "serviceAccounts") + ": [" + pick(r, List.of("shop/web", "ops/admin",
          "vault/teller")) + "]";
      case 7 -> "notRemoteIpBlocks: [\"" + pick(r, IP_BLOCKS) + "\"]";
      case 0, 1 -> "principals: [\"" + pick(r, PRINCIPALS) + "\"]";
      case 2 -> (r.nextInt(3) == 0 ? "notNamespaces" : "namespaces") + ": [" + pick(r, NAMESPACES) + "]";
      case 3 -> (r.nextInt(3) == 0 ? "notIpBlocks" : "ipBlocks") + ": [\"" + pick(r, IP_BLOCKS) + "\"]";
      case 4 -> "remoteIpBlocks: [\"" + pick(r, IP_BLOCKS) + "\"]";
      default -> "notPrincipals: [\"" + pick(r, PRINCIPALS) + "\"]";
    };
  }

  private static String pick(Random r, List<String> values) {
    return values.get(r.nextInt(values.size()));
  }

  private static String render(Decision d) {
    Decision.Outcome dry = d.dryRun();
    return d.verdict() + " " + d.reason().code() + " " + d.policyName() + "#" + d.ruleIndex()
        + " dry=" + (dry == null ? "-" : dry.verdict() + ":" + dry.reason().code() + ":" + dry.policy() + "#" + dry.ruleIndex())
        + " audits=" + d.audits();
  }

  private static int freePort(String address) throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName(address))) {
      return s.getLocalPort();
    }
  }

  /** One keep-alive HTTP/1.1 connection of a caller, from its own address, over mTLS when it has an SVID. */
  private static final class Connection {
    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final InetSocketAddress local;
    boolean closed;

    private Connection(Socket socket) throws IOException {
      this.socket = socket;
      this.in = new java.io.BufferedInputStream(socket.getInputStream());
      this.out = socket.getOutputStream();
      this.local = (InetSocketAddress) socket.getLocalSocketAddress();
    }

    static Connection open(InetSocketAddress proxy, Caller caller, SSLContext tls) throws IOException {
      Socket plain = new Socket();
      plain.bind(new InetSocketAddress(caller.address(), 0));
      plain.connect(new InetSocketAddress(proxy.getAddress(), proxy.getPort()), 5_000);
      plain.setSoTimeout(10_000);
      if (tls == null) {
        return new Connection(plain);
      }
      SSLSocket s = (SSLSocket) tls.getSocketFactory().createSocket(plain, proxy.getHostString(), proxy.getPort(), true);
      s.setUseClientMode(true);
      s.startHandshake();
      return new Connection(s);
    }

    /** This end's address, kept from the connect (a closed socket no longer tells). */
    InetSocketAddress local() {
      return local;
    }

    /** Sends one request and reads its answer; returns the status. */
    int exchange(String method, String host, String path, Map<String, String> headers, String requestId) throws IOException {
      StringBuilder req = new StringBuilder(method).append(' ').append(path).append(" HTTP/1.1\r\nHost: ").append(host).append("\r\n")
          .append("x-request-id: ").append(requestId).append("\r\ncontent-length: 0\r\n");
      headers.forEach((k, v) -> req.append(k).append(": ").append(v).append("\r\n"));
      out.write(req.append("\r\n").toString().getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      String status = line();
      if (status == null) {
        throw new IOException("connection closed before an answer to " + method + " " + path);
      }
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      String l;
      while ((l = line()) != null && !l.isEmpty()) {
        String lower = l.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).trim());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          closed = true;
        }
      }
      if (chunked) {
        long size;
        while ((size = Long.parseLong(line().trim().split(";")[0], 16)) > 0) {
          in.readNBytes((int) size + 2);
        }
        while ((l = line()) != null && !l.isEmpty()) {
          // trailers
        }
      } else if (length >= 0) {
        in.readNBytes((int) length);
      } else {
        in.readAllBytes();
        closed = true;
      }
      if (closed) {
        close();
      }
      return code;
    }

    private String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int c;
      while ((c = in.read()) >= 0) {
        if (c == '\n') {
          byte[] bytes = b.toByteArray();
          int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
          return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
        }
        b.write(c);
      }
      return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
    }

    void close() {
      closed = true;
      try {
        socket.close();
      } catch (IOException ignored) {
        // already gone
      }
    }
  }
}
