package dev.lattice.dataplane.stream;

import dev.lattice.configclient.ConfigClient;
import dev.lattice.configclient.ConfigSnapshot;
import dev.lattice.configclient.tls.NodeSvid;
import dev.lattice.configclient.tls.NodeSvidClient;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.config.StreamedConfig;
import dev.lattice.dataplane.proxy.ProxyServer;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.net.KeyCertOptions;
import io.vertx.core.net.SocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The proxy's config from the distributor (stream mode, the alternative to a config file): a
 * {@link ConfigClient} whose every validated snapshot is applied to the {@link ProxyServer} before it is
 * ACKed (a snapshot the proxy refuses is NACKed with the reason, and the proxy keeps serving the previous
 * one).
 *
 * <p>Transport: with the node agent's admin socket configured, mTLS with the node SVID the agent hands the
 * data plane ({@link NodeSvidClient}, {@code lattice.agent.v1.NodeIdentity}): the key manager and trust
 * anchors follow every rotation, so the next handshake presents the new SVID with no restart. The node is
 * the one of the SVID (a configured node name must equal it). Without a socket, only plaintext h2c for
 * local development (the distributor must run with {@code distributor.grpc.plaintext}). The private key
 * stays in this process: it is never written to disk or sent anywhere but into the TLS handshake.
 *
 * <p>Thread-safe; the owner calls {@link #close()} (the proxy itself is not closed).
 */
public final class DistributorConfigSource implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(DistributorConfigSource.class);

  /**
   * Where and how the proxy reaches the distributor.
   *
   * @param endpoints    distributor instances, tried in turn (at least one)
   * @param node         this proxy's node id; may be null with an agent socket (taken from the node SVID)
   * @param agentSocket  the node agent's admin socket ({@code .lattice/agent/admin.sock}); null = plaintext
   * @param trustDomain  trust domain of the node and distributor SVIDs
   * @param snapshotFile where the last good snapshot is persisted (static stability); null = none
   * @param initialBackoff first reconnect delay (to the distributor and to the agent)
   * @param maxBackoff   longest reconnect delay
   */
  public record Settings(List<SocketAddress> endpoints, String node, Path agentSocket, TrustDomain trustDomain,
      Path snapshotFile, Duration initialBackoff, Duration maxBackoff) {

    public Settings {
      endpoints = List.copyOf(endpoints);
      if (endpoints.isEmpty()) {
        throw new IllegalArgumentException("distributor endpoints: none (expected: at least one host:port)");
      }
      if (agentSocket == null && (node == null || node.isBlank())) {
        throw new IllegalArgumentException("node: not set (expected: the node id, or the agent's admin socket to take it"
            + " from the node SVID)");
      }
      Objects.requireNonNull(trustDomain, "trustDomain");
      if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
        throw new IllegalArgumentException("backoff: " + initialBackoff + ".." + maxBackoff + " (expected: 0 < initial <= max)");
      }
    }

    /** mTLS with the node SVID from the agent at {@code agentSocket}, default backoff (200 ms … 15 s). */
    public static Settings agent(List<SocketAddress> endpoints, Path agentSocket, TrustDomain trustDomain) {
      return new Settings(endpoints, null, Objects.requireNonNull(agentSocket, "agentSocket"), trustDomain, null,
          Duration.ofMillis(200), Duration.ofSeconds(15));
    }

    /** Plaintext h2c for {@code node} (local development only). */
    public static Settings plaintext(List<SocketAddress> endpoints, String node) {
      return new Settings(endpoints, node, null, TrustDomain.parse("lattice.local"), null, Duration.ofMillis(200),
          Duration.ofSeconds(15));
    }

    public Settings withNode(String n) {
      return new Settings(endpoints, n, agentSocket, trustDomain, snapshotFile, initialBackoff, maxBackoff);
    }

    public Settings withSnapshotFile(Path f) {
      return new Settings(endpoints, node, agentSocket, trustDomain, f, initialBackoff, maxBackoff);
    }

    public Settings withBackoff(Duration initial, Duration max) {
      return new Settings(endpoints, node, agentSocket, trustDomain, snapshotFile, initial, max);
    }
  }

  private final NodeSvidClient nodeSvid;
  private final ConfigClient client;
  private final String node;

  private DistributorConfigSource(NodeSvidClient nodeSvid, ConfigClient client, String node) {
    this.nodeSvid = nodeSvid;
    this.client = client;
    this.node = node;
  }

  /**
   * The node this proxy runs for: with an agent socket, subscribes to the node SVID and completes with its
   * node id once the first valid SVID arrived (it waits for the agent; bound it with a timeout); else the
   * configured node. Call {@link #start} with the returned value.
   */
  public static Future<Identity> identity(Vertx vertx, Settings settings, Clock clock) {
    if (settings.agentSocket() == null) {
      LOG.warn("config stream to the distributor WITHOUT TLS (no agent admin socket): local development only");
      return Future.succeededFuture(new Identity(settings.node(), null));
    }
    NodeSvidClient svids = new NodeSvidClient(vertx, settings.agentSocket(), settings.trustDomain(), clock,
        settings.initialBackoff(), settings.maxBackoff());
    return svids.start().compose(svid -> {
      if (settings.node() != null && !settings.node().isBlank() && !settings.node().equals(svid.node())) {
        svids.close();
        return Future.failedFuture(new IllegalArgumentException("node: " + settings.node() + " (expected: "
            + svid.node() + ", the node of the SVID " + svid.id() + " from the agent at " + settings.agentSocket() + ")"));
      }
      return Future.succeededFuture(new Identity(svid.node(), svids));
    });
  }

  /**
   * The node id and, in mTLS mode, the node SVID subscription (owned by the source once passed to
   * {@link #start}; close it yourself otherwise).
   */
  public record Identity(String node, NodeSvidClient svids) {
    public NodeSvid svid() {
      return svids == null ? null : svids.current().orElse(null);
    }
  }

  /**
   * Connects {@code server} to the distributor as {@code identity.node()}: each snapshot is turned into a
   * {@link ProxyConfig} with {@code settings} (the node's proxy settings) and applied. Completes once the
   * persisted snapshot (if any) was applied; the stream connects in the background.
   */
  public static Future<DistributorConfigSource> start(Vertx vertx, ProxyServer server, ProxySettings proxySettings,
      Settings settings, Identity identity) {
    return start(vertx, snapshot -> server.apply(StreamedConfig.of(snapshot, proxySettings)), settings, identity);
  }

  /** As {@link #start(Vertx, ProxyServer, ProxySettings, Settings, Identity)}, with the snapshot applied by {@code apply}. */
  static Future<DistributorConfigSource> start(Vertx vertx, Function<ConfigSnapshot, Future<Void>> apply,
      Settings settings, Identity identity) {
    ConfigClient.Builder b = ConfigClient.builder(vertx, identity.node()).endpoints(settings.endpoints())
        .backoff(settings.initialBackoff(), settings.maxBackoff())
        .listener(snapshot -> {
          try {
            return apply.apply(snapshot);
          } catch (RuntimeException e) {
            return Future.failedFuture(e); // a ConfigFileException names the resource: the NACK message
          }
        });
    NodeSvidClient svids = identity.svids();
    if (svids != null) {
      b.mtls(settings.trustDomain(), KeyCertOptions.wrap(svids.keyManager()), svids::trustAnchors);
    } else {
      b.plaintext();
    }
    if (settings.snapshotFile() != null) {
      b.snapshotFile(settings.snapshotFile());
    }
    ConfigClient client = b.build();
    DistributorConfigSource source = new DistributorConfigSource(svids, client, identity.node());
    LOG.info("config for node {} from the distributor at {} ({})", identity.node(), settings.endpoints(),
        svids == null ? "plaintext" : "mTLS with the node SVID from " + settings.agentSocket());
    return client.start().map(v -> source).recover(err -> {
      source.close();
      return Future.failedFuture(err);
    });
  }

  public String node() {
    return node;
  }

  /** The config stream client (counters, the snapshot applied, where it is connected). */
  public ConfigClient client() {
    return client;
  }

  /** The node SVID subscription, or null in plaintext mode. */
  public NodeSvidClient nodeSvid() {
    return nodeSvid;
  }

  /** Ends the stream and the node SVID subscription; the proxy keeps serving its last config. */
  @Override
  public void close() {
    client.close();
    if (nodeSvid != null) {
      nodeSvid.close();
    }
  }
}
