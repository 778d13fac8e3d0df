package dev.lattice.identity.ca;

import java.io.IOException;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.Extensions;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.pkcs.PKCS10CertificationRequest;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequest;

/**
 * Reads PKCS#10 certificate requests from nodes: checks the self-signature (proof of possession of the
 * key) and that the key is EC P-256, and extracts the URI SANs it asks for. The common shape (uncompressed
 * P-256 key, ecdsa-with-SHA256) is walked by hand and verified with per-thread {@code Signature} and
 * {@code KeyFactory} instances; anything else goes through BouncyCastle, which names the problem.
 * Stateless and thread-safe (per-thread verifiers).
 */
public final class CertificateRequests {

  private CertificateRequests() {}

  /** A verified CSR: its public key and requested URI SANs. */
  public record CheckedCsr(PublicKey publicKey, List<String> uriSans) {
    public CheckedCsr {
      uriSans = List.copyOf(uriSans);
    }
  }

  /** Parses and checks a DER CSR, verifying with the JDK; see {@link #parse(byte[], SignatureProvider)}. */
  public static CheckedCsr parse(byte[] der) {
    return parse(der, SignatureProvider.jdk());
  }

  /**
   * Parses and checks a DER CSR, verifying its signature through {@code verifier} (the CA's provider:
   * Conscrypt verifies ~10x faster than the JDK); fails with {@link IllegalArgumentException} naming the
   * problem.
   */
  public static CheckedCsr parse(byte[] der, SignatureProvider verifier) {
    if (der == null || der.length == 0) {
      throw new IllegalArgumentException("csr: empty (expected: a DER PKCS#10 certificate request)");
    }
    CheckedCsr fast = parseP256(der, verifier);
    return fast != null ? fast : parseWithBouncyCastle(der, verifier);
  }

  // SubjectPublicKeyInfo of an uncompressed EC P-256 key: SEQUENCE { SEQUENCE { id-ecPublicKey,
  // prime256v1 }, BIT STRING (66) { 0, 0x04 ... } } — every P-256 CSR a Lattice agent or Go/OpenSSL makes
  private static final byte[] P256_SPKI_PREFIX = {
      0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x02, 0x01,
      0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04};
  private static final byte[] EXTENSION_REQUEST = { // OID 1.2.840.113549.1.9.14
      0x06, 0x09, 0x2a, (byte) 0x86, 0x48, (byte) 0x86, (byte) 0xf7, 0x0d, 0x01, 0x09, 0x0e};

  // verifiers are per thread and per provider: Signature/KeyFactory.getInstance is a provider lookup
  private record Verifier(java.security.Signature signature, java.security.KeyFactory keys) {}

  private static final ThreadLocal<java.util.Map<String, Verifier>> VERIFIERS =
      ThreadLocal.withInitial(java.util.HashMap::new);

  private static Verifier verifier(SignatureProvider provider) throws java.security.GeneralSecurityException {
    Verifier v = VERIFIERS.get().get(provider.name());
    if (v == null) {
      v = new Verifier(provider.signature(), provider.provider() == null
          ? java.security.KeyFactory.getInstance("EC") : java.security.KeyFactory.getInstance("EC", provider.provider()));
      VERIFIERS.get().put(provider.name(), v);
    }
    return v;
  }

