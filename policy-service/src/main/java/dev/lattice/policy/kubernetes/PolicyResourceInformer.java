package dev.lattice.policy.kubernetes;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.policy.model.ParsedDocument;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceEventMapper;
import dev.lattice.policy.model.ResourceKey;
import dev.lattice.policy.model.ResourceKind;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.model.ResourceValidator;
import dev.lattice.policy.model.ValidationIssue;
import dev.lattice.policy.model.ValidationReport;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the five policy CRDs with fabric8 informers. Each added or changed custom resource is parsed
 * and validated with the same code as the REST API: a valid one is published to the
 * {@link ResourceSink} as a {@code ResourceEvent} (source KUBERNETES) and gets the status condition
 * {@code Accepted=True}; an invalid one is not published and gets {@code Accepted=False}, reason
 * {@code Invalid}, with the field path and message. A deleted custom resource becomes a tombstone.
 *
 * <p>Status writes are skipped when the condition already says the same for the same generation, so the
 * status update's own watch event does not loop. They run on a dedicated thread, never on the informer's.
 *
 * <p>Thread-safe. The creator closes it (stops the informers and the status thread).
 */
public final class PolicyResourceInformer implements AutoCloseable {

  /** The condition type written to each custom resource's status. */
  public static final String CONDITION = "Accepted";

