package dev.lattice.dataplane.telemetry;

import dev.lattice.authz.PeerIdentity;
import dev.lattice.dataplane.config.ProxyConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Who is behind an address, as far as one config snapshot knows: every cluster endpoint names its workload
 * (label {@code app}, else the service account of its SPIFFE ID), namespace, SPIFFE ID, version label and
 * service. Telemetry uses it for the destination of a request (the upstream endpoint) and for a caller
 * identified by its source address, as ztunnel does with pod IPs (each local workload binds its own
 * address). Built once per snapshot, immutable and thread-safe.
 */
public final class WorkloadDirectory {

  /**
   * A workload as telemetry labels it (Istio's {@code *_workload}, {@code *_workload_namespace},
   * {@code *_principal}, {@code *_version}, {@code destination_service}).
   */
  public record Workload(String namespace, String name, String spiffeId, String version, String service) {
    boolean sameWorkload(Workload o) {
      return java.util.Objects.equals(namespace, o.namespace) && java.util.Objects.equals(name, o.name)
          && java.util.Objects.equals(spiffeId, o.spiffeId);
    }
  }

  private static final Workload AMBIGUOUS = new Workload(null, null, null, null, null);

  private static final WorkloadDirectory EMPTY = new WorkloadDirectory(null, Map.of(), Map.of(), Map.of());

  private final ProxyConfig config;
  private final Map<String, Workload> byEndpoint;
  private final Map<String, Workload> byIp;
  private final Map<String, String> serviceByCluster;

  private WorkloadDirectory(ProxyConfig config, Map<String, Workload> byEndpoint, Map<String, Workload> byIp,
      Map<String, String> serviceByCluster) {
    this.config = config;
    this.byEndpoint = byEndpoint;
    this.byIp = byIp;
    this.serviceByCluster = serviceByCluster;
  }

  /** Knows nobody. */
  public static WorkloadDirectory empty() {
    return EMPTY;
  }

  /** The workloads of {@code config}'s cluster endpoints. */
  public static WorkloadDirectory of(ProxyConfig config) {
    Map<String, Workload> byEndpoint = new HashMap<>();
    Map<String, Workload> byIp = new HashMap<>();
    Map<String, String> services = new HashMap<>();
    for (ClusterConfig c : config.clusters().values()) {
      services.put(c.getName(), c.getHost());
      for (ClusterEndpoint e : c.getEndpoints()) {
        Workload w = workload(c, e);
        String hostPort = e.getAddress() + ":" + e.getPort();
        byEndpoint.put(c.getName() + "|" + hostPort, w);
        // the same endpoint in two clusters (subsets, aliases): the entry that names a workload wins
        byEndpoint.merge(hostPort, w, (a, b) -> a.name() != null ? a : b);
        // an address shared by several workloads names none of them
        if (w.name() != null) {
          byIp.merge(e.getAddress(), w, (a, b) -> a.sameWorkload(b) ? a : AMBIGUOUS);
        }
      }
    }
    byIp.values().removeIf(w -> w == AMBIGUOUS);
    return new WorkloadDirectory(config, Map.copyOf(byEndpoint), Map.copyOf(byIp), Map.copyOf(services));
  }

  private static Workload workload(ClusterConfig c, ClusterEndpoint e) {
    PeerIdentity id = null;
    if (e.getSpiffeId() != null) {
      try {
        id = PeerIdentity.of(e.getSpiffeId());
      } catch (IllegalArgumentException ignored) {
        // the compiler validated it; a bad one just names no workload
      }
    }
    Map<String, String> labels = e.getLabels();
    String name = labels.get("app");
    if (name == null && id != null) {
      name = id.serviceAccount();
    }
    String namespace = id != null ? id.namespace() : namespaceOf(c.getHost());
    return new Workload(namespace, name, id == null ? null : id.spiffeId(), labels.get("version"), c.getHost());
  }

  /** {@code name.namespace[.svc…]} → namespace, else null. */
  private static String namespaceOf(String host) {
    if (host == null) {
      return null;
    }
    int dot = host.indexOf('.');
    if (dot < 0) {
      return null;
    }
    int end = host.indexOf('.', dot + 1);
    return host.substring(dot + 1, end < 0 ? host.length() : end);
  }

  /** The snapshot this directory was built from, or null for {@link #empty()}. */
  public ProxyConfig config() {
    return config;
  }

  /** The workload serving {@code endpoint} (an upstream address) of {@code cluster} (may be null), or null. */
  public Workload endpoint(String cluster, InetSocketAddress endpoint) {
    if (endpoint == null) {
      return null;
    }
    String hostPort = endpoint.getAddress().getHostAddress() + ":" + endpoint.getPort();
    Workload w = cluster == null ? null : byEndpoint.get(cluster + "|" + hostPort);
    if (w != null && w.name() != null) {
      return w;
    }
    // the cluster's entry names nobody: another cluster may label the same endpoint
    Workload any = byEndpoint.get(hostPort);
    return any != null && any.name() != null ? any : w;
  }

  /** The one workload at {@code address} whatever the port (a caller's source address), or null. */
  public Workload address(InetSocketAddress address) {
    return address == null ? null : byIp.get(address.getAddress().getHostAddress());
  }

  /** The service host of cluster {@code cluster}, or null. */
  public String service(String cluster) {
    return cluster == null ? null : serviceByCluster.get(cluster);
  }
}
