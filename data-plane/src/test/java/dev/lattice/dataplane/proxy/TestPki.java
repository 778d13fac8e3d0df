package dev.lattice.dataplane.proxy;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.Date;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A throwaway EC P-256 CA for TLS tests: server certificates for {@code localhost}/127.0.0.1 and
 * client certificates carrying one URI SAN (an X.509-SVID's shape), written as PEM files the proxy
 * config points at, and JDK {@link SSLContext}s for the test's clients. Test thread only.
 */
final class TestPki {
  record Issued(X509Certificate cert, PrivateKey key, Path certFile, Path keyFile) {}

  private static final AtomicLong SERIAL = new AtomicLong(1);
  private final Path dir;
  final KeyPair caKeys;
  final X509Certificate ca;
  final Path caFile;

  TestPki(Path dir, String name) {
    this.dir = dir;
    try {
      caKeys = keys();
      X500Name subject = new X500Name("CN=" + name);
      JcaX509v3CertificateBuilder b = builder(subject, subject, caKeys);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(true));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
      ca = sign(b, caKeys.getPrivate());
      caFile = write(name + "-ca.pem", pem("CERTIFICATE", ca.getEncoded()));
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A server certificate for localhost and 127.0.0.1. */
  Issued server(String name) {
    return issue(name, new GeneralNames(new GeneralName[] {
        new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
  }

  /** A client certificate whose only SAN is {@code uri} (e.g. a SPIFFE ID). */
  Issued client(String name, String uri) {
    return issue(name, new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uri)));
  }

  private Issued issue(String name, GeneralNames sans) {
    try {
      KeyPair kp = keys();
      JcaX509v3CertificateBuilder b = builder(X500Name.getInstance(ca.getSubjectX500Principal().getEncoded()),
          new X500Name("CN=" + name), kp);
      b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
      b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      b.addExtension(Extension.subjectAlternativeName, false, sans);
      X509Certificate cert = sign(b, caKeys.getPrivate());
      Path certFile = write(name + ".pem", pem("CERTIFICATE", cert.getEncoded()));
      Path keyFile = write(name + "-key.pem", pem("PRIVATE KEY", kp.getPrivate().getEncoded()));
      return new Issued(cert, kp.getPrivate(), certFile, keyFile);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client context trusting this CA, presenting {@code identity} when not null. */
  SSLContext clientContext(Issued identity) {
    try {
      KeyStore trust = KeyStore.getInstance("PKCS12");
      trust.load(null, null);
      trust.setCertificateEntry("ca", ca);
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      KeyManagerFactory kmf = null;
      if (identity != null) {
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("me", identity.key(), new char[0], new X509Certificate[] {identity.cert(), ca});
        kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        kmf.init(ks, new char[0]);
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), null);
      return ctx;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static KeyPair keys() throws GeneralSecurityException {
    KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
    g.initialize(new ECGenParameterSpec("secp256r1"));
    return g.generateKeyPair();
  }

  private static JcaX509v3CertificateBuilder builder(X500Name issuer, X500Name subject, KeyPair kp) {
    Instant now = Instant.now(); // certificate validity only; no test outcome depends on it
    return new JcaX509v3CertificateBuilder(issuer, BigInteger.valueOf(SERIAL.getAndIncrement()),
        Date.from(now.minus(1, ChronoUnit.HOURS)), Date.from(now.plus(1, ChronoUnit.DAYS)), subject, kp.getPublic());
  }

  private static X509Certificate sign(JcaX509v3CertificateBuilder b, PrivateKey key) throws Exception {
    return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(key)));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  private Path write(String name, String content) {
    try {
      return Files.writeString(dir.resolve(name), content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
