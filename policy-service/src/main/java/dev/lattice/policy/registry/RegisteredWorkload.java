package dev.lattice.policy.registry;

import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * One workload instance the mesh knows about (a Kubernetes pod or a statically registered host/VM):
 * the services it backs, where it listens and the data-plane node that serves it. The in-memory form of
 * a {@code WorkloadEndpoint} event, mapped in exactly one place ({@link WorkloadEndpoints}).
 *
 * <p>Immutable and thread-safe. Labels are kept sorted and lists copied, so equal workloads compile to
 * identical bytes.
 *
 * @param namespace namespace of the workload
 * @param workload workload name (deployment, service account, VM group)
 * @param instance instance name (pod name, host name)
 * @param services canonical hosts ({@code service.namespace}) of the services it backs, sorted
 * @param address IP address (or DNS name) the serving node reaches it on
 * @param ports the service ports it serves, sorted by port
 * @param labels workload labels (policy selectors and subsets match these)
 * @param node the data-plane node serving this instance; empty if none
 * @param spiffeId the workload's SPIFFE ID; empty if unknown
 * @param health as reported by the source: HEALTHY, UNHEALTHY, DRAINING or UNKNOWN
 * @param egressHosts its egress scope ({@code namespace/host} entries, {@link ServiceVisibility}); null = no scope
 * @param exportTo namespaces the services it backs are visible to; empty = all
 */
public record RegisteredWorkload(
    String namespace,
    String workload,
    String instance,
    List<String> services,
    String address,
    List<ServicePort> ports,
    Map<String, String> labels,
    String node,
    String spiffeId,
    String health,
    List<String> egressHosts,
    List<String> exportTo) {

  /** An instance without egress scope, exporting its services everywhere. */
  public RegisteredWorkload(String namespace, String workload, String instance, List<String> services, String address,
      List<ServicePort> ports, Map<String, String> labels, String node, String spiffeId, String health) {
    this(namespace, workload, instance, services, address, ports, labels, node, spiffeId, health, null, null);
  }

  /**
   * A port a workload serves.
   *
   * @param name port name (may be empty)
   * @param port the service port callers address
   * @param targetPort the port the instance listens on (equal to {@code port} when not remapped)
   * @param protocol HTTP, HTTP2, GRPC, TCP or TLS
   */
  public record ServicePort(String name, int port, int targetPort, String protocol) {
    public ServicePort {
      name = name == null ? "" : name;
      protocol = protocol == null || protocol.isEmpty() ? "TCP" : protocol;
    }
  }

  public RegisteredWorkload {
    Objects.requireNonNull(namespace, "namespace");
    Objects.requireNonNull(workload, "workload");
    Objects.requireNonNull(instance, "instance");
    services = services == null ? List.of() : services.stream().sorted().distinct().toList();
    address = address == null ? "" : address;
    ports = ports == null ? List.of()
        : ports.stream().sorted(java.util.Comparator.comparingInt(ServicePort::port)).toList();
    labels = labels == null ? Map.of() : Collections.unmodifiableMap(new TreeMap<>(labels));
    node = node == null ? "" : node;
    spiffeId = spiffeId == null ? "" : spiffeId;
    health = health == null ? "UNKNOWN" : health;
    egressHosts = egressHosts == null ? null : egressHosts.stream().sorted().distinct().toList();
    exportTo = exportTo == null ? List.of() : exportTo.stream().sorted().distinct().toList();
  }

  /** The registry key of this instance: {@code namespace/workload/instance}. */
  public String key() {
    return namespace + "/" + workload + "/" + instance;
  }

  /** Whether this instance backs the service with canonical host {@code host}. */
  public boolean backs(String host) {
    return services.contains(host);
  }

  /** Whether every {@code selector} label is present on this workload with the same value. */
  public boolean matches(Map<String, String> selector) {
    if (selector == null) return true;
    for (Map.Entry<String, String> e : selector.entrySet()) {
      if (!e.getValue().equals(labels.get(e.getKey()))) return false;
    }
    return true;
  }
}
