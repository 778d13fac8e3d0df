package dev.lattice.testkit.tls;

import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throw-away SPIFFE certificate authority for tests: an EC P-256 self-signed root for one trust domain
 * that mints X.509-SVIDs shaped as X509-SVID §4-5 asks (exactly one URI SAN, leaf not a CA, digital
 * signature key usage, client and server auth), valid from the CA clock's now for a TTL. Use two
 * instances for "a foreign CA". Thread-safe; holds keys in memory only.
 */
public final class TestSpiffeCa {

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String trustDomain;
  private final KeyPair key;
  private final X509Certificate root;
  private final Clock clock;

  private TestSpiffeCa(String trustDomain, KeyPair key, X509Certificate root, Clock clock) {
    this.trustDomain = trustDomain;
    this.key = key;
    this.root = root;
    this.clock = clock;
  }

  /** A new root for {@code trustDomain} (e.g. {@code lattice.local}), valid for a day around now. */
  public static TestSpiffeCa create(String trustDomain) {
    return create(trustDomain, Clock.systemUTC());
  }

  /** A new root whose validity and SVIDs' validity start at {@code clock}'s now (a minute earlier, for skew). */
  public static TestSpiffeCa create(String trustDomain, Clock clock) {
    Objects.requireNonNull(trustDomain, "trustDomain");
    try {
      KeyPair key = newKey();
      X500Principal name = new X500Principal("O=Lattice test CA, CN=" + trustDomain);
      Instant now = clock.instant();
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(name, serial(), Date.from(now.minusSeconds(60)),
          Date.from(now.plus(Duration.ofDays(1))), name, key.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(key.getPublic()));
      b.addExtension(Extension.subjectAlternativeName, false,
          new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, "spiffe://" + trustDomain)));
      return new TestSpiffeCa(trustDomain, key, sign(b, key.getPrivate()), clock);
    } catch (Exception e) {
      throw new IllegalStateException("creating the test CA failed", e);
    }
  }

  public String trustDomain() {
    return trustDomain;
  }

  /** The root certificate (the trust bundle's one X.509 authority). */
  public X509Certificate root() {
    return root;
  }

  /** The root as PEM (a trust bundle file). */
  public String rootPem() {
    return TestSvid.pem("CERTIFICATE", encoded(root));
  }

  /** An X.509-SVID for {@code spiffeId} (a full {@code spiffe://} URI), valid for an hour. */
  public TestSvid issue(String spiffeId) {
    return issue(spiffeId, Duration.ofHours(1));
  }

  /** An X.509-SVID for {@code spiffeId} valid for {@code ttl} from the clock's now (negative = already expired). */
  public TestSvid issue(String spiffeId, Duration ttl) {
    return issue(List.of(spiffeId), ttl);
  }

  /** A leaf with the given URI SANs (zero or several make it not an SVID: for rejection tests). */
  public TestSvid issue(List<String> uriSans, Duration ttl) {
    try {
      KeyPair leafKey = newKey();
      Instant now = clock.instant();
      Instant notBefore = ttl.isNegative() ? now.plus(ttl).minus(Duration.ofHours(1)) : now.minusSeconds(60);
      Instant notAfter = now.plus(ttl);
      X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(root.getSubjectX500Principal(), serial(),
          Date.from(notBefore), Date.from(notAfter), new X500Principal("O=SPIFFE"), leafKey.getPublic());
      JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      b.addExtension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(root));
      if (!uriSans.isEmpty()) {
        b.addExtension(Extension.subjectAlternativeName, true, new GeneralNames(uriSans.stream()
            .map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u)).toArray(GeneralName[]::new)));
      }
      X509Certificate leaf = sign(b, key.getPrivate());
      return new TestSvid(uriSans.isEmpty() ? "" : uriSans.get(0), leafKey.getPrivate(), List.of(leaf, root));
    } catch (Exception e) {
      throw new IllegalStateException("issuing a test SVID for " + uriSans + " failed", e);
    }
  }

  private static KeyPair newKey() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
    return g.generateKeyPair();
  }

  private static BigInteger serial() {
    return new BigInteger(64, RANDOM).add(BigInteger.ONE);
  }

  private static X509Certificate sign(X509v3CertificateBuilder b, PrivateKey signer) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(
        b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(signer)));
  }

  static byte[] encoded(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
