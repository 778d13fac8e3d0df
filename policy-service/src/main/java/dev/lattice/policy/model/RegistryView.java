package dev.lattice.policy.model;

import java.util.List;
import java.util.Map;

/**
 * What validation and {@code explain} may ask the service registry ({@code lattice.registry.v1}). The
 * registry (compiler side) implements it; answers are used only for non-blocking warnings and for
 * explain's destination lookup. Hosts are canonical ({@link ServiceHost#canonical}).
 *
 * <p>Implementations must be thread-safe and answer from memory (called on the event loop).
 */
public interface RegistryView {

  /** A registry that knows nothing: semantic warnings are skipped. */
  RegistryView UNAVAILABLE = new RegistryView() {
    @Override
    public boolean available() {
      return false;
    }

    @Override
    public boolean knowsHost(String canonicalHost) {
      return false;
    }

    @Override
    public boolean hasWorkloadsInNamespace(String namespace) {
      return false;
    }

    @Override
    public boolean anyEndpointMatches(String canonicalHost, Map<String, String> labels) {
      return false;
    }
  };

  /** A workload instance known to the registry. */
  record Workload(String namespace, String name, Map<String, String> labels) {
    public Workload {
      labels = Map.copyOf(labels);
    }
  }

  /** False until the registry has caught up; when false, callers skip registry-based warnings. */
  boolean available();

  /** Whether a service with this canonical host ({@code reviews.default}) is registered. */
  boolean knowsHost(String canonicalHost);

  /** Whether any workload runs in {@code namespace}. */
  boolean hasWorkloadsInNamespace(String namespace);

  /** Whether any endpoint of {@code canonicalHost} carries all {@code labels}. */
  boolean anyEndpointMatches(String canonicalHost, Map<String, String> labels);

  /** The workloads serving {@code canonicalHost} (for explain); empty when unknown. */
  default List<Workload> workloadsForHost(String canonicalHost) {
    return List.of();
  }
}