  /**
   * The fast path for the common shape (uncompressed P-256 key, ecdsa-with-SHA256): walks the DER by
   * hand, verifies the signature over the request info's own bytes (no re-encoding) with a per-thread
   * {@link java.security.Signature}. Null when the request has another shape: the BouncyCastle path then
   * decides (and names the problem).
   */
  private static CheckedCsr parseP256(byte[] der, SignatureProvider provider) {
    int[] request;
    int[] info;
    int[] spki;
    int[] algorithm;
    int[] signatureBits;
    int attributesStart;
    try {
      request = LeafCertificateEncoder.readHeader(der, 0);
      if (der[0] != 0x30 || request[0] + request[1] != der.length) {
        return null;
      }
      info = LeafCertificateEncoder.readHeader(der, request[0]);
      int infoEnd = info[0] + info[1];
      int[] version = LeafCertificateEncoder.readHeader(der, info[0]);
      int[] subject = LeafCertificateEncoder.readHeader(der, version[0] + version[1]);
      spki = LeafCertificateEncoder.readHeader(der, subject[0] + subject[1]);
      int spkiStart = spki[0] - spki[2];
      attributesStart = spki[0] + spki[1];
      algorithm = LeafCertificateEncoder.readHeader(der, infoEnd);
      signatureBits = LeafCertificateEncoder.readHeader(der, algorithm[0] + algorithm[1]);
      if (der[request[0]] != 0x30 || der[info[0]] != 0x02 || der[version[0] - version[2]] != 0x02
          || der[subject[0] - subject[2]] != 0x30 || !startsWith(der, spkiStart, P256_SPKI_PREFIX)
          || spki[1] != 0x59 || attributesStart > infoEnd
          || !startsWith(der, infoEnd, LeafCertificateEncoder.ECDSA_WITH_SHA256)
          || der[signatureBits[0] - signatureBits[2]] != 0x03 || signatureBits[1] < 2 || der[signatureBits[0]] != 0
          || signatureBits[0] + signatureBits[1] != der.length) {
        return null;
      }
      if (attributesStart != infoEnd) { // [0] IMPLICIT SET OF Attribute, exactly up to the end of the info
        int[] attributes = LeafCertificateEncoder.readHeader(der, attributesStart);
        if (der[attributesStart] != (byte) 0xa0 || attributes[0] + attributes[1] != infoEnd) {
          return null;
        }
      }
    } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
      return null; // not the common shape: the BouncyCastle path reports what is wrong
    }
    int spkiStart = spki[0] - spki[2];
    PublicKey key;
    try {
      Verifier v = verifier(provider);
      byte[] spkiBytes = java.util.Arrays.copyOfRange(der, spkiStart, spki[0] + spki[1]);
      key = v.keys().generatePublic(new java.security.spec.X509EncodedKeySpec(spkiBytes));
      LeafCertificateEncoder.rememberEncoding(key, spkiBytes);
      v.signature().initVerify(key);
      int infoStart = info[0] - info[2];
      v.signature().update(der, infoStart, info[0] + info[1] - infoStart);
      if (!v.signature().verify(der, signatureBits[0] + 1, signatureBits[1] - 1)) {
        throw new IllegalArgumentException("csr: signature does not verify with its own key (expected: signed by the requested key)");
      }
    } catch (java.security.GeneralSecurityException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae && iae.getMessage() != null && iae.getMessage().startsWith("csr: ")) {
        throw iae;
      }
      VERIFIERS.get().remove(provider.name()); // a verifier in an unknown state is not reused
      return null;
    }
    int infoEnd = info[0] + info[1];
    if (attributesStart == infoEnd || !contains(der, attributesStart, infoEnd, EXTENSION_REQUEST)) {
      return new CheckedCsr(key, List.of());
    }
    return new CheckedCsr(key, uriSans(der, attributesStart, infoEnd));
  }

  private static List<String> uriSans(byte[] der, int from, int to) {
    try {
      var attributes = org.bouncycastle.asn1.ASN1TaggedObject.getInstance(
          java.util.Arrays.copyOfRange(der, from, to));
      var set = org.bouncycastle.asn1.ASN1Set.getInstance(attributes, false);
      return uriSans(set.toArray());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("csr: not a DER PKCS#10 request (attributes: " + e.getMessage() + ")");
    }
  }

  private static List<String> uriSans(org.bouncycastle.asn1.ASN1Encodable[] attributes) {
    List<String> uris = new ArrayList<>();
    for (var encoded : attributes) {
      var attribute = org.bouncycastle.asn1.pkcs.Attribute.getInstance(encoded);
      if (!attribute.getAttrType().equals(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
        continue;
      }
      Extensions extensions = Extensions.getInstance(attribute.getAttrValues().getObjectAt(0));
      GeneralNames names = GeneralNames.fromExtensions(extensions, Extension.subjectAlternativeName);
      if (names != null) {
        for (GeneralName n : names.getNames()) {
          if (n.getTagNo() == GeneralName.uniformResourceIdentifier) {
            uris.add(n.getName().toString());
          }
        }
      }
    }
    return uris;
  }

  private static boolean startsWith(byte[] der, int offset, byte[] prefix) {
    if (offset + prefix.length > der.length) {
      return false;
    }
    for (int i = 0; i < prefix.length; i++) {
      if (der[offset + i] != prefix[i]) {
        return false;
      }
    }
    return true;
  }

  private static boolean contains(byte[] der, int from, int to, byte[] needle) {
    for (int i = from; i + needle.length <= to; i++) {
      if (startsWith(der, i, needle)) {
        return true;
      }
    }
    return false;
  }

  /** The general path: BouncyCastle parses the request; any key type and algorithm get a clear error. */
  static CheckedCsr parseWithBouncyCastle(byte[] der, SignatureProvider verifier) {
    JcaPKCS10CertificationRequest csr;
    PublicKey key;
    try {
      csr = new JcaPKCS10CertificationRequest(new PKCS10CertificationRequest(der));
      if (verifier.provider() != null) {
        csr.setProvider(verifier.provider()); // the key object is then native to the verifying provider
      }
      key = csr.getPublicKey();
    } catch (IOException | RuntimeException | java.security.GeneralSecurityException e) {
      throw new IllegalArgumentException("csr: not a DER PKCS#10 request (" + e.getMessage() + ")");
    }
    if (!CaKeys.isP256(key)) {
      throw new IllegalArgumentException("csr: key " + CaKeys.describe(key) + " (expected: EC P-256)");
    }
    // P-256 keys sign with ecdsa-with-SHA256; verify straight through the provider (BouncyCastle's
    // content-verifier builder costs as much again as the verification itself)
    String algorithm = csr.getSignatureAlgorithm().getAlgorithm().getId();
    if (!"1.2.840.10045.4.3.2".equals(algorithm)) {
      throw new IllegalArgumentException("csr: signature algorithm " + algorithm + " (expected: ecdsa-with-SHA256, 1.2.840.10045.4.3.2)");
    }
    try {
      java.security.Signature signature = verifier.signature();
      signature.initVerify(key);
      signature.update(csr.toASN1Structure().getCertificationRequestInfo().getEncoded());
      if (!signature.verify(csr.getSignature())) {
        throw new IllegalArgumentException("csr: signature does not verify with its own key (expected: signed by the requested key)");
      }
    } catch (java.security.GeneralSecurityException | IOException e) {
      throw new IllegalArgumentException("csr: cannot verify signature (" + e.getMessage() + ")");
    }
    List<String> uris = uriSans(csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest));
    return new CheckedCsr(key, uris);
  }
}
