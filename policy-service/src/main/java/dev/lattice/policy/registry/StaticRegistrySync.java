package dev.lattice.policy.registry;

import dev.lattice.events.WorkloadEndpoint;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Publishes a static-registry document: an upsert for every instance it lists and a tombstone for every
 * static instance the registry still holds that the document no longer lists (found through the
 * {@link StaticRegistry#SOURCE_LABEL} label in the live {@link RegistryIndex}). Idempotent: syncing the
 * same file twice re-publishes the same instances, which the compiler then finds unchanged.
 *
 * <p>Thread-safe; blocking-free (the sink is asynchronous). Reading the file is the caller's (off the event
 * loop).
 */
public final class StaticRegistrySync {

  /** What a sync did. */
  public record Outcome(List<String> upserted, List<String> removed, List<String> errors) {
    public Outcome {
      upserted = List.copyOf(upserted);
      removed = List.copyOf(removed);
      errors = List.copyOf(errors);
    }
  }

  private final RegistrySink sink;
  private final RegistryIndex current;
  private final String trustDomain;
  private final Clock clock;

  public StaticRegistrySync(RegistrySink sink, RegistryIndex current, String trustDomain, Clock clock) {
    this.sink = sink;
    this.current = current;
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  /** Parses {@code document} and publishes the difference; nothing is published if it has errors. */
  public CompletionStage<Outcome> sync(String document) {
    StaticRegistry.Result parsed = StaticRegistry.parse(document, trustDomain, clock.instant());
    if (!parsed.ok()) {
      return CompletableFuture.completedFuture(new Outcome(List.of(), List.of(), parsed.errors()));
    }
    List<CompletableFuture<Void>> sends = new ArrayList<>();
    Set<String> listed = new TreeSet<>();
    for (WorkloadEndpoint w : parsed.workloads()) {
      listed.add(WorkloadEndpoints.key(w));
      sends.add(sink.upsert(w).toCompletableFuture());
    }
    List<String> removed = new ArrayList<>();
    for (RegisteredWorkload w : current.instances()) {
      if (StaticRegistry.isStatic(w) && !listed.contains(w.key())) {
        removed.add(w.key());
        sends.add(sink.delete(w.key()).toCompletableFuture());
      }
    }
    return CompletableFuture.allOf(sends.toArray(CompletableFuture[]::new))
        .thenApply(v -> new Outcome(new ArrayList<>(listed), removed, List.of()));
  }
}
