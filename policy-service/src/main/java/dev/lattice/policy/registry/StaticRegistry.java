package dev.lattice.policy.registry;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import dev.lattice.events.WorkloadPort;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The static registry: workload instances that no orchestrator reports (VMs, bare-metal hosts), declared
 * in a YAML (or JSON) document and turned into {@code WorkloadEndpoint} events. Every instance it
 * produces carries the label {@value #SOURCE_LABEL}{@code : static}, which is how a later sync finds the
 * instances a newer file no longer lists.
 *
 * <pre>
 * apiVersion: lattice.dev/v1alpha1
 * kind: StaticRegistry
 * workloads:
 * - namespace: legacy          # required
 *   workload: billing          # required
 *   instance: vm-1             # required
 *   services: [billing]        # short names resolve in the namespace
 *   address: 192.168.10.5      # required
 *   node: vm-node-1            # the data-plane node in front of it
 *   serviceAccount: billing    # → spiffe://&lt;trust domain&gt;/ns/legacy/sa/billing (or spiffeId: …)
 *   labels: {app: billing}
 *   ports: [{name: http, port: 8080, targetPort: 8080, protocol: HTTP}]
 *   health: HEALTHY            # HEALTHY (default), UNHEALTHY, DRAINING, UNKNOWN
 *   egressHosts: ["./*", "prod/payments"]  # its node sees only these services (default: every one exported to it)
 *   exportTo: ["."]            # billing is visible only in legacy (default: "*")
 * </pre>
 *
 * <p>Stateless and thread-safe.
 */
public final class StaticRegistry {

  /** The label marking instances that come from the static registry. */
  public static final String SOURCE_LABEL = "lattice.dev/registry";
  public static final String SOURCE_VALUE = "static";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final Pattern DNS_LABEL = Pattern.compile("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
  private static final Set<String> PROTOCOLS = Set.of("HTTP", "HTTP2", "GRPC", "TCP", "TLS");
  private static final Set<String> FIELDS = Set.of("namespace", "workload", "instance", "services", "address",
      "node", "serviceAccount", "spiffeId", "labels", "ports", "health", "egressHosts", "exportTo");

  private StaticRegistry() {}

  /**
   * The outcome of parsing: the instances, or the errors ({@code path: what was seen (expected: …)}).
   * Either list is empty.
   */
  public record Result(List<WorkloadEndpoint> workloads, List<String> errors) {
    public Result {
      workloads = List.copyOf(workloads);
      errors = List.copyOf(errors);
    }

    public boolean ok() {
      return errors.isEmpty();
    }
  }

  /** Parses a whole static-registry document. */
  public static Result parse(String text, String trustDomain, Instant now) {
    JsonNode root;
    try {
      root = YAML.readTree(text);
    } catch (JsonProcessingException e) {
      return new Result(List.of(), List.of("line " + e.getLocation().getLineNr() + ": " + e.getOriginalMessage()));
    }
    List<String> errors = new ArrayList<>();
    if (root == null || !root.isObject()) {
      return new Result(List.of(), List.of("document: not a mapping (expected: kind: StaticRegistry with workloads)"));
    }
    if (!"StaticRegistry".equals(root.path("kind").asText())) {
      errors.add("kind: \"" + root.path("kind").asText() + "\" (expected: StaticRegistry)");
    }
    JsonNode list = root.path("workloads");
    if (!list.isArray()) {
      errors.add("workloads: " + (list.isMissingNode() ? "missing" : list.getNodeType().toString().toLowerCase(Locale.ROOT))
          + " (expected: a list)");
      return new Result(List.of(), errors);
    }
    List<WorkloadEndpoint> out = new ArrayList<>();
    Set<String> keys = new HashSet<>();
    for (int i = 0; i < list.size(); i++) {
      String path = "workloads[" + i + "]";
      WorkloadEndpoint w = entry(list.get(i), path, trustDomain, now, errors);
      if (w != null && !keys.add(WorkloadEndpoints.key(w))) {
        errors.add(path + ": duplicate instance " + WorkloadEndpoints.key(w) + " (expected: unique namespace/workload/instance)");
      } else if (w != null) {
        out.add(w);
      }
    }
    return errors.isEmpty() ? new Result(out, List.of()) : new Result(List.of(), errors);
  }

  /** Parses one entry (the body of {@code PUT /v1/registry/...}); errors are appended to {@code errors}. */
  public static WorkloadEndpoint entry(JsonNode n, String path, String trustDomain, Instant now, List<String> errors) {
    int before = errors.size();
    if (n == null || !n.isObject()) {
      errors.add(path + ": not a mapping (expected: a workload entry)");
      return null;
    }
    for (Iterator<String> it = n.fieldNames(); it.hasNext(); ) {
      String f = it.next();
      if (!FIELDS.contains(f)) errors.add(path + "." + f + ": unknown field (expected one of: " + new java.util.TreeSet<>(FIELDS) + ")");
    }
    String ns = name(n, "namespace", path, errors);
    String workload = name(n, "workload", path, errors);
    String instance = name(n, "instance", path, errors);
    String address = n.path("address").asText("");
    if (address.isEmpty()) errors.add(path + ".address: missing (expected: an IP address or host name)");
    List<String> services = new ArrayList<>();
    JsonNode svc = n.path("services");
    if (!svc.isMissingNode() && !svc.isArray()) errors.add(path + ".services: not a list (expected: [name, …])");
    for (int i = 0; i < svc.size(); i++) {
      String s = svc.get(i).asText("").toLowerCase(Locale.ROOT);
      if (s.isEmpty()) errors.add(path + ".services[" + i + "]: empty (expected: a service name)");
      else services.add(s.contains(".") ? s : s + "." + ns);
    }
    List<WorkloadPort> ports = new ArrayList<>();
    JsonNode ps = n.path("ports");
    for (int i = 0; i < ps.size(); i++) {
      JsonNode p = ps.get(i);
      String pp = path + ".ports[" + i + "]";
      int port = p.path("port").asInt(-1);
      if (port < 1 || port > 65535) errors.add(pp + ".port: " + p.path("port") + " (expected: 1..65535)");
      int target = p.path("targetPort").asInt(port);
      if (target < 1 || target > 65535) errors.add(pp + ".targetPort: " + p.path("targetPort") + " (expected: 1..65535)");
      String protocol = p.path("protocol").asText("TCP").toUpperCase(Locale.ROOT);
      if (!PROTOCOLS.contains(protocol)) errors.add(pp + ".protocol: \"" + protocol + "\" (expected one of: " + new java.util.TreeSet<>(PROTOCOLS) + ")");
      ports.add(WorkloadPort.newBuilder().setName(p.has("name") ? p.get("name").asText() : null).setPort(port)
          .setTargetPort(target == port ? null : target).setProtocol(protocol).build());
    }
    Map<String, String> labels = new TreeMap<>();
    n.path("labels").fields().forEachRemaining(e -> labels.put(e.getKey(), e.getValue().asText()));
    labels.put(SOURCE_LABEL, SOURCE_VALUE);
    String health = n.path("health").asText("HEALTHY").toUpperCase(Locale.ROOT);
    WorkloadHealth h = null;
    try {
      h = WorkloadHealth.valueOf(health);
    } catch (IllegalArgumentException e) {
      errors.add(path + ".health: \"" + health + "\" (expected one of: HEALTHY, UNHEALTHY, DRAINING, UNKNOWN)");
    }
    String spiffeId = n.has("spiffeId") ? n.get("spiffeId").asText()
        : n.has("serviceAccount") ? "spiffe://" + trustDomain + "/ns/" + ns + "/sa/" + n.get("serviceAccount").asText()
        : null;
    if (spiffeId != null && !spiffeId.startsWith("spiffe://")) {
      errors.add(path + ".spiffeId: \"" + spiffeId + "\" (expected: spiffe://<trust domain>/<path>)");
    }
    List<String> egress = strings(n, "egressHosts", path, errors, ServiceVisibility::egressHostProblem);
    List<String> exportTo = strings(n, "exportTo", path, errors, ServiceVisibility::exportToProblem);
    if (errors.size() > before) return null;
    return WorkloadEndpoint.newBuilder()
        .setNamespace(ns).setWorkload(workload).setInstance(instance)
        .setServices(services.stream().sorted().distinct().toList())
        .setAddress(address).setPorts(ports).setLabels(labels)
        .setNode(n.has("node") ? n.get("node").asText() : null)
        .setSpiffeId(spiffeId).setHealth(h).setEgressHosts(egress).setExportTo(exportTo).setUpdatedAt(now).build();
  }

  /** An optional list of strings, each checked; null when absent. */
  private static List<String> strings(JsonNode n, String field, String path, List<String> errors,
      java.util.function.Function<String, java.util.Optional<String>> problem) {
    JsonNode list = n.path(field);
    if (list.isMissingNode() || list.isNull()) return null;
    if (!list.isArray()) {
      errors.add(path + "." + field + ": not a list (expected: [\"…\", …])");
      return null;
    }
    List<String> out = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String v = list.get(i).asText("");
      java.util.Optional<String> wrong = problem.apply(v);
      if (wrong.isPresent()) errors.add(path + "." + field + "[" + i + "]: " + wrong.get());
      else out.add(v);
    }
    return out;
  }

  private static String name(JsonNode n, String field, String path, List<String> errors) {
    String v = n.path(field).asText("");
    if (v.isEmpty()) {
      errors.add(path + "." + field + ": missing (expected: a DNS label)");
    } else if (!DNS_LABEL.matcher(v).matches() || v.length() > 253) {
      errors.add(path + "." + field + ": \"" + v + "\" (expected: lower-case letters, digits, '-' and '.')");
    }
    return v;
  }

  /** Whether an instance came from the static registry. */
  public static boolean isStatic(RegisteredWorkload w) {
    return SOURCE_VALUE.equals(w.labels().get(SOURCE_LABEL));
  }
}
