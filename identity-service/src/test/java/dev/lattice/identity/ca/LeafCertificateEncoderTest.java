package dev.lattice.identity.ca;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.identity.signing.Csrs;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import io.spiffe.spiffeid.SpiffeId;
import java.math.BigInteger;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.PublicKey;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.cert.X509CertificateHolder;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The pre-encoded leaf template against the reference BouncyCastle builder: same TBS certificate bytes
 * for the same inputs, and the same fields, extensions, criticality and order; and the hand-walked CSR
 * path against BouncyCastle's parser.
 */
class LeafCertificateEncoderTest {

  static final SpiffeId ID = SpiffeIds.parseLeaf("spiffe://lattice.local/ns/default/sa/web");
  @TempDir Path dir;

  static Stream<SignatureProvider> providers() {
    List<SignatureProvider> all = new ArrayList<>(List.of(SignatureProvider.jdk()));
    SignatureProvider.conscrypt().ifPresent(all::add);
    return all.stream();
  }

  CaAuthority authority(SignatureProvider provider) throws Exception {
    return CertificateAuthority.open(CertificateAuthority.Settings.defaults(TrustDomains.parse("lattice.local")),
        provider, CaKeyStore.open(dir.resolve(provider.name()), null), new MutableClock(Instant.parse("2026-01-01T00:00:00Z")))
        .active();
  }

  @ParameterizedTest
  @MethodSource("providers")
  void templateEncodesTheSameTbsCertificateAsTheBuilder(SignatureProvider provider) throws Exception {
    CaAuthority ca = authority(provider);
    LeafCertificateEncoder encoder = LeafCertificateEncoder.of(ca.intermediate(), ca.intermediateKey(), provider);
    KeyPair ec = CaKeys.newP256();
    PublicKey csrKey = CertificateRequests.parse(Csrs.csr(CaKeys.newP256(), null), provider).publicKey();
    KeyPair rsa = Csrs.rsa(2048);
    List<String> manyDns = IntStream.range(0, 40).mapToObj(i -> "host-" + i + ".default.svc.cluster.local").toList();
    Instant utc = Instant.parse("2026-01-01T00:00:09.999Z");
    Instant generalized = Instant.parse("2051-07-04T23:59:59.5Z");
    record Case(PublicKey key, List<String> dns, Instant notBefore, Instant notAfter) {}
    List<Case> cases = List.of(
        new Case(ec.getPublic(), List.of(), utc, utc.plus(Duration.ofHours(1))),
        new Case(csrKey, List.of("web.default.svc", "web"), utc, utc.plus(Duration.ofMinutes(5))),
        new Case(ec.getPublic(), manyDns, utc, generalized),
        new Case(rsa.getPublic(), List.of("rsa.example"), Instant.parse("1999-12-31T23:59:59Z"), generalized));
    for (Case c : cases) {
      BigInteger serial = LeafCertificateEncoder.serial();
      X509Certificate reference = SvidCertificates.leaf(serial, ID, c.key(), c.dns(), c.notBefore(), c.notAfter(),
          ca.intermediate(), ca.intermediateKey(), provider);
      byte[] tbs = encoder.tbs(serial, ID, c.key(), c.dns(), c.notBefore(), c.notAfter());
      assertThat(tbs).as("TBS for %s key, %d DNS names", c.key().getAlgorithm(), c.dns().size())
          .isEqualTo(reference.getTBSCertificate());
      X509Certificate leaf = LeafCertificateEncoder.parse(encoder.sign(tbs));
      sameFields(leaf, reference);
      leaf.verify(ca.intermediate().getPublicKey());
    }
  }

