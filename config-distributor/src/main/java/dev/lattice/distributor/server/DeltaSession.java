package dev.lattice.distributor.server;

import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.distributor.snapshot.NodeSnapshot;
import dev.lattice.distributor.snapshot.VersionedResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Resource;
import com.google.protobuf.ByteString;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The delta-xDS conversation with one node, without a transport: per type it tracks the subscription,
 * what the node acknowledged holding, the one response in flight, and the versions the node rejected
 * (never resent; a new version is). Given a request or a new snapshot it says what to send.
 * Make-before-break: a type's upserts wait while a type it references has a response in flight
 * (clusters and authorization before routes, routes before listeners); removals wait while a type that
 * references them has anything pending. Not thread-safe: one instance per stream, used on its context.
 */
public final class DeltaSession {

  /** A request the session refuses; {@code code} is the gRPC status to end the stream with. */
  public static final class Refused extends Exception {
    public final String code;

    Refused(String code, String message) {
      super(message);
      this.code = code;
    }
  }

  /**
   * What a request meant: an ACK (with the names and versions it applied), a NACK (with the rejected names
   * and versions) or neither.
   */
  public record Outcome(ConfigType type, Kind kind, Map<String, String> applied, Map<String, String> rejected,
      String error, List<DeltaConfigResponse> responses) {
    public enum Kind { SUBSCRIBE, ACK, NACK, STALE }
  }

  private static final Map<ConfigType, Set<ConfigType>> REFERENCES = Map.of(
      ConfigType.ROUTE, Set.of(ConfigType.CLUSTER),
      ConfigType.LISTENER, Set.of(ConfigType.CLUSTER, ConfigType.ROUTE, ConfigType.AUTHORIZATION,
          ConfigType.PEER_AUTHENTICATION, ConfigType.RATE_LIMIT));

  private static final class TypeState {
    boolean wildcard;
    final Set<String> names = new HashSet<>();
    final Map<String, String> acked = new HashMap<>();
    final Map<String, String> rejected = new HashMap<>();
    String inflightNonce;
    Map<String, String> inflightUpserts = Map.of();
    List<String> inflightRemovals = List.of();
  }

  private final String node;
  private final String noncePrefix;
  private final Map<ConfigType, TypeState> types = new EnumMap<>(ConfigType.class);
  private NodeSnapshot snapshot;
  private long nonces;

  public DeltaSession(String node, String noncePrefix, NodeSnapshot snapshot) {
    this.node = node;
    this.noncePrefix = noncePrefix;
    this.snapshot = snapshot;
  }

  public String node() {
    return node;
  }

  /** Handles one request of the node. */
  public Outcome onRequest(DeltaConfigRequest request) throws Refused {
    if (request.hasNode() && !request.getNode().getId().isEmpty() && !request.getNode().getId().equals(node)) {
      throw new Refused("PERMISSION_DENIED", "node.id " + request.getNode().getId() + " (expected: " + node
          + ", the node of this stream)");
    }
    ConfigType type = ConfigTypeUrls.parse(request.getTypeUrl()).orElseThrow(() -> new Refused("INVALID_ARGUMENT",
        "type_url: \"" + request.getTypeUrl() + "\" (expected: " + ConfigTypeUrls.PREFIX + "<one of "
            + ConfigTypeUrls.TYPES + ">)"));
    TypeState state = types.get(type);
    if (!request.getResponseNonce().isEmpty()) {
      if (state == null || !request.getResponseNonce().equals(state.inflightNonce)) {
        return new Outcome(type, Outcome.Kind.STALE, Map.of(), Map.of(), null, List.of());
      }
      Map<String, String> upserts = state.inflightUpserts;
      List<String> removals = state.inflightRemovals;
      state.inflightNonce = null;
      state.inflightUpserts = Map.of();
      state.inflightRemovals = List.of();
      if (request.hasErrorDetail()) {
        Map<String, String> rejected = new HashMap<>(upserts);
        removals.forEach(n -> rejected.put(n, ""));
        state.rejected.putAll(rejected);
        return new Outcome(type, Outcome.Kind.NACK, Map.of(), Map.copyOf(rejected), request.getErrorDetail().getMessage(), push());
      }
      state.acked.putAll(upserts);
      removals.forEach(state.acked::remove);
      upserts.keySet().forEach(state.rejected::remove);
      return new Outcome(type, Outcome.Kind.ACK, upserts, Map.of(), null, push());
    }
    if (state == null) {
      state = new TypeState();
      types.put(type, state);
      state.acked.putAll(request.getInitialResourceVersionsMap());
    }
    for (String name : request.getResourceNamesSubscribeList()) {
      if (name.equals("*")) {
        state.wildcard = true;
      } else {
        state.names.add(name);
      }
    }
    for (String name : request.getResourceNamesUnsubscribeList()) {
      if (name.equals("*")) {
        state.wildcard = false;
      } else {
        state.names.remove(name);
      }
    }
    return new Outcome(type, Outcome.Kind.SUBSCRIBE, Map.of(), Map.of(), null, push());
  }

