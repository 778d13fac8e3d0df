package dev.lattice.configclient.tls;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.util.Optional;

/**
 * The SPIFFE IDs on the config stream, as the identity service issues them: a node's SVID is
 * {@code spiffe://<td>/lattice/node/<id>} (the {@code <id>} is the node name of the {@code lattice.config.v1}
 * keys) and the distributor's is {@code spiffe://<td>/lattice/distributor}. Stateless.
 */
public final class NodeSpiffeIds {

  /** Path prefix of node SVIDs. */
  public static final String NODE_PATH_PREFIX = "/lattice/node/";
  /** Path of the distributor's SVID. */
  public static final String DISTRIBUTOR_PATH = "/lattice/distributor";

  private NodeSpiffeIds() {}

  /** {@code spiffe://<td>/lattice/node/<node>}. */
  public static SpiffeId node(TrustDomain trustDomain, String node) {
    return SpiffeId.parse("spiffe://" + trustDomain.getName() + NODE_PATH_PREFIX + node);
  }

  /** {@code spiffe://<td>/lattice/distributor}. */
  public static SpiffeId distributor(TrustDomain trustDomain) {
    return SpiffeId.parse("spiffe://" + trustDomain.getName() + DISTRIBUTOR_PATH);
  }

  /** The node id of a node SVID of {@code trustDomain}; empty for any other ID. */
  public static Optional<String> nodeOf(SpiffeId id, TrustDomain trustDomain) {
    if (!id.memberOf(trustDomain) || !id.getPath().startsWith(NODE_PATH_PREFIX)) {
      return Optional.empty();
    }
    String node = id.getPath().substring(NODE_PATH_PREFIX.length());
    return node.isEmpty() || node.indexOf('/') >= 0 ? Optional.empty() : Optional.of(node);
  }
}