  @ParameterizedTest
  @MethodSource("providers")
  void issuedLeafMatchesTheBuilderFieldByField(SignatureProvider provider) throws Exception {
    CaAuthority ca = authority(provider);
    LeafCertificateEncoder encoder = LeafCertificateEncoder.of(ca.intermediate(), ca.intermediateKey(), provider);
    KeyPair key = CaKeys.newP256();
    Instant now = Instant.parse("2026-01-01T00:00:00Z");
    X509Certificate leaf = encoder.leaf(ID, key.getPublic(), List.of("web.default.svc"), now, now.plusSeconds(3600));
    X509Certificate reference = SvidCertificates.leaf(ID, key.getPublic(), List.of("web.default.svc"), now,
        now.plusSeconds(3600), ca.intermediate(), ca.intermediateKey(), provider);
    sameFields(leaf, reference);
    assertThat(leaf.getSerialNumber()).isNotEqualTo(reference.getSerialNumber());
    assertThat(leaf.getSerialNumber().bitLength()).isEqualTo(127);
    leaf.verify(ca.intermediate().getPublicKey());
    // the signature is over the TBS bytes exactly as encoded
    Signature s = Signature.getInstance("SHA256withECDSA");
    s.initVerify(ca.intermediate().getPublicKey());
    s.update(leaf.getTBSCertificate());
    assertThat(s.verify(leaf.getSignature())).isTrue();
    assertThat(encoder.isFor(ca.intermediate(), ca.intermediateKey(), provider)).isTrue();
    assertThat(encoder.isFor(ca.intermediate(), CaKeys.newP256().getPrivate(), provider)).isFalse();
  }

