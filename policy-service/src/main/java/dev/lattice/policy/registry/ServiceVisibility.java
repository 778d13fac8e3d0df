package dev.lattice.policy.registry;

import dev.lattice.policy.model.ServiceHost;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which services a workload instance may see, after Istio's model: a service is visible in the namespaces
 * its instances export it to ({@code exportTo}: {@code "."}, {@code "*"} or a namespace; none = {@code "*"}),
 * and an instance with an egress scope ({@code egressHosts}, Istio's {@code Sidecar.egress.hosts}:
 * {@code "namespace/host"}) sees only the visible services its scope matches. Stateless; thread-safe.
 *
 * <p>Scope entry: the namespace part is a name, {@code "."} (the instance's own) , {@code "*"} (any) or
 * {@code "~"} (none); the host part is {@code "*"}, {@code "*.suffix"} (matched against the canonical host and
 * its {@code .svc.cluster.local} form) or a host name (short names resolve in the entry's namespace).
 */
public final class ServiceVisibility {

  private static final Pattern NS = Pattern.compile("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
  private static final Pattern HOST = Pattern.compile("(\\*|\\*\\.[a-z0-9.-]+|[a-z0-9]([-a-z0-9.]*[a-z0-9])?)");

  private ServiceVisibility() {}

  /** What is wrong with one egress scope entry, or empty. */
  public static Optional<String> egressHostProblem(String entry) {
    int slash = entry == null ? -1 : entry.indexOf('/');
    if (slash < 0 || entry.indexOf('/', slash + 1) >= 0) {
      return Optional.of("\"" + entry + "\" (expected: namespace/host, e.g. \"./*\", \"prod/reviews\", \"*/*\")");
    }
    String ns = entry.substring(0, slash);
    String host = entry.substring(slash + 1);
    if (!ns.equals("*") && !ns.equals(".") && !ns.equals("~") && !NS.matcher(ns).matches()) {
      return Optional.of("\"" + entry + "\": namespace \"" + ns + "\" (expected: a namespace, '.', '*' or '~')");
    }
    if (!HOST.matcher(host).matches()) {
      return Optional.of("\"" + entry + "\": host \"" + host + "\" (expected: a host name, '*' or '*.suffix')");
    }
    return Optional.empty();
  }

  /** What is wrong with one exportTo entry, or empty. */
  public static Optional<String> exportToProblem(String entry) {
    if ("*".equals(entry) || ".".equals(entry) || (entry != null && NS.matcher(entry).matches())) {
      return Optional.empty();
    }
    return Optional.of("\"" + entry + "\" (expected: '.', '*' or a namespace)");
  }

  /** Whether one of {@code instances} (those backing a service) exports it to namespace {@code ns}. */
  public static boolean exportedTo(Collection<RegisteredWorkload> instances, String ns) {
    if (instances.isEmpty()) return true; // a host no registry entry backs carries no exportTo
    for (RegisteredWorkload w : instances) {
      if (w.namespace().equals(ns) || w.exportTo().isEmpty()) return true;
      for (String e : w.exportTo()) {
        if (e.equals("*") || e.equals(ns)) return true;
      }
    }
    return false;
  }

  /**
   * Whether {@code w}'s egress scope admits {@code host} (canonical), whose instances live in
   * {@code hostNamespaces}. No scope admits everything; a malformed entry admits nothing.
   */
  public static boolean inScope(RegisteredWorkload w, String host, Collection<String> hostNamespaces) {
    if (w.egressHosts() == null) return true;
    for (String entry : w.egressHosts()) {
      int slash = entry.indexOf('/');
      if (slash < 0) continue;
      String ns = entry.substring(0, slash);
      String pattern = entry.substring(slash + 1).toLowerCase(java.util.Locale.ROOT);
      if (ns.equals("~")) continue;
      String scopeNs = ns.equals(".") ? w.namespace() : ns;
      if (!ns.equals("*") && !namespaceOf(host, hostNamespaces).contains(scopeNs)) continue;
      if (hostMatches(pattern, host, ns.equals("*") ? null : scopeNs)) return true;
    }
    return false;
  }

  /**
   * The hosts {@code w}'s scope can match when every entry names one host in one namespace (a lookup each),
   * else empty (no scope, or a wildcard: the caller scans). Short names resolve in the entry's namespace.
   */
  public static Optional<Set<String>> exactHosts(RegisteredWorkload w) {
    if (w.egressHosts() == null) return Optional.empty();
    Set<String> out = new java.util.TreeSet<>();
    for (String entry : w.egressHosts()) {
      int slash = entry.indexOf('/');
      if (slash < 0) continue;
      String ns = entry.substring(0, slash);
      String pattern = entry.substring(slash + 1).toLowerCase(java.util.Locale.ROOT);
      if (ns.equals("~")) continue;
      if (ns.equals("*") || pattern.startsWith("*")) return Optional.empty();
      out.add(ServiceHost.canonical(pattern, ns.equals(".") ? w.namespace() : ns));
    }
    return Optional.of(out);
  }

  private static Collection<String> namespaceOf(String host, Collection<String> hostNamespaces) {
    if (!hostNamespaces.isEmpty()) return hostNamespaces;
    int dot = host.indexOf('.');
    // a canonical in-mesh host is service.namespace
    return dot > 0 && host.indexOf('.', dot + 1) < 0 ? List.of(host.substring(dot + 1)) : List.of();
  }

  private static boolean hostMatches(String pattern, String host, String ns) {
    if (pattern.equals("*")) return true;
    if (pattern.startsWith("*.")) {
      String suffix = pattern.substring(1);
      return host.endsWith(suffix) || (host + ServiceHost.CLUSTER_SUFFIX).endsWith(suffix);
    }
    if (ns == null) return ServiceHost.canonical(pattern, "").equals(host) || pattern.equals(host);
    return ServiceHost.canonical(pattern, ns).equals(host);
  }
}
