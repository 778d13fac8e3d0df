package dev.lattice.policy.engine;

import dev.lattice.policy.model.AuthorizationPolicy;
import dev.lattice.policy.model.RegistryView;
import dev.lattice.policy.model.ServiceHost;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Answers "would this request be allowed, and why?": finds the destination workloads of a service host
 * in the registry, builds the {@link AuthorizationEngine} each of them would run (the same code the data
 * plane runs, no second implementation) and evaluates the request. Stateless and thread-safe.
 */
public final class Explainer {

  /** The decision for one destination workload (all workloads with the same namespace and labels share it). */
  public record WorkloadDecision(String namespace, Map<String, String> labels, List<String> workloads,
      List<PolicyRef> policies, Decision decision) {}

  /**
   * The explanation: the canonical host, one decision per distinct destination workload, and a note when
   * the registry did not know the host (then the host's namespace and no labels are assumed, so only
   * selector-less policies can apply).
   */
  public record Explanation(String host, RequestContext request, List<WorkloadDecision> decisions, String note) {
    /** ALLOW only if every destination workload allows. */
    public Verdict verdict() {
      for (WorkloadDecision d : decisions) {
        if (!d.decision().allowed()) return Verdict.DENY;
      }
      return Verdict.ALLOW;
    }
  }

  private final String rootNamespace;

  public Explainer(String rootNamespace) {
    this.rootNamespace = rootNamespace;
  }

  /**
   * Explains {@code request} to {@code toHost} ({@code reviews.prod}, {@code reviews.prod.svc.cluster.local},
   * or {@code reviews} resolved in {@code defaultNamespace}).
   */
  public Explanation explain(String toHost, String defaultNamespace, RequestContext request,
      Collection<AuthorizationPolicy> policies, RegistryView registry) {
    String host = ServiceHost.canonical(toHost, defaultNamespace);
    Map<String, WorkloadGroup> groups = new LinkedHashMap<>();
    for (RegistryView.Workload w : registry.workloadsForHost(host)) {
      groups.computeIfAbsent(w.namespace() + "|" + new java.util.TreeMap<>(w.labels()),
          k -> new WorkloadGroup(w.namespace(), w.labels())).names.add(w.name());
    }
    String note = null;
    if (groups.isEmpty()) {
      int dot = host.indexOf('.');
      String ns = dot > 0 ? host.substring(dot + 1) : defaultNamespace;
      if (ns.contains(".")) ns = ns.substring(0, ns.indexOf('.'));
      note = "host " + host + " has no workloads in the registry; evaluated as a workload in namespace " + ns
          + " without labels, so only policies without a selector apply";
      groups.put(ns, new WorkloadGroup(ns, Map.of()));
    }
    RequestContext effective = request.destinationHost() == null
        ? new RequestContext(request.sourcePrincipal(), request.sourceNamespace(), request.sourceIp(), host,
            request.destinationPort(), request.method(), request.path(), request.headers(), request.sourceAddress())
        : request;
    List<WorkloadDecision> out = new ArrayList<>();
    for (WorkloadGroup g : groups.values()) {
      AuthorizationEngine engine = AuthorizationEngine.forWorkload(g.namespace, g.labels, policies, rootNamespace);
      out.add(new WorkloadDecision(g.namespace, g.labels, List.copyOf(g.names), engine.policies(), engine.evaluate(effective)));
    }
    return new Explanation(host, effective, out, note);
  }

  private static final class WorkloadGroup {
    final String namespace;
    final Map<String, String> labels;
    final List<String> names = new ArrayList<>();

    WorkloadGroup(String namespace, Map<String, String> labels) {
      this.namespace = namespace;
      this.labels = Map.copyOf(labels);
    }
  }
}
