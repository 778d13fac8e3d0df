package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.kit.topic.LatticeTopics;
import dev.lattice.kit.topic.Topic;

/**
 * The three topics the compiler topology reads and writes, typed. {@link #standard()} is the catalog's;
 * tests pass their own unique names with {@link #named}.
 *
 * <p>Immutable; thread-safe (the serdes are).
 *
 * @param resources {@code lattice.resources.v1}: {@code kind/namespace/name} → ResourceEvent
 * @param registry {@code lattice.registry.v1}: {@code namespace/workload/instance} → WorkloadEndpoint
 * @param config {@code lattice.config.v1}: {@code node/TYPE/name} → ConfigResource
 */
public record CompilerTopics(
    Topic<String, ResourceEvent> resources,
    Topic<String, WorkloadEndpoint> registry,
    Topic<String, ConfigResource> config) {

  /** The catalog topics. */
  public static CompilerTopics standard() {
    return new CompilerTopics(LatticeTopics.RESOURCES, LatticeTopics.REGISTRY, LatticeTopics.CONFIG);
  }

  /** The catalog's specs under other names (tests, side-by-side installs). */
  public static CompilerTopics named(String resources, String registry, String config) {
    return new CompilerTopics(LatticeTopics.renamed(LatticeTopics.RESOURCES, resources),
        LatticeTopics.renamed(LatticeTopics.REGISTRY, registry),
        LatticeTopics.renamed(LatticeTopics.CONFIG, config));
  }
}
