package dev.lattice.configclient;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.events.config.ConfigType;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * The references between compiled config resources, and the check that each one resolves
 * (java-control-plane's {@code Snapshot.ensureConsistent}): listener → route config, TCP clusters, peer
 * authentication, authorization and rate limit; route → clusters (weighted and mirror). The distributor
 * runs it before it serves a node's snapshot, the config client before it ACKs a response. Stateless.
 */
public final class ConfigReferences {

  /** One reference from a resource to another, by type and name. */
  public record Reference(ConfigType fromType, String fromName, ConfigType toType, String toName) {

    /** {@code "LISTENER inbound|8080 → ROUTE inbound|8080"}. */
    public String describe() {
      return fromType + " " + fromName + " → " + toType + " " + toName;
    }
  }

  /** A reference whose target is missing, with a message naming both ends. */
  public record Dangling(Reference reference) {

    public String message() {
      return reference.fromType() + " " + reference.fromName() + " references " + reference.toType() + " "
          + reference.toName() + ", which is not in the snapshot";
    }
  }

  private ConfigReferences() {}

  /** What {@code resource} references, in payload order (duplicates removed). */
  public static List<Reference> of(ConfigResource resource) {
    List<Reference> refs = new ArrayList<>();
    ConfigType type = resource.getType();
    String name = resource.getName();
    Object payload = resource.getPayload();
    if (payload instanceof ListenerConfig l) {
      add(refs, type, name, ConfigType.ROUTE, l.getRouteConfig());
      for (WeightedCluster c : l.getTcpClusters()) {
        add(refs, type, name, ConfigType.CLUSTER, c.getCluster());
      }
      add(refs, type, name, ConfigType.PEER_AUTHENTICATION, l.getPeerAuthentication());
      add(refs, type, name, ConfigType.AUTHORIZATION, l.getAuthorization());
      add(refs, type, name, ConfigType.RATE_LIMIT, l.getRateLimit());
    } else if (payload instanceof RouteConfig r) {
      for (VirtualHost vh : r.getVirtualHosts()) {
        for (RouteRule rule : vh.getRoutes()) {
          for (WeightedCluster c : rule.getClusters()) {
            add(refs, type, name, ConfigType.CLUSTER, c.getCluster());
          }
          add(refs, type, name, ConfigType.CLUSTER, rule.getMirrorCluster());
        }
      }
    }
    return List.copyOf(refs);
  }

  /**
   * The references of {@code resources} whose target {@code exists} does not know, in input order.
   *
   * @param exists whether a resource of that type and name is in the snapshot being checked
   */
  public static List<Dangling> dangling(Iterable<ConfigResource> resources, BiPredicate<ConfigType, String> exists) {
    List<Dangling> out = new ArrayList<>();
    for (ConfigResource r : resources) {
      for (Reference ref : of(r)) {
        if (!exists.test(ref.toType(), ref.toName())) {
          out.add(new Dangling(ref));
        }
      }
    }
    return out;
  }

  private static void add(List<Reference> refs, ConfigType fromType, String fromName, ConfigType toType, String toName) {
    if (toName == null || toName.isEmpty()) {
      return;
    }
    Reference ref = new Reference(fromType, fromName, toType, toName);
    if (!refs.contains(ref)) {
      refs.add(ref);
    }
  }
}
