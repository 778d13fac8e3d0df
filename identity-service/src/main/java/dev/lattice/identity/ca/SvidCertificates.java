package dev.lattice.identity.ca;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.CertIOException;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;

/**
 * Builds the three certificate shapes of the X509-SVID standard with BouncyCastle:
 * <ul>
 *   <li>root and intermediate signing certificates (§3.2, §4.1, §4.3): {@code cA=true} with a
 *       {@code pathLenConstraint} (root 1, intermediate 0), key usage {@code keyCertSign|cRLSign}
 *       (critical), URI SAN {@code spiffe://<td>} without a path;</li>
 *   <li>leaf SVIDs (§2, §3.1, §4.1, §4.3, §4.4): exactly one URI SAN, {@code cA=false} (critical),
 *       key usage {@code digitalSignature} (critical; {@code keyEncipherment} is added only for RSA
 *       keys, where §4.3 says it can make sense — Lattice accepts only EC P-256 keys, so in practice it
 *       is never set), EKU {@code serverAuth+clientAuth}, optional DNS SANs, random serial of 127
 *       significant bits.</li>
 * </ul>
 * The CA issues leaves through {@link LeafCertificateEncoder} (a pre-encoded template, same TBS bytes);
 * {@link #leaf} is the reference it is tested against.
 * Stateless and thread-safe.
 */
public final class SvidCertificates {

  private static final JcaX509CertificateConverter CONVERTER = new JcaX509CertificateConverter();

  private SvidCertificates() {}

  /** The parameters of a signing (CA) certificate. */
  public record CaTemplate(TrustDomain trustDomain, String commonName, PublicKey publicKey,
      Instant notBefore, Instant notAfter, int pathLength) {}

  /** A self-signed root. */
  public static X509Certificate selfSignedRoot(CaTemplate template, PrivateKey key, SignatureProvider signer) {
    X500Name name = name(template.commonName());
    return build(caBuilder(template, name, name, null), key, signer);
  }

  /** A CA certificate signed by {@code issuer} with {@code issuerKey}. */
  public static X509Certificate signingCa(CaTemplate template, X509Certificate issuer, PrivateKey issuerKey,
      SignatureProvider signer) {
    X500Name subject = name(template.commonName());
    X500Name issuerName = X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
    return build(caBuilder(template, issuerName, subject, issuer), issuerKey, signer);
  }

  /** A leaf X.509-SVID signed by {@code issuer}. */
  public static X509Certificate leaf(SpiffeId spiffeId, PublicKey publicKey, List<String> dnsNames,
      Instant notBefore, Instant notAfter, X509Certificate issuer, PrivateKey issuerKey, SignatureProvider signer) {
    return leaf(serial(), spiffeId, publicKey, dnsNames, notBefore, notAfter, issuer, issuerKey, signer);
  }

  /**
   * The reference leaf builder (BouncyCastle's certificate builder, every field built per call) with a
   * given serial. The CA issues through {@link LeafCertificateEncoder}, which produces the same TBS
   * certificate from a pre-encoded template.
   */
  static X509Certificate leaf(BigInteger serial, SpiffeId spiffeId, PublicKey publicKey, List<String> dnsNames,
      Instant notBefore, Instant notAfter, X509Certificate issuer, PrivateKey issuerKey, SignatureProvider signer) {
    try {
      JcaX509ExtensionUtils ext = EXTENSION_UTILS.get();
      IssuerFacts facts = ISSUERS.computeIfAbsent(issuer, SvidCertificates::issuerFacts);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(facts.name(), serial,
          Date.from(notBefore), Date.from(notAfter), LeafCertificateEncoder.leafSubject(), publicKey);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      int usage = KeyUsage.digitalSignature;
      if ("RSA".equals(publicKey.getAlgorithm())) {
        usage |= KeyUsage.keyEncipherment; // X509-SVID §4.3: "mostly make sense only for ... RSA keys"
      }
      b.addExtension(Extension.keyUsage, true, new KeyUsage(usage));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      List<GeneralName> names = new ArrayList<>();
      names.add(new GeneralName(GeneralName.uniformResourceIdentifier, spiffeId.toString()));
      for (String dns : dnsNames) {
        names.add(new GeneralName(GeneralName.dNSName, dns));
      }
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(names.toArray(GeneralName[]::new)));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(publicKey));
      b.addExtension(Extension.authorityKeyIdentifier, false, facts.authorityKeyId());
      return build(b, issuerKey, signer);
    } catch (CertIOException e) {
      throw new IllegalStateException("cannot build X.509-SVID for " + spiffeId, e);
    }
  }

  // Per-issuer values every leaf repeats: parsed once per intermediate, not once per SVID.
  private record IssuerFacts(X500Name name, org.bouncycastle.asn1.x509.AuthorityKeyIdentifier authorityKeyId) {}

  private static final java.util.Map<X509Certificate, IssuerFacts> ISSUERS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
  private static final ThreadLocal<JcaX509ExtensionUtils> EXTENSION_UTILS = ThreadLocal.withInitial(() -> {
    try {
      return new JcaX509ExtensionUtils();
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  });

  private static IssuerFacts issuerFacts(X509Certificate issuer) {
    try {
      return new IssuerFacts(X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()),
          EXTENSION_UTILS.get().createAuthorityKeyIdentifier(issuer));
    } catch (java.security.cert.CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A random positive serial of 127 significant bits (RFC 5280 §4.1.2.2 allows up to 20 octets). */
  static BigInteger serial() {
    return LeafCertificateEncoder.serial();
  }

  private static X509v3CertificateBuilder caBuilder(CaTemplate t, X500Name issuer, X500Name subject,
      X509Certificate issuerCert) {
    try {
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuer, serial(),
          Date.from(t.notBefore()), Date.from(t.notAfter()), subject, t.publicKey());
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(t.pathLength()));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectAlternativeName, false, new GeneralNames(
          new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + t.trustDomain())));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(t.publicKey()));
      if (issuerCert != null) {
        b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuerCert));
      }
      return b;
    } catch (GeneralSecurityException | CertIOException e) {
      throw new IllegalStateException("cannot build CA certificate " + t.commonName(), e);
    }
  }

  private static X509Certificate build(X509v3CertificateBuilder builder, PrivateKey key, SignatureProvider signer) {
    try {
      return CONVERTER.getCertificate(builder.build(signer.contentSigner(key)));
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot encode certificate", e);
    }
  }

  private static X500Name name(String commonName) {
    if (commonName.length() > 64) { // RFC 5280 ub-common-name
      commonName = commonName.substring(commonName.length() - 64);
    }
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Lattice").addRDN(BCStyle.CN, commonName).build();
  }
}
