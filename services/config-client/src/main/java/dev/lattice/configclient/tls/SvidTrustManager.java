package dev.lattice.configclient.tls;

import io.spiffe.spiffeid.SpiffeId;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies a TLS peer's X.509-SVID on both ends of the config stream: RFC 5280 path validation (JDK PKIX,
 * no revocation) against the current trust bundle, the SPIFFE leaf rules (X509-SVID §5.2: exactly one URI
 * SAN holding a SPIFFE ID with a path, not a CA), then a predicate on the SPIFFE ID (the distributor accepts
 * node SVIDs {@code spiffe://<td>/lattice/node/<id>}; a node accepts the distributor's ID). Extends
 * {@link X509ExtendedTrustManager} so the JDK adds no hostname check (SVIDs carry no DNS names).
 * Thread-safe; the anchors are read on every handshake, so bundle rotation needs no restart.
 */
public final class SvidTrustManager extends X509ExtendedTrustManager {

  private final Supplier<List<X509Certificate>> anchors;
  private final Predicate<SpiffeId> acceptPeer;
  private final String expected;

  /**
   * @param anchors the current X.509 authorities of the trust bundle
   * @param acceptPeer which peer SPIFFE IDs are acceptable
   * @param expected describes {@code acceptPeer} in errors, e.g. "a node SVID spiffe://td/lattice/node/&lt;id&gt;"
   */
  public SvidTrustManager(Supplier<List<X509Certificate>> anchors, Predicate<SpiffeId> acceptPeer, String expected) {
    this.anchors = Objects.requireNonNull(anchors, "anchors");
    this.acceptPeer = Objects.requireNonNull(acceptPeer, "acceptPeer");
    this.expected = Objects.requireNonNull(expected, "expected");
  }

  /** Validates {@code chain} (leaf first) and returns the peer's SPIFFE ID. */
  public SpiffeId verify(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateException("peer presented no certificate (expected: an X.509-SVID)");
    }
    X509Certificate leaf = chain[0];
    SpiffeId id = spiffeIdOf(leaf);
    if (leaf.getBasicConstraints() != -1) {
      throw new CertificateException("peer certificate is a CA (expected: a leaf X.509-SVID, X509-SVID §5.2)");
    }
    Set<TrustAnchor> trust = new HashSet<>();
    for (X509Certificate a : anchors.get()) {
      trust.add(new TrustAnchor(a, null));
    }
    if (trust.isEmpty()) {
      throw new CertificateException("no trust anchors loaded (expected: the trust bundle's X.509 authorities)");
    }
    try {
      List<X509Certificate> path = new ArrayList<>(Arrays.asList(chain));
      path.removeIf(c -> trust.stream().anyMatch(t -> t.getTrustedCert().equals(c)));
      PKIXParameters params = new PKIXParameters(trust);
      params.setRevocationEnabled(false);
      CertPathValidator.getInstance("PKIX").validate(CertificateFactory.getInstance("X.509").generateCertPath(path), params);
    } catch (GeneralSecurityException e) {
      throw new CertificateException("peer " + id + ": certificate chain does not verify against the trust bundle: "
          + e.getMessage(), e);
    }
    if (!acceptPeer.test(id)) {
      throw new CertificateException("peer " + id + " is not authorized (expected: " + expected + ")");
    }
    return id;
  }

  /** The single SPIFFE ID in {@code leaf}'s URI SANs. */
  public static SpiffeId spiffeIdOf(X509Certificate leaf) throws CertificateException {
    List<String> uris = new ArrayList<>();
    if (leaf.getSubjectAlternativeNames() != null) {
      for (List<?> san : leaf.getSubjectAlternativeNames()) {
        if (Integer.valueOf(6).equals(san.get(0))) {
          uris.add(san.get(1).toString());
        }
      }
    }
    if (uris.size() != 1) {
      throw new CertificateException("peer certificate has " + uris.size()
          + " URI SANs (expected: exactly one, X509-SVID §2)");
    }
    SpiffeId id;
    try {
      id = SpiffeId.parse(uris.get(0));
    } catch (RuntimeException e) {
      throw new CertificateException("peer URI SAN '" + uris.get(0) + "' is not a SPIFFE ID: " + e.getMessage());
    }
    if (id.getPath().isEmpty()) {
      throw new CertificateException("peer SPIFFE ID " + id + " has no path (expected: a leaf ID, X509-SVID §3.1)");
    }
    return id;
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    verify(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
    verify(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return anchors.get().toArray(X509Certificate[]::new);
  }
}
