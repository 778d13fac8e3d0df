package dev.lattice.policy.model;

import java.util.List;

/**
 * Access control for workloads, as Istio's {@code AuthorizationPolicy}. What Lattice parses but does not
 * support ({@code CUSTOM}, {@code provider}) is modeled so validation can name it instead of calling it
 * unknown. Immutable value.
 */
public record AuthorizationPolicy(ObjectMeta metadata, Spec spec) implements Resource {

  @Override
  public ResourceKind kind() {
    return ResourceKind.AUTHORIZATION_POLICY;
  }

  @Override
  public AuthorizationPolicy withMetadata(ObjectMeta m) {
    return new AuthorizationPolicy(m, spec);
  }

  /** The action, {@link Action#ALLOW} when unset. */
  public Action action() {
    return spec.action() == null ? Action.ALLOW : spec.action();
  }

  /** Whether the {@code lattice.dev/dry-run: "true"} annotation is set. */
  public boolean dryRun() {
    return metadata.dryRun();
  }

  /** The spec. {@code rules} absent: an ALLOW policy allows nothing, a DENY policy denies nothing. */
  public record Spec(WorkloadSelector selector, Action action, List<Rule> rules, Object provider) {
    public Spec {
      rules = ModelCollections.list(rules);
    }
  }

  /** Istio's {@code AuthorizationPolicy.Action}; CUSTOM is rejected by validation. */
  public enum Action { ALLOW, DENY, AUDIT, CUSTOM }

  /** A rule: any {@code from} AND any {@code to} AND every {@code when} (absent lists match all). */
  public record Rule(List<From> from, List<To> to, List<Condition> when) {
    public Rule {
      from = ModelCollections.list(from);
      to = ModelCollections.list(to);
      when = ModelCollections.list(when);
    }
  }

  /** Istio's {@code Rule.From}. */
  public record From(Source source) {}

  /** Istio's {@code Rule.To}. */
  public record To(Operation operation) {}

  /** Peer conditions, as Istio's {@code Source}: fields ANDed, values ORed. */
  public record Source(
      List<String> principals, List<String> notPrincipals,
      List<String> requestPrincipals, List<String> notRequestPrincipals,
      List<String> namespaces, List<String> notNamespaces,
      List<String> ipBlocks, List<String> notIpBlocks,
      List<String> remoteIpBlocks, List<String> notRemoteIpBlocks,
      List<String> serviceAccounts, List<String> notServiceAccounts) {
    public Source {
      principals = ModelCollections.list(principals);
      notPrincipals = ModelCollections.list(notPrincipals);
      requestPrincipals = ModelCollections.list(requestPrincipals);
      notRequestPrincipals = ModelCollections.list(notRequestPrincipals);
      namespaces = ModelCollections.list(namespaces);
      notNamespaces = ModelCollections.list(notNamespaces);
      ipBlocks = ModelCollections.list(ipBlocks);
      notIpBlocks = ModelCollections.list(notIpBlocks);
      remoteIpBlocks = ModelCollections.list(remoteIpBlocks);
      notRemoteIpBlocks = ModelCollections.list(notRemoteIpBlocks);
      serviceAccounts = ModelCollections.list(serviceAccounts);
      notServiceAccounts = ModelCollections.list(notServiceAccounts);
    }
  }

  /** Request conditions, as Istio's {@code Operation}: fields ANDed, values ORed. */
  public record Operation(
      List<String> hosts, List<String> notHosts, List<String> ports, List<String> notPorts,
      List<String> methods, List<String> notMethods, List<String> paths, List<String> notPaths) {
    public Operation {
      hosts = ModelCollections.list(hosts);
      notHosts = ModelCollections.list(notHosts);
      ports = ModelCollections.list(ports);
      notPorts = ModelCollections.list(notPorts);
      methods = ModelCollections.list(methods);
      notMethods = ModelCollections.list(notMethods);
      paths = ModelCollections.list(paths);
      notPaths = ModelCollections.list(notPaths);
    }
  }

  /** An attribute condition, as Istio's {@code Condition}. */
  public record Condition(String key, List<String> values, List<String> notValues) {
    public Condition {
      values = ModelCollections.list(values);
      notValues = ModelCollections.list(notValues);
    }
  }
}
