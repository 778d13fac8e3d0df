package dev.lattice.distributor.server;

import dev.lattice.configclient.tls.NodeSpiffeIds;
import dev.lattice.configclient.tls.SvidTrustManager;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.net.KeyCertOptions;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The config stream's mTLS: the distributor's own certificate (its SVID) and the trust bundle node SVIDs
 * must chain to. Only node SVIDs of {@code trustDomain} ({@code spiffe://<td>/lattice/node/<id>}) pass the
 * handshake; a client without a certificate fails it. Immutable; the key material may rotate behind
 * {@code serverKeys} (e.g. {@code KeyCertOptions.wrap(rotatingKeyManager)}) and {@code anchors} is read
 * on every handshake.
 */
public record StreamTls(TrustDomain trustDomain, KeyCertOptions serverKeys, Supplier<List<X509Certificate>> anchors) {

  public StreamTls {
    Objects.requireNonNull(trustDomain, "trustDomain");
    Objects.requireNonNull(serverKeys, "serverKeys");
    Objects.requireNonNull(anchors, "anchors");
  }

  /** The trust manager checking client certificates. */
  public SvidTrustManager clientTrust() {
    return new SvidTrustManager(anchors, id -> NodeSpiffeIds.nodeOf(id, trustDomain).isPresent(),
        "a node SVID spiffe://" + trustDomain.getName() + NodeSpiffeIds.NODE_PATH_PREFIX + "<id>");
  }
}