  @ParameterizedTest
  @MethodSource("providers")
  void encodedCertificateAnswersLikeTheParsedOne(SignatureProvider provider) throws Exception {
    CaAuthority ca = authority(provider);
    LeafCertificateEncoder encoder = LeafCertificateEncoder.of(ca.intermediate(), ca.intermediateKey(), provider);
    Instant now = Instant.parse("2026-03-01T12:34:56.789Z");
    X509Certificate leaf = encoder.leaf(ID, CaKeys.newP256().getPublic(), List.of("a.example"), now, now.plusSeconds(600));
    assertThat(leaf).isInstanceOf(EncodedX509Certificate.class);
    X509Certificate parsed = (X509Certificate) java.security.cert.CertificateFactory.getInstance("X.509")
        .generateCertificate(new java.io.ByteArrayInputStream(leaf.getEncoded()));
    // the values known without parsing equal the parsed ones
    assertThat(leaf.getSerialNumber()).isEqualTo(parsed.getSerialNumber());
    assertThat(leaf.getNotBefore()).isEqualTo(parsed.getNotBefore()).isEqualTo(java.util.Date.from(Instant.parse("2026-03-01T12:34:56Z")));
    assertThat(leaf.getNotAfter()).isEqualTo(parsed.getNotAfter());
    assertThat(leaf.getVersion()).isEqualTo(parsed.getVersion());
    // everything else delegates; equality is over the encoding, both ways
    assertThat(leaf).isEqualTo(parsed);
    assertThat(parsed).isEqualTo(leaf);
    assertThat(leaf.hashCode()).isEqualTo(parsed.hashCode());
    assertThat(leaf.getSubjectX500Principal()).isEqualTo(parsed.getSubjectX500Principal());
    assertThat(leaf.getIssuerX500Principal()).isEqualTo(ca.intermediate().getSubjectX500Principal());
    assertThat(leaf.getPublicKey()).isEqualTo(parsed.getPublicKey());
    assertThat(leaf.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1", "1.3.6.1.5.5.7.3.2");
    assertThat(leaf.getCriticalExtensionOIDs()).containsExactlyInAnyOrder("2.5.29.19", "2.5.29.15");
    leaf.checkValidity(java.util.Date.from(now.plusSeconds(60)));
    assertThatThrownBy(() -> leaf.checkValidity(java.util.Date.from(now.plusSeconds(601))))
        .isInstanceOf(java.security.cert.CertificateExpiredException.class);
    leaf.verify(ca.intermediate().getPublicKey());
  }

  static void sameFields(X509Certificate leaf, X509Certificate reference) throws Exception {
    X509CertificateHolder a = new X509CertificateHolder(leaf.getEncoded());
    X509CertificateHolder b = new X509CertificateHolder(reference.getEncoded());
    assertThat(a.getVersionNumber()).isEqualTo(3).isEqualTo(b.getVersionNumber());
    assertThat(a.getSignatureAlgorithm()).isEqualTo(b.getSignatureAlgorithm());
    assertThat(a.toASN1Structure().getTBSCertificate().getSignature()).isEqualTo(b.toASN1Structure().getTBSCertificate().getSignature());
    assertThat(a.getIssuer()).isEqualTo(b.getIssuer());
    assertThat(a.getSubject()).isEqualTo(b.getSubject());
    assertThat(a.getNotBefore()).isEqualTo(b.getNotBefore());
    assertThat(a.getNotAfter()).isEqualTo(b.getNotAfter());
    assertThat(a.getSubjectPublicKeyInfo()).isEqualTo(b.getSubjectPublicKeyInfo());
    assertThat(a.getExtensions().getExtensionOIDs()).containsExactly(
        Extension.basicConstraints, Extension.keyUsage, Extension.extendedKeyUsage, Extension.subjectAlternativeName,
        Extension.subjectKeyIdentifier, Extension.authorityKeyIdentifier);
    assertThat(a.getExtensions().getExtensionOIDs()).containsExactly(b.getExtensions().getExtensionOIDs());
    for (var oid : b.getExtensions().getExtensionOIDs()) {
      assertThat(a.getExtension(oid)).as("extension %s (value and criticality)", oid).isEqualTo(b.getExtension(oid));
    }
    assertThat(List.copyOf(leaf.getSubjectAlternativeNames())).isEqualTo(List.copyOf(reference.getSubjectAlternativeNames()));
    assertThat(leaf.getKeyUsage()).isEqualTo(reference.getKeyUsage());
    assertThat(leaf.getBasicConstraints()).isEqualTo(-1).isEqualTo(reference.getBasicConstraints());
  }

  @ParameterizedTest
  @MethodSource("providers")
  void handWalkedCsrAgreesWithBouncyCastle(SignatureProvider provider) throws Exception {
    KeyPair keys = CaKeys.newP256();
    for (String san : new String[] {null, "spiffe://lattice.local/ns/default/sa/web"}) {
      byte[] csr = Csrs.csr(keys, san);
      CertificateRequests.CheckedCsr fast = CertificateRequests.parse(csr, provider);
      CertificateRequests.CheckedCsr reference = CertificateRequests.parseWithBouncyCastle(csr, provider);
      assertThat(fast.publicKey().getEncoded()).isEqualTo(reference.publicKey().getEncoded())
          .isEqualTo(keys.getPublic().getEncoded());
      assertThat(fast.uriSans()).isEqualTo(reference.uriSans())
          .isEqualTo(san == null ? List.of() : List.of(san));
    }
  }

  @ParameterizedTest
  @MethodSource("providers")
  void csrWithoutProofOfPossessionIsRefused(SignatureProvider provider) throws Exception {
    KeyPair keys = CaKeys.newP256();
    byte[] csr = Csrs.csr(keys, "spiffe://lattice.local/ns/default/sa/web");
    // another key's signature over the same request info: a valid signature, not by the requested key
    byte[] forged = Csrs.csr(CaKeys.newP256(), "spiffe://lattice.local/ns/default/sa/web");
    int[] realOuter = LeafCertificateEncoder.readHeader(csr, 0);
    int[] realInfo = LeafCertificateEncoder.readHeader(csr, realOuter[0]);
    var forgedParts = org.bouncycastle.asn1.ASN1Sequence.getInstance(forged);
    byte[] swapped = new org.bouncycastle.asn1.DERSequence(new org.bouncycastle.asn1.ASN1Encodable[] {
        org.bouncycastle.asn1.ASN1Sequence.getInstance(csr).getObjectAt(0), // the real request info
        forgedParts.getObjectAt(1), forgedParts.getObjectAt(2)}).getEncoded("DER");
    assertThatThrownBy(() -> CertificateRequests.parse(swapped, provider))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("csr: signature does not verify with its own key");
    // one flipped bit in the signed request info
    byte[] flipped = csr.clone();
    flipped[realInfo[0] + realInfo[1] - 3] ^= 0x01;
    assertThatThrownBy(() -> CertificateRequests.parse(flipped, provider))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("csr: ");
    assertThatThrownBy(() -> CertificateRequests.parse(java.util.Arrays.copyOf(csr, csr.length - 1), provider))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("csr: not a DER PKCS#10 request");
    assertThatThrownBy(() -> CertificateRequests.parse(Csrs.csr(Csrs.rsa(1024), null), provider))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("csr: key RSA-1024 (expected: EC P-256)");
  }
}
