package dev.lattice.policy.registry;

import dev.lattice.policy.model.RegistryView;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A live, in-memory {@link RegistryView}: workload instances by registry key
 * ({@code namespace/workload/instance}), fed by {@link RegistryFold} from {@code lattice.registry.v1}
 * (or directly, in tests). Validation's semantic warnings and {@code explain} ask it questions.
 *
 * <p>Thread-safe: updates and queries may run concurrently from any thread (backed by a
 * {@link ConcurrentHashMap}; a query sees each workload either before or after a concurrent update).
 * Queries scan every instance: fine for warnings on a request path up to ~10⁵ instances.
 */
public final class RegistryIndex implements RegistryView {

  private final Map<String, RegisteredWorkload> byKey = new ConcurrentHashMap<>();
  private volatile boolean available;

  /** Adds or replaces a workload under its {@link RegisteredWorkload#key()}. */
  public void put(RegisteredWorkload workload) {
    byKey.put(workload.key(), workload);
  }

  /** Removes the workload under {@code key}; a missing key is ignored. */
  public void remove(String key) {
    byKey.remove(key);
  }

  /** Marks the index as caught up with its source (until then {@link #available()} is false). */
  public void markAvailable() {
    available = true;
  }

  /** Number of registered workload instances. */
  public int size() {
    return byKey.size();
  }

  @Override
  public boolean available() {
    return available;
  }

  @Override
  public boolean knowsHost(String canonicalHost) {
    return byKey.values().stream().anyMatch(w -> w.backs(canonicalHost));
  }

  @Override
  public boolean hasWorkloadsInNamespace(String namespace) {
    return byKey.values().stream().anyMatch(w -> w.namespace().equals(namespace));
  }

  @Override
  public boolean anyEndpointMatches(String canonicalHost, Map<String, String> labels) {
    return byKey.values().stream().anyMatch(w -> w.backs(canonicalHost) && w.matches(labels));
  }

  @Override
  public List<Workload> workloadsForHost(String canonicalHost) {
    return byKey.values().stream().filter(w -> w.backs(canonicalHost))
        .sorted(Comparator.comparing(RegisteredWorkload::key))
        .map(w -> new Workload(w.namespace(), w.workload(), w.labels()))
        .distinct()
        .toList();
  }

  /** Every registered instance, sorted by key. */
  public List<RegisteredWorkload> instances() {
    return byKey.values().stream().sorted(Comparator.comparing(RegisteredWorkload::key)).toList();
  }
}
