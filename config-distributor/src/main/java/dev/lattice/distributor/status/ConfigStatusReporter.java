package dev.lattice.distributor.status;

import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.distributor.server.DeltaSession;
import dev.lattice.distributor.server.StreamObserver;
import dev.lattice.distributor.snapshot.NodeSnapshot;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.distributor.snapshot.VersionedResource;
import dev.lattice.events.ConfigNack;
import dev.lattice.events.ConfigStatus;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Turns what happens on the config streams into the per-node {@link ConfigStatus} on
 * {@code lattice.config.status.v1} (acked and pending snapshot version per type, the latest NACK with its
 * detail, connected since, this instance) and into Prometheus metrics named after Istio's pilot metrics:
 * {@code lattice_distributor_proxy_convergence_seconds} (fold of a resource → the node's ACK of it),
 * {@code lattice_distributor_pushes_total} and {@code _pushed_bytes_total} per type,
 * {@code lattice_distributor_nacks_total} per type and {@code lattice_distributor_connected_proxies}.
 * Thread-safe (streams run on several event loops); never blocks — the sink publishes asynchronously.
 */
public final class ConfigStatusReporter implements StreamObserver {

  /** Where statuses go (the service publishes them to Kafka; tests may collect them). Must not block. */
  @FunctionalInterface
  public interface Sink {
    void publish(String node, ConfigStatus status);
  }

  private static final class NodeState {
    final Map<ConfigType, String> acked = new EnumMap<>(ConfigType.class);
    final Map<ConfigType, String> pending = new EnumMap<>(ConfigType.class);
    ConfigNack nack;
    String streamId;
    Instant since;
    PresentedSvid svid;
  }

  /** The X.509-SVID a node presented on its latest stream here: serial (hex) and expiry. */
  public record PresentedSvid(String serial, Instant notAfter) {}

  private final String instance;
  private final Clock clock;
  private final Sink sink;
  private final SnapshotCache cache;
  private final MeterRegistry meters;
  private final Map<String, NodeState> nodes = new ConcurrentHashMap<>();
  private final AtomicInteger connected = new AtomicInteger();
  private final Timer convergence;

  public ConfigStatusReporter(String instance, Clock clock, Sink sink, SnapshotCache cache, MeterRegistry meters) {
    this.instance = Objects.requireNonNull(instance, "instance");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.cache = Objects.requireNonNull(cache, "cache");
    this.meters = Objects.requireNonNull(meters, "meters");
    Gauge.builder("lattice_distributor_connected_proxies", connected, AtomicInteger::get)
        .description("Config streams open on this instance").register(meters);
    this.convergence = Timer.builder("lattice_distributor_proxy_convergence")
        .description("From the distributor folding a config resource to the node acknowledging it")
        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
        .maximumExpectedValue(Duration.ofSeconds(30)).register(meters);
  }

  /** This instance's name. */
  public String instance() {
    return instance;
  }

  /** Nodes that had a stream on this instance. */
  public java.util.Set<String> nodes() {
    return java.util.Set.copyOf(nodes.keySet());
  }

  /** The status this instance last reported for {@code node} (null when it never had a stream here). */
  public ConfigStatus status(String node) {
    NodeState s = nodes.get(node);
    if (s == null) {
      return null;
    }
    synchronized (s) {
      return toEvent(node, s);
    }
  }

  @Override
  public void connected(String node, String streamId, Instant since) {
    connected.incrementAndGet();
    update(node, s -> {
      s.streamId = streamId;
      s.since = since;
      s.pending.clear();
    });
  }

  @Override
  public void presented(String node, String streamId, java.security.cert.X509Certificate leaf) {
    PresentedSvid svid = new PresentedSvid(leaf.getSerialNumber().toString(16), leaf.getNotAfter().toInstant());
    NodeState s = nodes.computeIfAbsent(node, n -> new NodeState());
    synchronized (s) {
      s.svid = svid;
    }
  }

  /** The SVID {@code node} presented on its latest stream here (null: none, or plaintext). */
  public PresentedSvid presentedSvid(String node) {
    NodeState s = nodes.get(node);
    if (s == null) {
      return null;
    }
    synchronized (s) {
      return s.svid;
    }
  }

  @Override
  public void pushed(String node, DeltaConfigResponse response, int bytes) {
    ConfigType type = ConfigTypeUrls.parse(response.getTypeUrl()).orElse(ConfigType.UNKNOWN);
    Counter.builder("lattice_distributor_pushes_total").description("Responses sent to nodes").tag("type", type.name())
        .register(meters).increment();
    Counter.builder("lattice_distributor_pushed_bytes_total").description("Encoded bytes of responses sent to nodes")
        .tag("type", type.name()).register(meters).increment(bytes);
    update(node, s -> s.pending.put(type, response.getSystemVersionInfo()));
  }

  @Override
  public void acked(String node, ConfigType type, Map<String, String> applied, DeltaSession session) {
    long now = clock.millis();
    NodeSnapshot snapshot = cache.snapshot(node);
    applied.forEach((name, version) -> {
      VersionedResource r = snapshot.get(type, name);
      if (r != null && r.version().equals(version)) {
        convergence.record(Math.max(0, now - r.foldedAtMillis()), TimeUnit.MILLISECONDS);
      }
    });
    String ackedVersion = NodeSnapshot.versionOf(session.acked(type));
    boolean synced = ackedVersion.equals(snapshot.version(type));
    update(node, s -> {
      s.acked.put(type, ackedVersion);
      if (synced || ackedVersion.equals(s.pending.get(type))) {
        s.pending.remove(type);
      }
      if (s.nack != null && s.nack.getType() == type) {
        s.nack = null;
      }
    });
  }

  @Override
  public void nacked(String node, ConfigType type, Map<String, String> rejected, String detail, DeltaSession session) {
    Counter.builder("lattice_distributor_nacks_total").description("Responses nodes rejected").tag("type", type.name())
        .register(meters).increment();
    Map.Entry<String, String> first = rejected.entrySet().stream().sorted(Map.Entry.comparingByKey()).findFirst()
        .orElse(Map.entry("", ""));
    ConfigNack nack = ConfigNack.newBuilder().setType(type).setName(first.getKey()).setVersion(first.getValue())
        .setError(detail == null ? "" : detail).setAt(clock.instant()).build();
    update(node, s -> s.nack = nack);
  }

  @Override
  public void disconnected(String node, String streamId) {
    connected.decrementAndGet();
    update(node, s -> {
      if (streamId.equals(s.streamId)) {
        s.streamId = null;
        s.since = null;
      }
    });
  }

  private void update(String node, java.util.function.Consumer<NodeState> change) {
    NodeState s = nodes.computeIfAbsent(node, n -> new NodeState());
    ConfigStatus event;
    synchronized (s) {
      change.accept(s);
      event = toEvent(node, s);
    }
    sink.publish(node, event);
  }

  private ConfigStatus toEvent(String node, NodeState s) {
    Map<String, String> acked = new HashMap<>();
    s.acked.forEach((t, v) -> acked.put(t.name(), v));
    Map<String, String> pending = new HashMap<>();
    s.pending.forEach((t, v) -> pending.put(t.name(), v));
    return ConfigStatus.newBuilder().setNode(node).setAckedVersions(acked).setPendingVersions(pending)
        .setNack(s.nack).setConnected(s.streamId != null).setConnectedSince(s.since).setInstance(instance)
        .setUpdatedAt(clock.instant()).build();
  }
}
