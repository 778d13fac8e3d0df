package dev.lattice.dataplane.proxy;

import dev.lattice.authz.PeerIdentity;
import java.security.cert.Certificate;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
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
    try {
      return found == null ? null : PeerIdentity.of(found);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
