package dev.lattice.policy.kubernetes;

import dev.lattice.policy.registry.RegistrySink;
import io.fabric8.kubernetes.client.KubernetesClient;
import java.time.Clock;

/**
 * The Kubernetes door of the policy service: the policy custom resources ({@link PolicyResourceInformer})
 * and the service registry from EndpointSlices, Services and Pods ({@link EndpointSliceRegistry}).
 *
 * <p>Config keys ({@code policy.kubernetes.*}, read by the service that builds it): {@code enabled}
 * (default false: only on a cluster), {@code trust.domain} (default {@code lattice.local}).
 *
 * <p>Thread-safe. The creator closes it; closing stops the informers but not the client (also the
 * creator's).
 */
public final class KubernetesSource implements AutoCloseable {

  private final PolicyResourceInformer resources;
  private final EndpointSliceRegistry registry;

  public KubernetesSource(KubernetesClient client, ResourceSink resourceSink, RegistrySink registrySink,
      String trustDomain, Clock clock) {
    this.resources = new PolicyResourceInformer(client, resourceSink, clock);
    this.registry = new EndpointSliceRegistry(client, registrySink, trustDomain, clock);
  }

  /**
   * Starts every informer. Non-blocking: they list and watch in the background and retry a failed list
   * with backoff, so an API server that comes up later is picked up; {@link #synced()} stays false until then.
   */
  public KubernetesSource start() {
    resources.start();
    registry.start();
    return this;
  }

  /** Whether every informer has listed once (a readiness signal). */
  public boolean synced() {
    return resources.synced() && registry.synced();
  }

  @Override
  public void close() {
    resources.close();
    registry.close();
  }
}
