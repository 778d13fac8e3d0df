package dev.lattice.policy.kubernetes;

import dev.lattice.policy.registry.RegistrySink;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import dev.lattice.policy.registry.WorkloadEndpoints;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.ObjectReference;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.ServicePort;
import io.fabric8.kubernetes.api.model.discovery.v1.Endpoint;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointPort;
import io.fabric8.kubernetes.api.model.discovery.v1.EndpointSlice;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns Kubernetes EndpointSlices, Services and Pods into {@code WorkloadEndpoint} events: one instance
 * per pod that an EndpointSlice lists (targetRef kind Pod), keyed {@code namespace/workload/pod}, backing
 * every service whose slices list it. Address and readiness come from the slice, the node from the slice
 * (or the pod), service ports from the Service (slice ports are target ports), labels and service account
 * (→ SPIFFE ID {@code spiffe://<trust domain>/ns/<ns>/sa/<sa>}) from the pod. The workload name is the
 * pod's {@code app.kubernetes.io/name} or {@code app} label, else its service account, else the pod name.
 *
 * <p>Only changes are published (an unchanged instance is not re-sent); a pod no slice lists any more is
 * tombstoned. Thread-safe: informer callbacks of the three kinds serialise on one lock. The creator closes
 * it (stops the informers).
 */
public final class EndpointSliceRegistry implements AutoCloseable {

  /** The EndpointSlice label naming its Service. */
  public static final String SERVICE_NAME_LABEL = "kubernetes.io/service-name";

  private static final Logger LOG = LoggerFactory.getLogger(EndpointSliceRegistry.class);

  private final KubernetesClient client;
  private final RegistrySink sink;
  private final String trustDomain;
  private final Clock clock;
  private final List<SharedIndexInformer<?>> informers = new ArrayList<>();

  private final Map<String, EndpointSlice> slices = new HashMap<>();
  private final Map<String, Pod> pods = new HashMap<>();
  private final Map<String, Service> services = new HashMap<>();
  /** pod key (ns/name) → the event last published for it (without updatedAt). */
  private final Map<String, WorkloadEndpoint> published = new HashMap<>();

  public EndpointSliceRegistry(KubernetesClient client, RegistrySink sink, String trustDomain, Clock clock) {
    this.client = client;
    this.sink = sink;
    this.trustDomain = trustDomain;
    this.clock = clock;
  }

  /**
   * Starts the Service, Pod and EndpointSlice informers in every namespace. Non-blocking; a failed list is
   * retried ({@link RetryingInformers}).
   */
  public synchronized EndpointSliceRegistry start() {
    informers.add(RetryingInformers.start(client.services().inAnyNamespace(), handler(services, this::podsOfService),
        "Service"));
    informers.add(RetryingInformers.start(client.pods().inAnyNamespace(), handler(pods, p -> Set.of(key(p))), "Pod"));
    informers.add(RetryingInformers.start(client.discovery().v1().endpointSlices().inAnyNamespace(),
        handler(slices, this::podsOfSlice), "EndpointSlice"));
    return this;
  }

  /** Whether every informer has listed once. */
  public boolean synced() {
    return !informers.isEmpty() && informers.stream().allMatch(SharedIndexInformer::hasSynced);
  }

  private <T extends HasMetadata> ResourceEventHandler<T> handler(Map<String, T> cache,
      java.util.function.Function<T, Set<String>> affectedPods) {
    return new ResourceEventHandler<>() {
      @Override
      public void onAdd(T obj) {
        change(cache, obj, null, affectedPods);
      }

      @Override
      public void onUpdate(T old, T obj) {
        change(cache, obj, old, affectedPods);
      }

      @Override
      public void onDelete(T obj, boolean finalStateUnknown) {
        synchronized (EndpointSliceRegistry.this) {
          Set<String> affected = new TreeSet<>(affectedPods.apply(obj));
          cache.remove(key(obj));
          affected.forEach(EndpointSliceRegistry.this::republish);
        }
      }
    };
  }

  private synchronized <T extends HasMetadata> void change(Map<String, T> cache, T obj, T old,
      java.util.function.Function<T, Set<String>> affectedPods) {
    Set<String> affected = new TreeSet<>(affectedPods.apply(obj));
    T previous = cache.put(key(obj), obj);
    if (previous != null) affected.addAll(affectedPods.apply(previous));
    if (old != null) affected.addAll(affectedPods.apply(old));
    affected.forEach(this::republish);
  }

  private static String key(HasMetadata o) {
    return o.getMetadata().getNamespace() + "/" + o.getMetadata().getName();
  }

  private Set<String> podsOfSlice(EndpointSlice slice) {
    Set<String> out = new TreeSet<>();
    if (slice.getEndpoints() == null) return out;
    for (Endpoint e : slice.getEndpoints()) {
      ObjectReference ref = e.getTargetRef();
      if (ref != null && "Pod".equals(ref.getKind())) {
        out.add(slice.getMetadata().getNamespace() + "/" + ref.getName());
      }
    }
    return out;
  }

  private Set<String> podsOfService(Service service) {
    Set<String> out = new TreeSet<>();
    for (EndpointSlice s : slices.values()) {
      if (s.getMetadata().getNamespace().equals(service.getMetadata().getNamespace())
          && service.getMetadata().getName().equals(labels(s).get(SERVICE_NAME_LABEL))) {
        out.addAll(podsOfSlice(s));
      }
    }
    return out;
  }

  /** Recomputes the instance of {@code podKey} and publishes it if it changed. Holds the lock. */
  private void republish(String podKey) {
    WorkloadEndpoint next = compute(podKey);
    WorkloadEndpoint previous = published.get(podKey);
    if (next == null) {
      if (previous != null) {
        published.remove(podKey);
        publishDelete(WorkloadEndpoints.key(previous));
      }
      return;
    }
    if (previous != null && sameContent(previous, next)) return;
    if (previous != null && !WorkloadEndpoints.key(previous).equals(WorkloadEndpoints.key(next))) {
      publishDelete(WorkloadEndpoints.key(previous)); // the workload name changed (pod seen after its slice)
    }
    published.put(podKey, next);
    sink.upsert(next).whenComplete((v, e) -> {
      if (e != null) LOG.warn("publishing workload {} failed: {}", WorkloadEndpoints.key(next), e.toString());
    });
  }

  private void publishDelete(String key) {
    sink.delete(key).whenComplete((v, e) -> {
      if (e != null) LOG.warn("publishing the removal of workload {} failed: {}", key, e.toString());
    });
  }

  private static boolean sameContent(WorkloadEndpoint a, WorkloadEndpoint b) {
    WorkloadEndpoint bAt = WorkloadEndpoint.newBuilder(b).setUpdatedAt(a.getUpdatedAt()).build();
    return a.equals(bAt);
  }

  private WorkloadEndpoint compute(String podKey) {
    String ns = podKey.substring(0, podKey.indexOf('/'));
    String podName = podKey.substring(podKey.indexOf('/') + 1);
    Pod pod = pods.get(podKey);
    Set<String> hosts = new TreeSet<>();
    Map<Integer, WorkloadPort> ports = new TreeMap<>();
    String address = null;
    String node = pod != null && pod.getSpec() != null ? pod.getSpec().getNodeName() : null;
    boolean ready = true;
    boolean listed = false;
    for (EndpointSlice slice : slices.values()) {
      if (!slice.getMetadata().getNamespace().equals(ns) || slice.getEndpoints() == null) continue;
      String serviceName = labels(slice).get(SERVICE_NAME_LABEL);
      for (Endpoint e : slice.getEndpoints()) {
        ObjectReference ref = e.getTargetRef();
        if (ref == null || !"Pod".equals(ref.getKind()) || !podName.equals(ref.getName())) continue;
        listed = true;
        if (address == null && e.getAddresses() != null && !e.getAddresses().isEmpty()) {
          address = e.getAddresses().get(0);
        }
        if (e.getNodeName() != null) node = e.getNodeName();
        if (e.getConditions() != null && Boolean.FALSE.equals(e.getConditions().getReady())) ready = false;
        if (serviceName != null) hosts.add(serviceName + "." + ns);
        Service service = serviceName == null ? null : services.get(ns + "/" + serviceName);
        if (slice.getPorts() != null) {
          for (EndpointPort p : slice.getPorts()) {
            if (p.getPort() == null) continue;
            int servicePort = servicePort(service, p);
            ports.putIfAbsent(servicePort, WorkloadPort.newBuilder()
                .setName(p.getName())
                .setPort(servicePort)
                .setTargetPort(servicePort == p.getPort() ? null : p.getPort())
                .setProtocol(protocol(p))
                .build());
          }
        }
      }
    }
    if (!listed || address == null) return null;
    Map<String, String> labels = pod != null && pod.getMetadata().getLabels() != null
        ? new TreeMap<>(pod.getMetadata().getLabels()) : new TreeMap<>();
    String sa = pod != null && pod.getSpec() != null && pod.getSpec().getServiceAccountName() != null
        ? pod.getSpec().getServiceAccountName() : "default";
    String workload = labels.getOrDefault("app.kubernetes.io/name", labels.getOrDefault("app",
        pod != null && pod.getSpec() != null && pod.getSpec().getServiceAccountName() != null ? sa : podName));
    return WorkloadEndpoint.newBuilder()
        .setNamespace(ns)
        .setWorkload(workload)
        .setInstance(podName)
        .setServices(new ArrayList<>(hosts))
        .setAddress(address)
        .setPorts(new ArrayList<>(ports.values()))
        .setLabels(labels)
        .setNode(node)
        .setSpiffeId("spiffe://" + trustDomain + "/ns/" + ns + "/sa/" + sa)
        .setHealth(ready ? WorkloadHealth.HEALTHY : WorkloadHealth.UNHEALTHY)
        .setUpdatedAt(clock.instant())
        .build();
  }

  /** The Service port whose targetPort is this slice port (by number or name), else the slice port. */
  private static int servicePort(Service service, EndpointPort p) {
    if (service == null || service.getSpec() == null || service.getSpec().getPorts() == null) return p.getPort();
    for (ServicePort sp : service.getSpec().getPorts()) {
      if (p.getName() != null && p.getName().equals(sp.getName())) return sp.getPort();
      if (sp.getTargetPort() != null && sp.getTargetPort().getIntVal() != null
          && sp.getTargetPort().getIntVal().equals(p.getPort())) {
        return sp.getPort();
      }
    }
    return p.getPort();
  }

  /** appProtocol if set, else Istio's port-name prefix convention, else TCP. */
  static String protocol(EndpointPort p) {
    String hint = p.getAppProtocol() != null ? p.getAppProtocol() : p.getName() == null ? "" : p.getName();
    String h = hint.toLowerCase(Locale.ROOT);
    if (h.startsWith("grpc")) return "GRPC";
    if (h.startsWith("http2") || h.startsWith("h2c") || h.equals("kubernetes.io/h2c")) return "HTTP2";
    if (h.startsWith("http")) return "HTTP";
    if (h.startsWith("tls") || h.startsWith("https")) return "TLS";
    return "TCP";
  }

  private static Map<String, String> labels(HasMetadata o) {
    return o.getMetadata().getLabels() == null ? Map.of() : o.getMetadata().getLabels();
  }

  @Override
  public synchronized void close() {
    informers.forEach(SharedIndexInformer::close);
    informers.clear();
  }

}
