package dev.lattice.policy.explain;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.Decision;
import dev.lattice.authz.PolicyRef;
import dev.lattice.authz.SimpleRequest;
import dev.lattice.authz.Verdict;
import dev.lattice.authz.normalize.MalformedRequestException;
import dev.lattice.authz.normalize.PathNormalizer;
import dev.lattice.authz.normalize.RequestSyntax;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.policy.compiler.InboundCompiler;
import dev.lattice.policy.compiler.MeshSettings;
import dev.lattice.policy.compiler.MeshState;
import dev.lattice.policy.model.RegistryView;
import dev.lattice.policy.model.ServiceHost;
import dev.lattice.policy.registry.RegisteredWorkload;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Answers "would this request be allowed, and why?" exactly as a proxy would: finds the destination
 * workloads of a service host in the registry, compiles each one's authorization table with the
 * compiler's own {@link InboundCompiler#authorization} (the only place policies are selected) and
 * evaluates the request with {@code lattice-authz} — the engine the data plane runs — after the same
 * request checks and path normalization. Explain and enforcement agree by construction. Stateless and
 * thread-safe; a call costs one pass over the AuthorizationPolicies, so run it off the event loop.
 */
public final class Explainer {

  /**
   * The request or connection to explain.
   *
   * @param from the caller's SPIFFE ID, or null for a plaintext caller
   * @param sourceIp the caller's address, or null
   * @param authority {@code :authority} (HTTP only); null = the canonical service host
   * @param port the destination port (0 = unknown)
   * @param method HTTP method; null = a TCP connection
   * @param path the raw request target (normalized here), or null for TCP ({@code /} when HTTP)
   * @param headers request headers (names in any case)
   */
  public record Request(String from, String sourceIp, String authority, int port, String method, String path,
      Map<String, String> headers) {
    public Request {
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }
  }

  /** The decision for one destination workload (all instances with the same namespace and labels share it). */
  public record WorkloadDecision(String namespace, Map<String, String> labels, List<String> workloads,
      List<PolicyRef> policies, Decision decision) {}

  /**
   * The explanation: the canonical host, one decision per distinct destination workload, and a note when
   * the registry does not know the host (then the host's namespace and no labels are assumed, so only
   * policies without a selector can apply).
   */
  public record Explanation(String host, List<WorkloadDecision> decisions, String note) {
    /** ALLOW only if every destination workload allows. */
    public Verdict verdict() {
      for (WorkloadDecision d : decisions) {
        if (!d.decision().allowed()) return Verdict.DENY;
      }
      return Verdict.ALLOW;
    }
  }

  private final MeshSettings mesh;

  /** @param rootNamespace the mesh root namespace, as the compiler has it (other mesh settings: defaults) */
  public Explainer(String rootNamespace) {
    this(MeshSettings.DEFAULTS.withRootNamespace(rootNamespace));
  }

  /** @param mesh the mesh-wide settings, as the compiler has them */
  public Explainer(MeshSettings mesh) {
    this.mesh = mesh;
  }

