package dev.lattice.policy.model;

import java.util.Locale;

/**
 * Canonical service host names. Istio users write {@code reviews}, {@code reviews.default} or
 * {@code reviews.default.svc.cluster.local} for the same service; Lattice's canonical form is
 * {@code <service>.<namespace>} (lower case). Short names resolve against the namespace of the resource
 * that mentions them; names with two or more labels that do not end in {@code .svc.cluster.local} are
 * external hosts and stay as written (lower-cased). Stateless.
 */
public final class ServiceHost {
  /** The Kubernetes cluster-local suffix stripped by {@link #canonical}. */
  public static final String CLUSTER_SUFFIX = ".svc.cluster.local";

  private ServiceHost() {}

  /**
   * The canonical form of {@code host} written in a resource of namespace {@code namespace}:
   * {@code reviews} in {@code default} → {@code reviews.default};
   * {@code reviews.prod.svc.cluster.local} → {@code reviews.prod}; {@code *.example.com} unchanged.
   */
  public static String canonical(String host, String namespace) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.endsWith(CLUSTER_SUFFIX)) return h.substring(0, h.length() - CLUSTER_SUFFIX.length());
    if (h.endsWith(".svc")) return h.substring(0, h.length() - 4);
    if (h.indexOf('.') < 0 && !h.equals("*")) return h + "." + namespace;
    return h;
  }
}
