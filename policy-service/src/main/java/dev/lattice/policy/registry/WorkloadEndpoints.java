package dev.lattice.policy.registry;

import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import dev.lattice.policy.model.ServiceHost;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The one mapping between the Avro {@link WorkloadEndpoint} event (on {@code lattice.registry.v1}) and
 * the in-memory {@link RegisteredWorkload}. Stateless; thread-safe.
 */
public final class WorkloadEndpoints {

  private WorkloadEndpoints() {}

  /** The registry key of an event: {@code namespace/workload/instance}. */
  public static String key(WorkloadEndpoint event) {
    return event.getNamespace() + "/" + event.getWorkload() + "/" + event.getInstance();
  }

  /** Maps an event; service hosts are canonicalised against the workload's namespace. */
  public static RegisteredWorkload toRegistered(WorkloadEndpoint e) {
    List<String> services = e.getServices().stream()
        .map(s -> ServiceHost.canonical(s, e.getNamespace())).toList();
    List<RegisteredWorkload.ServicePort> ports = e.getPorts().stream()
        .map(p -> new RegisteredWorkload.ServicePort(p.getName(), p.getPort(),
            p.getTargetPort() == null ? p.getPort() : p.getTargetPort(), p.getProtocol()))
        .toList();
    return new RegisteredWorkload(e.getNamespace(), e.getWorkload(), e.getInstance(), services,
        e.getAddress(), ports, e.getLabels(), e.getNode(), e.getSpiffeId(),
        e.getHealth() == null ? "UNKNOWN" : e.getHealth().name(), e.getEgressHosts(), e.getExportTo());
  }

  /** Maps back to an event stamped {@code updatedAtMillis}. */
  public static WorkloadEndpoint toEvent(RegisteredWorkload w, long updatedAtMillis) {
    return WorkloadEndpoint.newBuilder()
        .setNamespace(w.namespace())
        .setWorkload(w.workload())
        .setInstance(w.instance())
        .setServices(w.services())
        .setAddress(w.address())
        .setPorts(w.ports().stream().map(p -> WorkloadPort.newBuilder()
            .setName(p.name().isEmpty() ? null : p.name())
            .setPort(p.port())
            .setTargetPort(p.targetPort() == p.port() ? null : p.targetPort())
            .setProtocol(p.protocol())
            .build()).toList())
        .setLabels(new TreeMap<>(w.labels()))
        .setNode(w.node().isEmpty() ? null : w.node())
        .setSpiffeId(w.spiffeId().isEmpty() ? null : w.spiffeId())
        .setHealth(WorkloadHealth.valueOf(w.health()))
        .setEgressHosts(w.egressHosts())
        .setExportTo(w.exportTo().isEmpty() ? null : w.exportTo())
        .setUpdatedAt(java.time.Instant.ofEpochMilli(updatedAtMillis))
        .build();
  }

  /** Convenience for tests and the static registry: labels as a sorted copy. */
  static Map<String, String> sorted(Map<String, String> labels) {
    return new TreeMap<>(labels);
  }
}
