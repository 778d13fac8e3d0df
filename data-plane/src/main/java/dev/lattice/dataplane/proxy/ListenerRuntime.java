package dev.lattice.dataplane.proxy;

import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.dataplane.config.ProxySettings;
import dev.lattice.dataplane.filter.HttpFilterConfig;
import dev.lattice.dataplane.route.RouteTable;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.policy.MtlsMode;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

/**
 * One listener of one config snapshot, compiled: its route table, its filter chain (configs built once,
 * ordered) and the path normalization requests get before filters and routing. Immutable and shared by
 * every request that starts while the snapshot is current; a request keeps the runtime it started with.
 *
 * @param filterNames names of the filters in {@code filters}, same order (config dumps)
 * @param tls         the listener's server TLS context (ingress-style {@code tls}), or null
 * @param peerMode    the mesh mTLS mode of the listener's port from its PeerAuthentication (DISABLE when
 *                    it names none or uses {@code tls})
 * @param meshTargets cluster name → endpoint address → how it is reached over mTLS; only the endpoints
 *                    of mtls clusters that name their node, and only on outbound listeners
 * @param workload    on an inbound listener, the SPIFFE ID of the workload behind it (what its clusters'
 *                    endpoints name, when they all name the same one): the SVID its mesh mTLS presents; else null
 * @param sources     the snapshot's workloads by IP: on an outbound listener, whose SVID a caller's mesh mTLS presents
 * @param tcp         on a TCP listener ({@code tcpClusters}, no route table): its clusters and authorization; else null
 */
record ListenerRuntime(
    String version,
    ListenerConfig config,
    ProxySettings settings,
    RouteTable routes,
    List<HttpFilterConfig> filters,
    List<String> filterNames,
    PathNormalization pathNormalization,
    SslContext tls,
    MtlsMode peerMode,
    Map<String, Map<InetSocketAddress, MeshTarget>> meshTargets,
    String workload,
    dev.lattice.dataplane.route.SourceLabels sources,
    TcpRoute tcp) {

  ListenerRuntime {
    filters = List.copyOf(filters);
    filterNames = List.copyOf(filterNames);
    meshTargets = Map.copyOf(meshTargets);
  }

  /** An HTTP listener. */
  ListenerRuntime(String version, ListenerConfig config, ProxySettings settings, RouteTable routes, List<HttpFilterConfig> filters,
      List<String> filterNames, PathNormalization pathNormalization, SslContext tls, MtlsMode peerMode,
      Map<String, Map<InetSocketAddress, MeshTarget>> meshTargets, String workload, dev.lattice.dataplane.route.SourceLabels sources) {
    this(version, config, settings, routes, filters, filterNames, pathNormalization, tls, peerMode, meshTargets, workload, sources, null);
  }

  /** How {@code address} of {@code cluster} is reached over mTLS, or null for plaintext. */
  MeshTarget meshTarget(String cluster, InetSocketAddress address) {
    if (meshTargets.isEmpty()) {
      return null;
    }
    Map<InetSocketAddress, MeshTarget> m = meshTargets.get(cluster);
    return m == null ? null : m.get(address);
  }

  /**
   * As {@link #meshTarget(String, InetSocketAddress)}, presenting the SVID of the workload at {@code callerIp} when
   * the snapshot knows one there (ztunnel's source-pod identity); the source is part of the pool key, so a
   * connection made under one workload's identity is never reused for another's caller.
   */
  MeshTarget meshTarget(String cluster, InetSocketAddress address, String callerIp) {
    MeshTarget t = meshTarget(cluster, address);
    if (t == null || t.source() != null || sources.noSpiffeIds()) {
      return t;
    }
    String id = sources.spiffeIdOf(callerIp);
    return id == null ? t : new MeshTarget(t.address(), t.node(), id, t.expectedPeer());
  }

  String name() {
    return config.getName();
  }

  /** Whether this is the explicit HTTP proxy port ({@code settings.httpProxyPort}: absolute-form and {@code CONNECT}). */
  boolean httpProxy() {
    return ProxySnapshot.HTTP_PROXY_LISTENER.equals(config.getName());
  }

  boolean inbound() {
    return config.getDirection() == TrafficDirection.INBOUND;
  }
}
