package dev.lattice.identity.ca;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;

/**
 * An upstream CA that signs Lattice's intermediates instead of a self-made root: its private key and its
 * chain (its own certificate first, the root last). Immutable.
 */
public record UpstreamAuthority(PrivateKey key, List<X509Certificate> chain) {

  public UpstreamAuthority {
    chain = List.copyOf(chain);
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("upstream chain: empty (expected: the upstream CA certificate, then up to its root)");
    }
  }

  /** The upstream certificate whose key signs Lattice intermediates. */
  public X509Certificate signingCertificate() {
    return chain.get(0);
  }

  /** The trust anchor published in the bundle. */
  public X509Certificate root() {
    return chain.get(chain.size() - 1);
  }

  /** Loads a PEM private key (PKCS#8 or SEC1) and a PEM certificate chain. */
  public static UpstreamAuthority load(Path keyPem, Path chainPem) throws IOException {
    PrivateKey key;
    try (Reader r = Files.newBufferedReader(keyPem); PEMParser p = new PEMParser(r)) {
      Object o = p.readObject();
      JcaPEMKeyConverter converter = new JcaPEMKeyConverter();
      if (o instanceof PEMKeyPair pair) {
        key = converter.getKeyPair(pair).getPrivate();
      } else if (o instanceof PrivateKeyInfo info) {
        key = converter.getPrivateKey(info);
      } else {
        throw new IOException(keyPem + ": no PEM private key found (expected PKCS#8 or EC PRIVATE KEY)");
      }
    }
    List<X509Certificate> chain = new ArrayList<>();
    try (Reader r = Files.newBufferedReader(chainPem); PEMParser p = new PEMParser(r)) {
      JcaX509CertificateConverter converter = new JcaX509CertificateConverter();
      for (Object o = p.readObject(); o != null; o = p.readObject()) {
        if (o instanceof X509CertificateHolder holder) {
          chain.add(converter.getCertificate(holder));
        }
      }
    } catch (CertificateException e) {
      throw new IOException(chainPem + ": " + e.getMessage(), e);
    }
    return new UpstreamAuthority(key, chain);
  }
}
