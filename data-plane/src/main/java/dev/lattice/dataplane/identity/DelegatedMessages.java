package dev.lattice.dataplane.identity;

import com.google.protobuf.ByteString;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.delegated.v1.X509SVIDWithKey;
import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns Delegated Identity API messages into {@link HeldSvid}s and trust bundles, checking what the
 * proxy will rely on: each chain parses, its leaf names the SPIFFE ID the message claims (exactly one
 * URI SAN), and the key is PKCS#8 and belongs to the leaf. A message that fails a check is refused
 * whole ({@link IllegalArgumentException} saying what was wrong), so the proxy keeps what it had.
 * Stateless; thread-safe.
 */
final class DelegatedMessages {

  private DelegatedMessages() {}

  static List<HeldSvid> svids(SubscribeToX509SVIDsResponse response) {
    List<HeldSvid> out = new ArrayList<>();
    for (X509SVIDWithKey withKey : response.getX509SvidsList()) {
      out.add(svid(withKey));
    }
    return out;
  }

  static HeldSvid svid(X509SVIDWithKey withKey) {
    var id = withKey.getX509Svid().getId();
    if (id.getTrustDomain().isEmpty()) {
      throw new IllegalArgumentException("SVID without a SPIFFE ID (expected: id.trust_domain and id.path)");
    }
    String spiffeId = "spiffe://" + id.getTrustDomain() + id.getPath();
    List<X509Certificate> chain = new ArrayList<>();
    for (ByteString der : withKey.getX509Svid().getCertChainList()) {
      chain.addAll(certificates(der, "the chain of " + spiffeId));
    }
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("SVID " + spiffeId + ": empty certificate chain");
    }
    X509Certificate leaf = chain.get(0);
    List<String> uris = uriSans(leaf);
    if (!uris.equals(List.of(spiffeId))) {
      throw new IllegalArgumentException("SVID " + spiffeId + ": leaf URI SANs " + uris
          + " (expected: exactly [" + spiffeId + "])");
    }
    PrivateKey key = privateKey(withKey.getX509SvidKey(), leaf, spiffeId);
    return new HeldSvid(spiffeId, chain, key, leaf.getNotAfter().toInstant());
  }

  /** The bundles by trust domain name ({@code lattice.local}); keys may be SPIFFE IDs or bare names. */
  static Map<String, List<X509Certificate>> bundles(SubscribeToX509BundlesResponse response) {
    Map<String, List<X509Certificate>> out = new LinkedHashMap<>();
    response.getCaCertificatesMap().forEach((key, der) -> {
      String trustDomain = key.startsWith("spiffe://") ? key.substring("spiffe://".length()) : key;
      if (trustDomain.isEmpty() || trustDomain.contains("/")) {
        throw new IllegalArgumentException("bundle key: '" + key + "' (expected: spiffe://<trust-domain>)");
      }
      List<X509Certificate> roots = certificates(der, "the bundle of " + trustDomain);
      if (roots.isEmpty()) {
        throw new IllegalArgumentException("bundle of " + trustDomain + ": no certificate");
      }
      out.put(trustDomain, roots);
    });
    return out;
  }

  private static List<X509Certificate> certificates(ByteString der, String what) {
    try {
      return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(der.toByteArray()))
          .stream().map(c -> (X509Certificate) c).toList();
    } catch (CertificateException e) {
      throw new IllegalArgumentException(what + ": not DER certificates (" + e.getMessage() + ")");
    }
  }

  private static List<String> uriSans(X509Certificate leaf) {
    try {
      var sans = leaf.getSubjectAlternativeNames();
      if (sans == null) {
        return List.of();
      }
      return sans.stream().filter(n -> Integer.valueOf(6).equals(n.get(0))).map(n -> String.valueOf(n.get(1))).toList();
    } catch (CertificateException e) {
      throw new IllegalArgumentException("unreadable subject alternative names: " + e.getMessage());
    }
  }

  private static PrivateKey privateKey(ByteString pkcs8, X509Certificate leaf, String spiffeId) {
    String algorithm = leaf.getPublicKey().getAlgorithm();
    try {
      PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8.toByteArray()));
      if (!matches(key, leaf)) {
        throw new IllegalArgumentException("SVID " + spiffeId + ": the private key does not belong to the leaf");
      }
      return key;
    } catch (GeneralSecurityException e) {
      // never put key bytes in the message
      throw new IllegalArgumentException("SVID " + spiffeId + ": key is not PKCS#8 " + algorithm + " ("
          + e.getClass().getSimpleName() + ")");
    }
  }

  /** Signs a probe with the key and verifies it with the leaf's public key. */
  private static boolean matches(PrivateKey key, X509Certificate leaf) throws GeneralSecurityException {
    String algorithm = "EC".equals(key.getAlgorithm()) ? "SHA256withECDSA" : "SHA256with" + key.getAlgorithm();
    byte[] probe = Instant.now().toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    java.security.Signature signer = java.security.Signature.getInstance(algorithm);
    signer.initSign(key);
    signer.update(probe);
    byte[] signature = signer.sign();
    java.security.Signature verifier = java.security.Signature.getInstance(algorithm);
    verifier.initVerify(leaf.getPublicKey());
    verifier.update(probe);
    return verifier.verify(signature);
  }
}
