package dev.lattice.policy.compiler;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import java.time.Duration;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code compile} step: folds each {@link CompilerInput} into a {@link MeshCompiler}, persists the
 * accepted input and what it emitted in the task's stores, and forwards the changed compiled resources
 * ({@code node/TYPE/name} → {@link ConfigResource}, null = tombstone) with the input's timestamp.
 *
 * <p>On start it rebuilds the compiler from the stores (restored from their changelogs), then, once,
 * reconciles: whatever a full compile of the restored state would emit differently (nothing after a clean
 * restart; the upgrade diff after a compiler change) is forwarded.
 *
 * <p>One instance per task, driven by one stream thread; not thread-safe.
 */
final class CompilerProcessor implements Processor<String, CompilerInput, String, ConfigResource> {

  private static final Logger LOG = LoggerFactory.getLogger(CompilerProcessor.class);

  private final CompilerOptions options;
  private ProcessorContext<String, ConfigResource> context;
  private KeyValueStore<String, ResourceEvent> resources;
  private KeyValueStore<String, WorkloadEndpoint> registry;
  private KeyValueStore<String, String> emitted;
  private KeyValueStore<String, String> warnings;
  private MeshCompiler compiler;
  private Cancellable reconcile;

  CompilerProcessor(CompilerOptions options) {
    this.options = options;
  }

  @Override
  public void init(ProcessorContext<String, ConfigResource> context) {
    this.context = context;
    this.resources = context.getStateStore(CompilerTopology.RESOURCES_STORE);
    this.registry = context.getStateStore(CompilerTopology.REGISTRY_STORE);
    this.emitted = context.getStateStore(CompilerTopology.EMITTED_STORE);
    this.warnings = context.getStateStore(CompilerTopology.WARNINGS_STORE);
    this.compiler = new MeshCompiler(options.mesh(), options.admission());
    long started = System.nanoTime();
    try (KeyValueIterator<String, ResourceEvent> it = resources.all()) {
      it.forEachRemaining(kv -> compiler.restoreResource(kv.value));
    }
    try (KeyValueIterator<String, WorkloadEndpoint> it = registry.all()) {
      it.forEachRemaining(kv -> compiler.restoreWorkload(kv.value));
    }
    try (KeyValueIterator<String, String> it = emitted.all()) {
      it.forEachRemaining(kv -> compiler.restoreEmitted(kv.key, kv.value));
    }
    try (KeyValueIterator<String, String> it = warnings.all()) {
      it.forEachRemaining(kv -> compiler.restoreWarning(kv.key, kv.value));
    }
    compiler.finishRestore();
    LOG.info("compiler restored {} resources, {} workloads in {} ms", compiler.state().resourceCount(),
        compiler.state().workloadCount(), (System.nanoTime() - started) / 1_000_000);
    reconcile = context.schedule(Duration.ofMillis(500), PunctuationType.WALL_CLOCK_TIME, now -> {
      reconcile.cancel();
      MeshCompiler.Result result = compiler.reconcileAll();
      if (!result.changes().isEmpty()) {
        LOG.info("reconciled {} compiled resources after start", result.changes().size());
      }
      emit(result, now);
    });
  }

  @Override
  public void process(Record<String, CompilerInput> record) {
    CompilerInput in = record.value();
    if (in == null) return;
    MeshCompiler.Result result;
    if (in.isResource()) {
      result = compiler.applyResource(in.resourceKey(), in.resource());
      if (result.admitted()) {
        if (in.resource() == null) resources.delete(in.resourceKey());
        else resources.put(in.resourceKey(), in.resource());
      }
    } else {
      result = compiler.applyWorkload(in.workloadKey(), in.workload());
      if (in.workload() == null) registry.delete(in.workloadKey());
      else registry.put(in.workloadKey(), in.workload());
    }
    emit(result, record.timestamp());
  }

  private void emit(MeshCompiler.Result result, long timestamp) {
    for (MeshCompiler.Change change : result.changes()) {
      if (change.value() == null) emitted.delete(change.key());
      else emitted.put(change.key(), change.value().getVersion());
      context.forward(new Record<>(change.key(), change.value(), timestamp));
    }
    for (MeshCompiler.WarningChange w : result.warnings()) {
      if (w.warning() == null) warnings.delete(w.storeKey());
      else warnings.put(w.storeKey(), w.warning());
    }
  }

}