  /** A new snapshot of the node: the responses to send now (possibly none). */
  public List<DeltaConfigResponse> onSnapshot(NodeSnapshot next) {
    this.snapshot = next;
    return push();
  }

  /** Versions the node acknowledged for {@code type} (name → version). */
  public Map<String, String> acked(ConfigType type) {
    TypeState s = types.get(type);
    return s == null ? Map.of() : Map.copyOf(s.acked);
  }

  /** Whether any type has a response in flight. */
  public boolean pending() {
    return types.values().stream().anyMatch(s -> s.inflightNonce != null);
  }

  private record Pending(Map<String, VersionedResource> upserts, List<String> removals) {
    boolean isEmpty() {
      return upserts.isEmpty() && removals.isEmpty();
    }
  }

  private List<DeltaConfigResponse> push() {
    Map<ConfigType, Pending> pending = new EnumMap<>(ConfigType.class);
    types.forEach((type, state) -> pending.put(type, pendingOf(type, state)));
    List<DeltaConfigResponse> out = new ArrayList<>();
    for (ConfigType type : ConfigTypeUrls.TYPES) {
      TypeState state = types.get(type);
      Pending p = pending.get(type);
      if (state == null || state.inflightNonce != null || p.isEmpty()) {
        continue;
      }
      boolean referencedInFlight = REFERENCES.getOrDefault(type, Set.of()).stream()
          .anyMatch(t -> types.containsKey(t) && types.get(t).inflightNonce != null);
      boolean referrersBusy = REFERENCES.entrySet().stream().filter(e -> e.getValue().contains(type))
          .map(Map.Entry::getKey).filter(types::containsKey)
          .anyMatch(t -> types.get(t).inflightNonce != null || !pending.get(t).isEmpty());
      Map<String, VersionedResource> upserts = referencedInFlight ? Map.of() : p.upserts();
      List<String> removals = referrersBusy ? List.of() : p.removals();
      if (upserts.isEmpty() && removals.isEmpty()) {
        continue;
      }
      String nonce = noncePrefix + "-" + (++nonces);
      DeltaConfigResponse.Builder r = DeltaConfigResponse.newBuilder().setTypeUrl(ConfigTypeUrls.of(type))
          .setSystemVersionInfo(snapshot.version(type)).setNonce(nonce).addAllRemovedResources(removals);
      Map<String, String> sent = new HashMap<>();
      upserts.forEach((name, v) -> {
        r.addResources(Resource.newBuilder().setName(name).setVersion(v.version())
            .setPayload(ByteString.copyFrom(v.payload())));
        sent.put(name, v.version());
      });
      state.inflightNonce = nonce;
      state.inflightUpserts = Map.copyOf(sent);
      state.inflightRemovals = List.copyOf(removals);
      out.add(r.build());
    }
    return out;
  }

  private Pending pendingOf(ConfigType type, TypeState state) {
    Map<String, VersionedResource> upserts = new java.util.TreeMap<>();
    snapshot.resources(type).forEach((name, v) -> {
      if (subscribed(state, name) && !v.version().equals(state.acked.get(name))
          && !v.version().equals(state.rejected.get(name))) {
        upserts.put(name, v);
      }
    });
    List<String> removals = new ArrayList<>();
    state.acked.keySet().stream().sorted().forEach(name -> {
      boolean wanted = subscribed(state, name) && snapshot.get(type, name) != null;
      if (!wanted && !"".equals(state.rejected.get(name))) {
        removals.add(name);
      }
    });
    return new Pending(upserts, removals);
  }

  private static boolean subscribed(TypeState state, String name) {
    return state.wildcard || state.names.contains(name);
  }

  /** A type's state as text, for logs. */
  Optional<String> describe(ConfigType type) {
    TypeState s = types.get(type);
    return s == null ? Optional.empty() : Optional.of(type + " acked=" + s.acked.size() + " rejected=" + s.rejected.size()
        + (s.inflightNonce == null ? "" : " inflight=" + s.inflightNonce));
  }
}
