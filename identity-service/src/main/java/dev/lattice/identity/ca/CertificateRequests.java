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
 * key) and that the key is EC P-256, and extracts the URI SANs it asks for. Stateless and thread-safe.
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
    List<String> uris = new ArrayList<>();
    for (var attribute : csr.getAttributes(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest)) {
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
    return new CheckedCsr(key, uris);
  }
}
