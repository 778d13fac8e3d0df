package dev.lattice.identity.agent.svid;

import java.io.IOException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PKCSObjectIdentifiers;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.ExtensionsGenerator;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;

/**
 * A fresh EC P-256 key pair and a PKCS#10 request for it. The private key stays in this object (and
 * in the agent's memory); only {@link #csrDer()} is sent to the identity server.
 *
 * <p>Immutable. {@link #generate} is CPU work (key generation and an ECDSA signature): call it off
 * the event loop.
 */
public record KeyAndCsr(KeyPair keyPair, byte[] csrDer) {

  /**
   * Generates a key and a CSR whose URI SAN is {@code spiffeId} (when not null) and DNS SANs are
   * {@code dnsNames}.
   */
  public static KeyAndCsr generate(String spiffeId, List<String> dnsNames) {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair keyPair = generator.generateKeyPair();
      JcaPKCS10CertificationRequestBuilder builder =
          new JcaPKCS10CertificationRequestBuilder(new X500Name("O=Lattice"), keyPair.getPublic());
      List<GeneralName> names = new ArrayList<>();
      if (spiffeId != null) {
        names.add(new GeneralName(GeneralName.uniformResourceIdentifier, URI.create(spiffeId).toString()));
      }
      for (String dns : dnsNames) {
        names.add(new GeneralName(GeneralName.dNSName, dns));
      }
      if (!names.isEmpty()) {
        ExtensionsGenerator extensions = new ExtensionsGenerator();
        extensions.addExtension(Extension.subjectAlternativeName, false,
            new GeneralNames(names.toArray(GeneralName[]::new)));
        builder.addAttribute(PKCSObjectIdentifiers.pkcs_9_at_extensionRequest, extensions.generate());
      }
      byte[] der = builder.build(new JcaContentSignerBuilder("SHA256withECDSA").build(keyPair.getPrivate()))
          .getEncoded();
      return new KeyAndCsr(keyPair, der);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key and CSR", e);
    }
  }

  @Override
  public String toString() {
    return "KeyAndCsr[EC P-256, csr " + csrDer.length + " bytes]";
  }
}
