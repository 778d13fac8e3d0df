package dev.lattice.policy.model;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;

/**
 * The five resource kinds of {@code lattice.dev/v1alpha1}. Immutable and thread-safe.
 */
public enum ResourceKind {
  TRAFFIC_ROUTE("TrafficRoute", "trafficroutes", "tr"),
  DESTINATION_POLICY("DestinationPolicy", "destinationpolicies", "dp"),
  PEER_AUTHENTICATION("PeerAuthentication", "peerauthentications", "pa"),
  AUTHORIZATION_POLICY("AuthorizationPolicy", "authorizationpolicies", "ap"),
  RATE_LIMIT_POLICY("RateLimitPolicy", "ratelimitpolicies", "rl");

  private final String kindName;
  private final String plural;
  private final String shortName;

  ResourceKind(String kindName, String plural, String shortName) {
    this.kindName = kindName;
    this.plural = plural;
    this.shortName = shortName;
  }

  /** The {@code kind:} value as written in YAML, e.g. {@code TrafficRoute}. */
  public String kindName() {
    return kindName;
  }

  /** Lower-case plural, as kubectl and the REST API use it: {@code trafficroutes}. */
  public String plural() {
    return plural;
  }

  /** Short alias accepted by the CLI: {@code tr}. */
  public String shortName() {
    return shortName;
  }

  /** The kind whose {@code kind:} value is exactly {@code kindName} (case-sensitive, as Kubernetes). */
  public static Optional<ResourceKind> fromKindName(String kindName) {
    return Arrays.stream(values()).filter(k -> k.kindName.equals(kindName)).findFirst();
  }

  /**
   * The kind named by a user on the command line or in a URL: the kind name, its plural or singular in
   * any case, or its short alias ({@code TrafficRoute}, {@code trafficroutes}, {@code trafficroute},
   * {@code tr}).
   */
  public static Optional<ResourceKind> lookup(String name) {
    String n = name.toLowerCase(Locale.ROOT);
    return Arrays.stream(values())
        .filter(k -> k.kindName.toLowerCase(Locale.ROOT).equals(n) || k.plural.equals(n)
            || k.shortName.equals(n))
        .findFirst();
  }

  /** The accepted kind names, for error messages. */
  public static String names() {
    return String.join(", ", Arrays.stream(values()).map(ResourceKind::kindName).toList());
  }
}
