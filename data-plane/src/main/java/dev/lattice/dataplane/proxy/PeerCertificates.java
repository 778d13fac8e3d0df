package dev.lattice.dataplane.proxy;

import dev.lattice.authz.PeerIdentity;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * The peer identity of a TLS session whose client certificate was verified: the certificate's single
 * {@code spiffe://} URI SAN (an X.509-SVID has exactly one, SPIFFE X509-SVID §2). Anything else — no
 * client certificate, no SPIFFE URI, or several — gives no identity. Stateless.
 */
final class PeerCertificates {
  private static final int URI_SAN = 6;

  private PeerCertificates() {}

  /**
   * Envoy's {@code x-forwarded-client-cert} for a verified peer: {@code By=<our SPIFFE ID>;Hash=<hex
   * SHA-256 of the peer's leaf DER>;URI=<peer SPIFFE ID>} ({@code By} left out when our certificate has
   * no SPIFFE URI, e.g. an ingress certificate).
   */
  static String forwardedClientCert(SSLSession session, PeerIdentity peer) {
    StringBuilder b = new StringBuilder(160);
    Certificate[] local = session.getLocalCertificates();
    String by = local != null && local.length > 0 && local[0] instanceof X509Certificate l ? spiffeUri(l) : null;
    if (by != null) {
      b.append("By=").append(by).append(';');
    }
    try {
      byte[] der = session.getPeerCertificates()[0].getEncoded();
      b.append("Hash=").append(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(der))).append(';');
    } catch (GeneralSecurityException | SSLPeerUnverifiedException e) {
      // no hash then; the URI still identifies the peer
    }
    return b.append("URI=").append(peer.spiffeId()).toString();
  }

  static PeerIdentity spiffePeer(SSLSession session) {
    Certificate[] chain;
    try {
      chain = session.getPeerCertificates();
    } catch (SSLPeerUnverifiedException e) {
      return null;
    }
    if (chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
      return null;
    }
    String found = spiffeUri(leaf);
    try {
      return found == null ? null : PeerIdentity.of(found);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The certificate's single {@code spiffe://} URI SAN, or null (none, several, or unparseable SANs). */
  private static String spiffeUri(X509Certificate leaf) {
    String found = null;
    try {
      Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
      if (sans == null) {
        return null;
      }
      for (List<?> san : sans) {
        if (san.size() >= 2 && san.get(0) instanceof Integer type && type == URI_SAN
            && san.get(1) instanceof String uri && uri.startsWith(PeerIdentity.SCHEME)) {
          if (found != null) {
            return null;
          }
          found = uri;
        }
      }
    } catch (CertificateParsingException e) {
      return null;
    }
    return found;
  }
}
