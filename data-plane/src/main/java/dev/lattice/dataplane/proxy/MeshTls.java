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
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of the mesh's mTLS on inbound listeners (PeerAuthentication STRICT, and PERMISSIVE
 * when the client speaks TLS): presents the node's X.509-SVID from the {@link WorkloadIdentitySource}
 * and requires the peer's, verified against the trust bundles (RFC 5280 path, SPIFFE leaf rules).
 * A rotation builds a new context on the source's thread; new handshakes use it, established
 * connections keep theirs. The trust anchors are read per handshake, so bundle changes apply at once.
 * Thread-safe.
 */
final class MeshTls {
  private static final Logger LOG = LoggerFactory.getLogger(MeshTls.class);
  private final WorkloadIdentitySource source;
  private final TlsEngine engine;
  private final AtomicReference<SslContext> server = new AtomicReference<>();
  private volatile String problem = "no identity snapshot yet";

  MeshTls(WorkloadIdentitySource source, TlsEngine engine) {
    this.source = source;
    this.engine = engine;
    rebuild(source.current());
    source.addListener(this::rebuild);
  }

  private void rebuild(IdentitySnapshot snapshot) {
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