  private static final Logger LOG = LoggerFactory.getLogger(PolicyResourceInformer.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KubernetesClient client;
  private final ResourceSink sink;
  private final Clock clock;
  private final ResourceParser parser = ResourceParser.create();
  private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();
  private final ExecutorService statusWriter = Executors.newSingleThreadExecutor(r -> {
    Thread t = new Thread(r, "lattice-k8s-status");
    t.setDaemon(true);
    return t;
  });
  /** key → the event last published, to skip re-publishing on status-only updates. */
  private final Map<String, ResourceEvent> published = new ConcurrentHashMap<>();

  public PolicyResourceInformer(KubernetesClient client, ResourceSink sink, Clock clock) {
    this.client = client;
    this.sink = sink;
    this.clock = clock;
  }

  /**
   * Starts one informer per kind, in every namespace. Non-blocking: each lists and watches in the
   * background and retries a failed list ({@link RetryingInformers}); {@link #synced()} tells when all listed.
   */
  public synchronized PolicyResourceInformer start() {
    for (ResourceKind kind : ResourceKind.values()) {
      informers.add(RetryingInformers.start(
          client.genericKubernetesResources(PolicyCustomResources.context(kind)).inAnyNamespace(), handler(kind),
          kind.name()));
    }
    return this;
  }

  /** Whether every informer has listed its kind once. */
  public boolean synced() {
    return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  private ResourceEventHandler<GenericKubernetesResource> handler(ResourceKind kind) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(GenericKubernetesResource cr) {
        admit(kind, cr);
      }

      @Override
      public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource cr) {
        admit(kind, cr);
      }

      @Override
      public void onDelete(GenericKubernetesResource cr, boolean finalStateUnknown) {
        String key = ResourceKey.format(kind.kindName(), cr.getMetadata().getNamespace(), cr.getMetadata().getName());
        if (published.remove(key) != null) {
          sink.delete(key).whenComplete((v, e) -> {
            if (e != null) LOG.warn("publishing the deletion of {} failed: {}", key, e.toString());
          });
        }
      }
    };
  }

  /** Validates one custom resource, publishes it if valid and records the outcome in its status. */
  void admit(ResourceKind kind, GenericKubernetesResource cr) {
    String key = ResourceKey.format(kind.kindName(), cr.getMetadata().getNamespace(), cr.getMetadata().getName());
    ParsedDocument doc = parser.fromTree(toModelTree(cr));
    List<ValidationIssue> errors = new ArrayList<>(doc.errors());
    Resource resource = doc.resource();
    if (errors.isEmpty() && resource != null) {
      ValidationReport report = ResourceValidator.validate(resource);
      errors.addAll(report.errors());
    }
    if (!errors.isEmpty() || resource == null) {
      String message = errors.isEmpty() ? "not a " + kind.kindName()
          : errors.stream().map(ValidationIssue::toString).collect(Collectors.joining("; "));
      if (writeStatus(kind, cr, false, "Invalid", message)) {
        LOG.info("custom resource {} is invalid: {}", key, message);
      }
      return;
    }
    long generation = cr.getMetadata().getGeneration() == null ? 1 : cr.getMetadata().getGeneration();
    ResourceEvent event = ResourceEventMapper.toEvent(resource, new ResourceEventMapper.Provenance(
        generation, "kubernetes", ResourceSource.KUBERNETES, clock.instant()));
    ResourceEvent previous = published.get(key);
    if (previous == null || !sameContent(previous, event)) {
      published.put(key, event);
      sink.upsert(event).whenComplete((v, e) -> {
        if (e != null) LOG.warn("publishing {} failed: {}", key, e.toString());
      });
    }
    writeStatus(kind, cr, true, "Accepted", "accepted by the Lattice policy service");
  }

  private static boolean sameContent(ResourceEvent a, ResourceEvent b) {
    return Objects.equals(a.getSpec(), b.getSpec()) && Objects.equals(a.getLabels(), b.getLabels())
        && Objects.equals(a.getAnnotations(), b.getAnnotations());
  }

  /** The custom resource as the resource model's document: apiVersion, kind, metadata, spec. */
  private JsonNode toModelTree(GenericKubernetesResource cr) {
    try {
      JsonNode full = JSON.readTree(client.getKubernetesSerialization().asJson(cr));
      ObjectNode doc = JSON.createObjectNode();
      doc.set("apiVersion", full.get("apiVersion"));
      doc.set("kind", full.get("kind"));
      ObjectNode meta = doc.putObject("metadata");
      JsonNode m = full.path("metadata");
      for (String field : List.of("name", "namespace", "labels", "annotations", "uid", "creationTimestamp")) {
        if (m.has(field)) meta.set(field, m.get(field));
      }
      if (m.has("resourceVersion") && m.get("resourceVersion").asText().matches("\\d+")) {
        meta.put("resourceVersion", m.get("resourceVersion").asText());
      }
      doc.set("spec", full.has("spec") ? full.get("spec") : JSON.createObjectNode());
      return doc;
    } catch (java.io.IOException e) {
      throw new IllegalStateException("fabric8 produced unreadable JSON for " + cr.getMetadata().getName(), e);
    }
  }

  @SuppressWarnings("unchecked")
  /** Writes the condition unless the resource already carries it; returns whether a write was queued. */
  private boolean writeStatus(ResourceKind kind, GenericKubernetesResource cr, boolean accepted, String reason,
      String message) {
    Long generation = cr.getMetadata().getGeneration();
    Object statusObj = cr.getAdditionalProperties().get("status");
    if (statusObj instanceof Map<?, ?> status && status.get("conditions") instanceof List<?> conditions) {
      for (Object c : conditions) {
        if (c instanceof Map<?, ?> cond && CONDITION.equals(cond.get("type"))
            && (accepted ? "True" : "False").equals(cond.get("status"))
            && reason.equals(cond.get("reason")) && message.equals(cond.get("message"))
            && Objects.equals(generation == null ? null : generation.longValue(),
                cond.get("observedGeneration") == null ? null : ((Number) cond.get("observedGeneration")).longValue())) {
          return false; // already says so: no write, no watch loop
        }
      }
    }
    String ns = cr.getMetadata().getNamespace();
    String name = cr.getMetadata().getName();
    statusWriter.execute(() -> {
      try {
        var resource = client.genericKubernetesResources(PolicyCustomResources.context(kind))
            .inNamespace(ns).withName(name);
        GenericKubernetesResource latest = resource.get();
        if (latest == null) return;
        Map<String, Object> condition = new LinkedHashMap<>();
        condition.put("type", CONDITION);
        condition.put("status", accepted ? "True" : "False");
        condition.put("reason", reason);
        condition.put("message", message);
        if (generation != null) condition.put("observedGeneration", generation);
        condition.put("lastTransitionTime", clock.instant().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
        Map<String, Object> status = new LinkedHashMap<>();
        if (generation != null) status.put("observedGeneration", generation);
        status.put("conditions", List.of(condition));
        latest.setAdditionalProperty("status", status);
        client.genericKubernetesResources(PolicyCustomResources.context(kind)).inNamespace(ns)
            .resource(latest).updateStatus();
      } catch (KubernetesClientException e) {
        // a conflict means a newer version exists: its own event will write the status
        LOG.debug("status of {}/{} not written: {}", ns, name, e.getMessage());
      }
    });
    return true;
  }

  @Override
  public synchronized void close() {
    informers.forEach(SharedIndexInformer::close);
    informers.clear();
    statusWriter.shutdown();
    try {
      statusWriter.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
