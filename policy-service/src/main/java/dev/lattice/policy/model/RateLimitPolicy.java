package dev.lattice.policy.model;

import java.util.List;

/**
 * Local (per-node) token-bucket rate limits for workloads: per workload, per route and/or per source
 * principal; limited requests get {@code responseStatus} (429) with {@code retry-after}. Immutable value.
 */
public record RateLimitPolicy(ObjectMeta metadata, Spec spec) implements Resource {

  @Override
  public ResourceKind kind() {
    return ResourceKind.RATE_LIMIT_POLICY;
  }

  @Override
  public RateLimitPolicy withMetadata(ObjectMeta m) {
    return new RateLimitPolicy(m, spec);
  }

  /** The spec. */
  public record Spec(WorkloadSelector selector, List<Limit> limits, Integer responseStatus) {
    public Spec {
      limits = ModelCollections.list(limits);
    }

    /** {@code responseStatus}, 429 when unset. */
    public int responseStatusOrDefault() {
      return responseStatus == null ? 429 : responseStatus;
    }
  }

  /** One bucket: {@code requestsPerUnit} tokens per {@code unit}, up to {@code burst}. */
  public record Limit(
      String name, LimitMatch match, Long requestsPerUnit, Unit unit, Long burst, Boolean perSourcePrincipal, Scope scope,
      String perHeader) {
    /** A node-scoped limit without a descriptor header (the fields before scope/perHeader existed). */
    public Limit(String name, LimitMatch match, Long requestsPerUnit, Unit unit, Long burst, Boolean perSourcePrincipal) {
      this(name, match, requestsPerUnit, unit, burst, perSourcePrincipal, null, null);
    }
  }

  /** Who shares a bucket: the node (default) or each downstream connection. */
  public enum Scope { NODE, CONNECTION }

  /** Which requests count: every set condition must hold. */
  public record LimitMatch(List<String> routes, StringMatch uri, List<String> methods, List<String> sourcePrincipals) {
    public LimitMatch {
      routes = ModelCollections.list(routes);
      methods = ModelCollections.list(methods);
      sourcePrincipals = ModelCollections.list(sourcePrincipals);
    }
  }

  /** Time unit of a limit. */
  public enum Unit { SECOND, MINUTE, HOUR }
}
