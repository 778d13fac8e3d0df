package dev.lattice.dataplane.proxy;

import dev.lattice.configclient.tls.SvidTrustManager;
import dev.lattice.dataplane.identity.HeldSvid;
import dev.lattice.dataplane.identity.IdentitySnapshot;
import dev.lattice.dataplane.identity.WorkloadIdentitySource;
import dev.lattice.dataplane.tls.TlsEngine;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh's mTLS contexts. Server side, on inbound listeners (PeerAuthentication STRICT, and PERMISSIVE
 * when the client speaks TLS): one context per held SVID; a listener in front of a workload (its inbound
 * cluster's endpoints name the workload's {@code spiffeId}) presents that workload's X.509-SVID from the
 * {@link WorkloadIdentitySource}; a listener naming none, or whose workload's SVID is not held while the
 * source holds only the node's SVID ({@code /lattice/node/}, file mode), presents the node's; requires the
 * peer's, verified against the trust bundles (RFC 5280 path, SPIFFE leaf rules).
 * Client side, to clusters with {@code mtls} (see {@link MeshTarget}): one context per held SVID,
 * verifying the server against the same bundles (its expected SPIFFE ID is checked after the handshake).
 * A rotation builds new contexts on the source's thread; new handshakes use them, established
 * connections keep theirs. The trust anchors are read per handshake, so bundle changes apply at once.
 * Thread-safe.
 */
final class MeshTls {
  private static final Logger LOG = LoggerFactory.getLogger(MeshTls.class);
  private final WorkloadIdentitySource source;
  private final TlsEngine engine;
  private volatile Map<String, SslContext> servers = Map.of();
  private volatile Map<String, SslContext> clients = Map.of();

  MeshTls(WorkloadIdentitySource source, TlsEngine engine) {
    this.source = source;
    this.engine = engine;
    rebuild(source.current());
    source.addListener(this::rebuild);
  }

  private void rebuild(IdentitySnapshot snapshot) {
    rebuildClients(snapshot);
    Map<String, SslContext> previous = servers;
    Map<String, SslContext> next = new HashMap<>();
    for (HeldSvid svid : snapshot.svids().values()) {
      try {
        next.put(svid.spiffeId(), SslContextBuilder.forServer(svid.privateKey(), svid.chain().toArray(X509Certificate[]::new))
            .sslProvider(engine.provider())
            .protocols("TLSv1.3", "TLSv1.2")
            .trustManager(new SvidTrustManager(this::anchors, id -> true, "an X.509-SVID of a trust domain in the node's bundles"))
            .clientAuth(ClientAuth.REQUIRE)
            .build());
      } catch (Exception e) {
        LOG.warn("inbound mTLS: cannot build the TLS context from {}: {}; keeping the previous certificate", svid, e.getMessage());
        SslContext old = previous.get(svid.spiffeId());
        if (old != null) {
          next.put(svid.spiffeId(), old);
        }
      }
    }
    if (next.isEmpty() && !previous.isEmpty() && !snapshot.svids().isEmpty()) {
      return; // nothing built: keep serving what we had
    }
    servers = Map.copyOf(next);
  }

  private void rebuildClients(IdentitySnapshot snapshot) {
    Map<String, SslContext> next = new HashMap<>();
    for (HeldSvid svid : snapshot.svids().values()) {
      try {
        next.put(svid.spiffeId(), SslContextBuilder.forClient()
            .keyManager(svid.privateKey(), svid.chain().toArray(X509Certificate[]::new))
            .sslProvider(engine.provider())
            .protocols("TLSv1.3", "TLSv1.2")
            // SVIDs carry no DNS names: the SPIFFE ID is the server's identity, checked by the trust manager and MeshTarget
            .endpointIdentificationAlgorithm(null)
            .trustManager(new SvidTrustManager(this::anchors, id -> true, "an X.509-SVID of a trust domain in the node's bundles"))
            .build());
      } catch (Exception e) {
        LOG.warn("outbound mTLS: cannot build the TLS context from {}: {}; keeping the previous one", svid, e.getMessage());
        SslContext old = clients.get(svid.spiffeId());
        if (old != null) {
          next.put(svid.spiffeId(), old);
        }
      }
    }
    clients = Map.copyOf(next);
  }

  /**
   * The client context presenting {@code source}'s SVID (the caller's workload); when it is null or not held,
   * the proxy's only SVID (file mode: the node's; as before callers were told apart), else null.
   */
  SslContext clientContext(String source) {
    Map<String, SslContext> c = clients;
    if (source != null) {
      SslContext own = c.get(source);
      if (own != null) {
        return own;
      }
    }
    return c.size() == 1 ? c.values().iterator().next() : null;
  }

  /** SPIFFE IDs of the SVIDs the proxy can present upstream (error messages). */
  java.util.Set<String> clientIdentities() {
    return clients.keySet();
  }

  private List<X509Certificate> anchors() {
    List<X509Certificate> all = new ArrayList<>();
    source.current().bundles().values().forEach(all::addAll);
    return all;
  }

  /**
   * The context for a new handshake on an inbound listener in front of {@code workload} (its SPIFFE ID; null when
   * the listener names none: the node's only SVID), or null with {@link #problem(String)} saying why there is none.
   */
  SslContext serverContext(String workload) {
    Map<String, SslContext> s = servers;
    SslContext own = workload == null ? null : s.get(workload);
    if (own != null || s.size() != 1) {
      return own;
    }
    // file mode: the node's only SVID serves every inbound listener; never another workload's identity
    Map.Entry<String, SslContext> only = s.entrySet().iterator().next();
    return workload == null || isNodeId(only.getKey()) ? only.getValue() : null;
  }

  /** A node SVID ({@code spiffe://<td>/lattice/node/<name>}), as opposed to a workload's. */
  private static boolean isNodeId(String spiffeId) {
    int path = spiffeId.indexOf('/', "spiffe://".length());
    return path > 0 && spiffeId.startsWith("/lattice/node/", path);
  }

  /** Why {@link #serverContext(String)} has nothing for {@code workload} (logs). */
  String problem(String workload) {
    Map<String, SslContext> s = servers;
    if (workload != null) {
      return "the identity source holds no SVID for " + workload + " nor only the node's (it holds "
          + new java.util.TreeSet<>(s.keySet()) + ")";
    }
    return "the listener names no workload SPIFFE ID and the identity source holds " + s.size()
        + " SVIDs (expected: exactly one, the node's, or the inbound cluster's endpoint naming its spiffeId)";
  }
}
