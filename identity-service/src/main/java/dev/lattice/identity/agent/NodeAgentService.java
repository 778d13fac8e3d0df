package dev.lattice.identity.agent;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.KubernetesPodResolver;
import dev.lattice.identity.agent.attestor.KubernetesWorkloadAttestor;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.attestor.WorkloadAttestor;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;
import dev.lattice.identity.agent.authority.GrpcSvidAuthority;
import dev.lattice.identity.agent.delegated.DataPlaneNodeSvid;
import dev.lattice.identity.agent.delegated.DelegatedIdentityServer;
import dev.lattice.identity.agent.delegated.DelegatedIdentitySettings;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.svid.AgentState;
import dev.lattice.identity.agent.svid.AttestationSource;
import dev.lattice.identity.signing.SigningClient;
import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.kit.service.LatticeService;
import dev.lattice.kit.service.ServiceContext;
import io.micrometer.core.instrument.Gauge;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import io.vertx.core.transport.Transport;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node agent as a Lattice service ({@code agent}, health on 7075): the SPIFFE Workload API on
 * {@code agent.socket} (default {@code .lattice/agent/workload.sock}), backed by the identity server's
 * signing API.
 *
 * <p>Configuration ({@code agent.*}):
 * <ul>
 *   <li>{@code agent.socket} — the Workload API socket path
 *   <li>{@code agent.server.host} / {@code agent.server.port} — the identity server's signing API
 *       (127.0.0.1:7071)
 *   <li>{@code agent.trust.domain} — {@code lattice.local} by default
 *   <li>{@code agent.trust.bundle.file} — PEM roots the server's certificate must chain to before the
 *       first attestation (required; afterwards the bundle comes from the server)
 *   <li>one of {@code agent.join.token}, {@code agent.join.token.file} (read again at each
 *       re-attestation) or {@code agent.k8s.psat.file}
 *   <li>{@code agent.refresh.period} (1s), {@code agent.retry.backoff} (5s)
 *   <li>{@code agent.delegated.authorized.uids} (comma-separated) and/or
 *       {@code agent.delegated.authorized.spiffe.ids}: who may call the Delegated Identity API (the node's
 *       data plane); served on {@code agent.delegated.socket} (default {@code .lattice/agent/admin.sock})
 *       only when one of them is set; the same socket then serves {@code lattice.agent.v1.NodeIdentity}: the
 *       node SVID for the data plane, on a key of its own made here (never the agent's node key)
 *   <li>{@code agent.attest.backoff.initial} (1s) / {@code agent.attest.backoff.max} (5m): a failed node
 *       attestation is retried after the initial wait, doubling up to the max
 *   <li>{@code agent.k8s.enabled} (false) and {@code agent.k8s.node.name}: adds {@code k8s:*} selectors
 *       from the caller's pod (in-cluster API server credentials)
 * </ul>
 * Routes: {@code GET /agent/v1/status} (node identity, entries, SVID expiries; never key material).
 * Meters: {@code lattice.agent.workload.streams}, {@code lattice.agent.svids}, {@code lattice.agent.entries},
 * {@code lattice.agent.node.svid.seconds.left}.
 * Ready once the node is attested and its entries synced. Without any attestation setting the agent
 * stays disabled (it says so on {@code /readyz} and the status route) so that a stack that discovers
 * every service does not fail on an agent nobody configured.
 *
 * <p>The Workload API needs the epoll transport for peer credentials: when the launcher's Vert.x is
 * not on it, the agent runs the socket on a Vert.x of its own (one event loop), closed in
 * {@link #stop()}. Created once per run by the launcher.
 */
public final class NodeAgentService implements LatticeService {

  private static final Logger LOG = LoggerFactory.getLogger(NodeAgentService.class);
  private static final List<String> ATTESTATION_KEYS =
      List.of("agent.join.token", "agent.join.token.file", "agent.k8s.psat.file");

  private volatile Vertx ownVertx;
  /** The launcher's Vert.x, for blocking work in {@link #stop()} (null before start). */
  private volatile Vertx shared;
  private volatile SigningClient client;
  private volatile KubernetesClient kubernetes;
  private volatile NodeAgent agent;
  private volatile DelegatedIdentityServer delegated;
  private volatile DataPlaneNodeSvid dataPlaneNodeSvid;

  @Override
  public String name() {
    return "agent";
  }

  /** Every key the agent reads (docs/workload-api.md "Running an agent"). */
  public static final dev.lattice.kit.config.ConfigKeys CONFIG_KEYS = dev.lattice.kit.config.ConfigKeys.of(
      "agent.socket", "agent.server.host", "agent.server.port", "agent.trust.domain", "agent.trust.bundle.file",
      "agent.join.token", "agent.join.token.file", "agent.k8s.psat.file", "agent.refresh.period",
      "agent.retry.backoff", "agent.attest.backoff.initial", "agent.attest.backoff.max", "agent.k8s.enabled",
      "agent.k8s.node.name", "agent.delegated.socket", "agent.delegated.authorized.uids",
      "agent.delegated.authorized.spiffe.ids");

  @Override
  public dev.lattice.kit.config.ConfigKeys configKeys() {
    return CONFIG_KEYS;
  }

  @Override
  public int defaultHttpPort() {
    return 7075;
  }

  /** The running agent (null before start). */
  public NodeAgent agent() {
    return agent;
  }

  @Override
  public Future<Void> start(ServiceContext context) {
    shared = context.vertx();
    LatticeConfig config = context.config();
    if (ATTESTATION_KEYS.stream().noneMatch(k -> config.find(k).isPresent())) {
      // Discovered by the local stack without being configured: stay out of the way, visibly.
      String reason = "disabled: no attestation material (set one of " + ATTESTATION_KEYS + ")";
      LOG.warn("node agent {}", reason);
      context.readiness().register("agent", () -> Future.succeededFuture(reason));
      context.router().get("/agent/v1/status").handler(rc -> rc.json(
          new JsonObject().put("enabled", false).put("reason", reason)));
      return Future.succeededFuture();
    }
    // Reading the bootstrap bundle and building clients touch the disk: off the event loop.
    return context.vertx().executeBlocking(() -> build(context.vertx(), config), false)
        .recover(err -> closeOwnVertx().compose(v -> Future.failedFuture(err)))
        .compose(built -> {
          agent = built;
          register(context, built);
          return built.start();
        })
        .compose(v -> delegated == null ? Future.succeededFuture() : delegated.listen())
        .onSuccess(v -> {
          if (dataPlaneNodeSvid != null) {
            dataPlaneNodeSvid.start(config.getDuration("agent.refresh.period", Duration.ofSeconds(1)));
          }
        });
  }

  private NodeAgent build(Vertx shared, LatticeConfig config) throws Exception {
    Vertx vertx = epollVertx(shared);
    TrustDomain trustDomain = TrustDomain.parse(config.get("agent.trust.domain", "lattice.local"));
    SocketAddress server = SocketAddress.inetSocketAddress(config.getInt("agent.server.port", 7071),
        config.get("agent.server.host", "127.0.0.1"));
    List<X509Certificate> bootstrap = readPem(Path.of(config.require("agent.trust.bundle.file")));
    AttestationSource attestation = attestationSource(vertx, config);
    List<WorkloadAttestor> attestors = new java.util.ArrayList<>(List.of(new UnixWorkloadAttestor()));
    if (config.getBoolean("agent.k8s.enabled", false)) {
      String nodeName = config.require("agent.k8s.node.name");
      kubernetes = new KubernetesClientBuilder().build();
      attestors.add(new KubernetesWorkloadAttestor(new KubernetesPodResolver(vertx, kubernetes, nodeName,
          Path.of("/proc"))));
    }
    Optional<DelegatedIdentitySettings> delegation = delegatedSettings(config);
    client = SigningClient.create(vertx, server, trustDomain, bootstrap);
    GrpcSvidAuthority authority = new GrpcSvidAuthority(client, Clock.systemUTC());
    NodeAgent built = new NodeAgent(vertx, authority, attestation,
        attestors, ProcessTable.system(), Clock.systemUTC(),
        new NodeAgent.Settings(Path.of(config.get("agent.socket", ".lattice/agent/workload.sock")),
            config.getDuration("agent.refresh.period", Duration.ofSeconds(1)),
            config.getDuration("agent.retry.backoff", Duration.ofSeconds(5)),
            new dev.lattice.identity.agent.svid.AttestationBackoff(
                config.getDuration("agent.attest.backoff.initial", Duration.ofSeconds(1)),
                config.getDuration("agent.attest.backoff.max", Duration.ofMinutes(5)))));
    // the data plane's node SVID: its own key, signed with the node credential (RenewNodeSvid)
    dataPlaneNodeSvid = delegation.map(d -> new DataPlaneNodeSvid(vertx, authority, built.node()::current,
        Clock.systemUTC())).orElse(null);
    delegated = delegation.map(d -> new DelegatedIdentityServer(vertx, built.svids(), attestors,
        ProcessTable.system(), d, dataPlaneNodeSvid)).orElse(null);
    return built;
  }

  /** The Delegated Identity API settings; empty (not served) when no authorized caller is configured. */
  static Optional<DelegatedIdentitySettings> delegatedSettings(LatticeConfig config) {
    Set<Integer> uids;
    try {
      uids = DelegatedIdentitySettings.parseUids(config.get("agent.delegated.authorized.uids", ""));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("agent.delegated.authorized.uids: " + e.getMessage());
    }
    Set<String> ids = DelegatedIdentitySettings.parseSpiffeIds(config.get("agent.delegated.authorized.spiffe.ids", ""));
    if (uids.isEmpty() && ids.isEmpty()) {
      LOG.info("Delegated Identity API not served (no agent.delegated.authorized.uids / .spiffe.ids)");
      return Optional.empty();
    }
    try {
      return Optional.of(new DelegatedIdentitySettings(
          Path.of(config.get("agent.delegated.socket", ".lattice/agent/admin.sock")), uids, ids));
    } catch (IllegalArgumentException e) {
      throw new ConfigException("agent.delegated: " + e.getMessage());
    }
  }

  /** The Delegated Identity API server (null when not configured or before start). */
  public DelegatedIdentityServer delegated() {
    return delegated;
  }

  private void register(ServiceContext context, NodeAgent running) {
    context.readiness().registerCondition("agent", running::ready,
        "node not attested or its entries not synced yet");
    context.router().get("/agent/v1/status").handler(rc -> rc.json(status()));
    Gauge.builder("lattice.agent.workload.streams", running, a -> a.svids().listenerCount())
        .description("open Workload API streams").register(context.meters());
    if (delegated != null) {
      Gauge.builder("lattice.agent.delegated.streams", delegated, DelegatedIdentityServer::streamCount)
          .description("open Delegated Identity API streams").register(context.meters());
    }
    Gauge.builder("lattice.agent.svids", running, a -> a.svids().state().svids().size())
        .description("X.509-SVIDs the agent holds").register(context.meters());
    Gauge.builder("lattice.agent.entries", running, a -> a.svids().state().entries().size())
        .description("registration entries this node serves").register(context.meters());
    Gauge.builder("lattice.agent.node.svid.seconds.left", running, a -> a.nodeCredential()
            .map(n -> (double) java.time.Duration.between(java.time.Instant.now(), n.svid().notAfter()).toSeconds())
            .orElse(0.0))
        .description("seconds until the node SVID expires (0 = none)").register(context.meters());
  }

  private Vertx epollVertx(Vertx shared) {
    if (shared.isNativeTransportEnabled()) {
      return shared;
    }
    ownVertx = Vertx.builder().with(new VertxOptions().setEventLoopPoolSize(1).setWorkerPoolSize(2))
        .withTransport(Transport.EPOLL).build();
    if (!ownVertx.isNativeTransportEnabled()) {
      throw new IllegalStateException("the Workload API needs the epoll transport (peer credentials): "
          + ownVertx.unavailableNativeTransportCause());
    }
    LOG.info("Workload API runs on its own epoll Vert.x (the launcher's uses another transport)");
    return ownVertx;
  }

  private static AttestationSource attestationSource(Vertx vertx, LatticeConfig config) {
    if (config.find("agent.join.token").isPresent()) {
      return AttestationSource.fixed(new NodeAttestationMaterial(NodeAttestationMaterial.Kind.JOIN_TOKEN,
          config.require("agent.join.token")));
    }
    if (config.find("agent.join.token.file").isPresent()) {
      return AttestationSource.file(vertx, Path.of(config.require("agent.join.token.file")),
          NodeAttestationMaterial.Kind.JOIN_TOKEN);
    }
    if (config.find("agent.k8s.psat.file").isPresent()) {
      return AttestationSource.file(vertx, Path.of(config.require("agent.k8s.psat.file")),
          NodeAttestationMaterial.Kind.K8S_PSAT);
    }
    throw new ConfigException("agent: no attestation material (expected: agent.join.token, "
        + "agent.join.token.file or agent.k8s.psat.file)");
  }

  private static List<X509Certificate> readPem(Path file) throws java.io.IOException,
      java.security.GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      List<X509Certificate> certs = CertificateFactory.getInstance("X.509").generateCertificates(in).stream()
          .map(c -> (X509Certificate) c).toList();
      if (certs.isEmpty()) {
        throw new ConfigException("agent.trust.bundle.file: " + file + " holds no certificate (expected: PEM roots)");
      }
      return certs;
    }
  }

  private JsonObject status() {
    AgentState state = agent.svids().state();
    JsonArray svids = new JsonArray();
    state.svids().values().forEach(s -> svids.add(new JsonObject().put("entryId", s.entry().id())
        .put("spiffeId", s.spiffeId()).put("expiresAt", s.notAfter().toString())
        .put("rotateAt", s.rotateAt().toString())));
    JsonObject out = new JsonObject().put("enabled", true).put("ready", agent.ready()).put("entries", state.entries().size())
        .put("svids", svids).put("snapshotRevision", state.snapshotRevision());
    state.bundle().ifPresent(b -> out.put("trustDomain", b.trustDomain()).put("bundleSequence", b.sequence()));
    agent.nodeCredential().ifPresent(n -> out.put("node", new JsonObject()
        .put("spiffeId", n.svid().spiffeId()).put("expiresAt", n.svid().notAfter().toString())));
    return out;
  }

  @Override
  public Future<Void> stop() {
    if (dataPlaneNodeSvid != null) {
      dataPlaneNodeSvid.close();
    }
    Future<Void> stopped = (delegated == null ? Future.<Void>succeededFuture() : delegated.close())
        .eventually(() -> agent == null ? Future.succeededFuture() : agent.stop());
    // The agent's futures may be bound to its own Vert.x: close that Vert.x only after the last of
    // them completed, and hand back a context-free future, so that nothing is dispatched to an event
    // loop that is already shut down (which used to stall the launcher's undeploy until its timeout).
    io.vertx.core.Promise<Void> done = io.vertx.core.Promise.promise();
    stopped
        .eventually(() -> client == null ? Future.succeededFuture() : client.close())
        .eventually(this::closeKubernetes)
        .onComplete(ar -> closeOwnVertx().onComplete(closed -> done.handle(ar)));
    return done.future();
  }

  /** fabric8's close shuts down its HTTP client and executor and may wait: never on the event loop. */
  private Future<Void> closeKubernetes() {
    KubernetesClient k = kubernetes;
    kubernetes = null;
    Vertx v = shared;
    if (k == null) {
      return Future.succeededFuture();
    }
    if (v == null) {
      k.close();
      return Future.succeededFuture();
    }
    return v.executeBlocking(() -> {
      k.close();
      return null;
    }, false).mapEmpty();
  }

  private Future<Void> closeOwnVertx() {
    Vertx v = ownVertx;
    ownVertx = null;
    return v == null ? Future.succeededFuture() : v.close();
  }
}
