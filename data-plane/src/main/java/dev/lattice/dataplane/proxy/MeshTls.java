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
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The mesh's mTLS contexts. Server side, on inbound listeners (PeerAuthentication STRICT, and PERMISSIVE
 * when the client speaks TLS): presents the node's X.509-SVID from the {@link WorkloadIdentitySource}
 * and requires the peer's, verified against the trust bundles (RFC 5280 path, SPIFFE leaf rules).
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
  private final AtomicReference<SslContext> server = new AtomicReference<>();
  private volatile Map<String, SslContext> clients = Map.of();
  private volatile String problem = "no identity snapshot yet";

  MeshTls(WorkloadIdentitySource source, TlsEngine engine) {
    this.source = source;
    this.engine = engine;
    rebuild(source.current());
    source.addListener(this::rebuild);
  }

  private void rebuild(IdentitySnapshot snapshot) {
    rebuildClients(snapshot);
    if (snapshot.svids().size() != 1) {
      // ambient mode will pick the destination workload's SVID; file mode serves the node's one
      problem = "the identity source holds " + snapshot.svids().size() + " SVIDs (expected: exactly one, the node's)";
      LOG.warn("inbound mTLS: {}; keeping the previous certificate", problem);
      return;
    }
    HeldSvid svid = snapshot.svids().values().iterator().next();
    try {
      SslContext ctx = SslContextBuilder.forServer(svid.privateKey(), svid.chain().toArray(X509Certificate[]::new))
          .sslProvider(engine.provider())
          .protocols("TLSv1.3", "TLSv1.2")
          .trustManager(new SvidTrustManager(this::anchors, id -> true, "an X.509-SVID of a trust domain in the node's bundles"))
          .clientAuth(ClientAuth.REQUIRE)
          .build();
      server.set(ctx);
      problem = null;
    } catch (Exception e) {
      problem = "cannot build the TLS context from " + svid + ": " + e.getMessage();
      LOG.warn("inbound mTLS: {}; keeping the previous certificate", problem);
    }
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
   * The client context presenting {@code source}'s SVID (null: the node's only SVID), or null when the
   * proxy holds no such SVID.
   */
  SslContext clientContext(String source) {
    Map<String, SslContext> c = clients;
    if (source != null) {
      return c.get(source);
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

  /** The context for a new handshake, or null with {@link #problem()} saying why there is none. */
  SslContext serverContext() {
    return server.get();
  }

  String problem() {
    return problem;
  }
}