  /**
   * Explains {@code request} to {@code toHost} ({@code reviews.prod}, {@code reviews.prod.svc.cluster.local},
   * or {@code reviews} resolved in {@code defaultNamespace}).
   *
   * @param authorizationPolicies the accepted AuthorizationPolicy events (other kinds are ignored)
   */
  public Explanation explain(String toHost, String defaultNamespace, Request request,
      Collection<ResourceEvent> authorizationPolicies, RegistryView registry) {
    String host = ServiceHost.canonical(toHost, defaultNamespace);
    MeshState state = new MeshState(mesh);
    for (ResourceEvent e : authorizationPolicies) {
      if (MeshState.AUTHORIZATION_POLICY.equals(e.getKind())) state.putResource(e);
    }
    Map<String, Group> groups = new LinkedHashMap<>();
    for (RegistryView.Workload w : registry.workloadsForHost(host)) {
      groups.computeIfAbsent(w.namespace() + "|" + new TreeMap<>(w.labels()), k -> new Group(w.namespace(), w.labels()))
          .names.add(w.name());
    }
    String note = null;
    if (groups.isEmpty()) {
      String ns = namespaceOf(host, defaultNamespace);
      note = "host " + host + " has no workloads in the registry; evaluated as a workload in namespace " + ns
          + " without labels, so only policies without a selector apply";
      groups.put(ns, new Group(ns, Map.of()));
    }
    Request effective = request.authority() == null && request.method() != null
        ? new Request(request.from(), request.sourceIp(), host, request.port(), request.method(), request.path(),
            request.headers())
        : request;
    List<WorkloadDecision> out = new ArrayList<>();
    for (Group g : groups.values()) {
      RegisteredWorkload workload = new RegisteredWorkload(g.namespace,
          g.names.isEmpty() ? "(unregistered)" : g.names.get(0), "explain", List.of(host), "", List.of(), g.labels,
          "", "", "HEALTHY");
      AuthorizationConfig table = InboundCompiler.authorization(state, workload).config();
      AuthorizationEngine engine = AuthorizationEngine.of(table);
      out.add(new WorkloadDecision(g.namespace, g.labels, List.copyOf(g.names), engine.policies(),
          authorize(engine, effective)));
    }
    return new Explanation(host, out, note);
  }

  /**
   * What {@code engine} decides for {@code request}, with the proxy's checks first: an invalid method token,
   * header name or value, or a path that cannot be normalized safely is {@code rejected_before_authz}
   * (the proxy answers 400); the path is normalized with the config's mesh setting.
   *
   * @throws IllegalArgumentException if {@code sourceIp} is not an IP address
   */
  public static Decision authorize(AuthorizationEngine engine, Request request) {
    SimpleRequest.Builder b = SimpleRequest.builder().from(request.from()).port(request.port())
        .sourceIp(request.sourceIp()).trustedProxies(engine.trustedProxies());
    if (request.method() != null) {
      try {
        RequestSyntax.checkMethod(request.method());
        Map<String, String> headers = new LinkedHashMap<>();
        for (Map.Entry<String, String> h : request.headers().entrySet()) {
          RequestSyntax.checkHeaderName(h.getKey());
          RequestSyntax.checkHeaderValue(h.getKey(), h.getValue());
          // RFC 9110 §5.5: a field value never carries leading or trailing whitespace on the wire (the proxy's
          // codec strips it), so " blue" asked here is the "blue" the proxy sees
          headers.put(h.getKey(), stripWhitespace(h.getValue()));
        }
        String path = PathNormalizer.normalize(request.path() == null ? "/" : request.path(), engine.pathNormalization());
        b.method(request.method()).authority(request.authority()).path(path).headers(headers);
      } catch (MalformedRequestException e) {
        return Decision.rejectedBeforeAuthz(e.getMessage());
      }
    }
    return engine.evaluate(b.build());
  }

  private static String stripWhitespace(String value) {
    int from = 0;
    int to = value.length();
    while (from < to && (value.charAt(from) == ' ' || value.charAt(from) == '\t')) from++;
    while (to > from && (value.charAt(to - 1) == ' ' || value.charAt(to - 1) == '\t')) to--;
    return value.substring(from, to);
  }

  private static String namespaceOf(String canonicalHost, String defaultNamespace) {
    int dot = canonicalHost.indexOf('.');
    String ns = dot > 0 ? canonicalHost.substring(dot + 1) : defaultNamespace;
    return ns.contains(".") ? ns.substring(0, ns.indexOf('.')) : ns;
  }

  private static final class Group {
    final String namespace;
    final Map<String, String> labels;
    final List<String> names = new ArrayList<>();

    Group(String namespace, Map<String, String> labels) {
      this.namespace = namespace;
      this.labels = Map.copyOf(labels);
    }
  }
}
