package dev.lattice.configclient.tls;

import dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPathValidator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A node SVID as the agent's NodeIdentity service hands it to the data plane, checked.
 *
 * @param id {@code spiffe://<td>/lattice/node/<node>}
 * @param key the SVID's private key (made by the agent on this node)
 * @param chain leaf first
 * @param bundle the trust domain's X.509 authorities
 */
public record NodeSvid(SpiffeId id, PrivateKey key, List<X509Certificate> chain, List<X509Certificate> bundle,
    Instant expiresAt) {

  public NodeSvid {
    chain = List.copyOf(chain);
    bundle = List.copyOf(bundle);
  }

  /** The node id (the {@code <node>} of the SPIFFE ID). */
  public String node() {
    return NodeSpiffeIds.nodeOf(id, id.getTrustDomain()).orElseThrow();
  }

  /**
   * Parses and checks a message: a node SPIFFE ID of {@code trustDomain} matching the leaf's URI SAN, a
   * private key matching the leaf's public key, a chain that verifies to the bundle at {@code now}.
   *
   * @throws IllegalArgumentException naming what is wrong
   */
  public static NodeSvid parse(SubscribeToNodeX509SVIDResponse message, TrustDomain trustDomain, Instant now) {
    if (!message.hasSvid() || message.getSvid().getCertChainCount() == 0) {
      throw new IllegalArgumentException("svid: no certificate chain");
    }
    SpiffeId id;
    try {
      String path = message.getSvid().getId().getPath();
      id = SpiffeId.parse("spiffe://" + message.getSvid().getId().getTrustDomain() + path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("svid.id: " + e.getMessage());
    }
    if (NodeSpiffeIds.nodeOf(id, trustDomain).isEmpty()) {
      throw new IllegalArgumentException("svid.id: " + id + " (expected: a node SVID spiffe://"
          + trustDomain.getName() + NodeSpiffeIds.NODE_PATH_PREFIX + "<id>)");
    }
    List<X509Certificate> chain = new ArrayList<>();
    for (var der : message.getSvid().getCertChainList()) {
      chain.addAll(certificates(der.toByteArray(), "svid.cert_chain"));
    }
    X509Certificate leaf = chain.get(0);
    SpiffeId inLeaf;
    try {
      inLeaf = SvidTrustManager.spiffeIdOf(leaf);
    } catch (CertificateException e) {
      throw new IllegalArgumentException("svid.cert_chain: leaf: " + e.getMessage());
    }
    if (!inLeaf.equals(id)) {
      throw new IllegalArgumentException("svid.id: " + id + " but the leaf certifies " + inLeaf);
    }
    if (message.getSvidKey().isEmpty()) {
      throw new IllegalArgumentException("svid_key: empty (expected: the SVID's PKCS#8 private key)");
    }
    PrivateKey key = privateKey(message.getSvidKey().toByteArray(), leaf);
    if (message.getBundle().isEmpty()) {
      throw new IllegalArgumentException("bundle: empty (expected: the trust domain's X.509 authorities)");
    }
    List<X509Certificate> bundle = certificates(message.getBundle().toByteArray(), "bundle");
    try {
      PKIXParameters pkix = new PKIXParameters(bundle.stream().map(r -> new TrustAnchor(r, null))
          .collect(Collectors.toSet()));
      pkix.setRevocationEnabled(false);
      pkix.setDate(java.util.Date.from(now));
      CertPathValidator.getInstance("PKIX").validate(
          CertificateFactory.getInstance("X.509").generateCertPath(chain), pkix);
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("svid.cert_chain: does not verify to the bundle now: " + e.getMessage());
    }
    return new NodeSvid(id, key, chain, bundle, leaf.getNotAfter().toInstant());
  }

  private static List<X509Certificate> certificates(byte[] der, String field) {
    try {
      List<X509Certificate> out = new ArrayList<>();
      CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(der))
          .forEach(c -> out.add((X509Certificate) c));
      if (out.isEmpty()) {
        throw new IllegalArgumentException(field + ": no certificate");
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException(field + ": not DER X.509 certificates: " + e.getMessage());
    }
  }

  private static PrivateKey privateKey(byte[] pkcs8, X509Certificate leaf) {
    String algorithm = leaf.getPublicKey().getAlgorithm();
    try {
      PrivateKey key = KeyFactory.getInstance(algorithm).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
      String scheme = "EC".equals(algorithm) ? "SHA256withECDSA" : "SHA256with" + algorithm;
      byte[] proof = "lattice node svid".getBytes(StandardCharsets.UTF_8);
      Signature signer = Signature.getInstance(scheme);
      signer.initSign(key);
      signer.update(proof);
      byte[] signature = signer.sign();
      Signature verifier = Signature.getInstance(scheme);
      verifier.initVerify(leaf.getPublicKey());
      verifier.update(proof);
      if (!verifier.verify(signature)) {
        throw new IllegalArgumentException("svid_key: does not match the leaf's public key");
      }
      return key;
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException("svid_key: not a PKCS#8 " + algorithm + " key of the leaf: " + e.getMessage());
    }
  }

  @Override
  public String toString() {
    return "NodeSvid[" + id + ", until " + expiresAt + "]"; // never the key
  }
}
