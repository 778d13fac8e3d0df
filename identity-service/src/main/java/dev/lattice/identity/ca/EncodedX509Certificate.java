package dev.lattice.identity.ca;

import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.security.InvalidKeyException;
import java.security.NoSuchAlgorithmException;
import java.security.NoSuchProviderException;
import java.security.Principal;
import java.security.Provider;
import java.security.PublicKey;
import java.security.SignatureException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Set;
import javax.security.auth.x500.X500Principal;

/**
 * An X.509 certificate this CA has just encoded: its DER, serial and validity are known without parsing,
 * which is what the signing path reads (the gRPC response carries the DER, the audit event the serial and
 * validity); every other accessor parses the DER once with the JDK's {@code X.509} factory and delegates.
 * Equality and hash code are the {@link java.security.cert.Certificate} ones (over the encoding), so it
 * equals the same certificate parsed by any provider.
 *
 * <p>Thread-safe: immutable values, and the parsed form is published through a volatile field (parsing
 * twice under a race is harmless).
 */
final class EncodedX509Certificate extends X509Certificate {

  private static final ThreadLocal<CertificateFactory> X509 = ThreadLocal.withInitial(() -> {
    try {
      return CertificateFactory.getInstance("X.509");
    } catch (CertificateException e) {
      throw new IllegalStateException("X.509 certificate factory is not available", e);
    }
  });

  private final byte[] der;
  private final BigInteger serial;
  private final long notBeforeSecond;
  private final long notAfterSecond;
  private volatile X509Certificate parsed;

  EncodedX509Certificate(byte[] der, BigInteger serial, Instant notBefore, Instant notAfter) {
    this.der = der;
    this.serial = serial;
    this.notBeforeSecond = notBefore.getEpochSecond(); // the DER times hold whole seconds
    this.notAfterSecond = notAfter.getEpochSecond();
  }

  /** The certificate parsed by the JDK's X.509 factory (once). */
  X509Certificate parsed() {
    X509Certificate p = parsed;
    if (p == null) {
      p = parse(der);
      parsed = p;
    }
    return p;
  }

  static X509Certificate parse(byte[] der) {
    try {
      return (X509Certificate) X509.get().generateCertificate(new ByteArrayInputStream(der));
    } catch (CertificateException e) {
      throw new IllegalStateException("cannot parse an X.509-SVID this CA encoded", e);
    }
  }

  @Override
  public byte[] getEncoded() {
    return der.clone();
  }

  @Override
  public BigInteger getSerialNumber() {
    return serial;
  }

  @Override
  public Date getNotBefore() {
    return new Date(notBeforeSecond * 1000);
  }

  @Override
  public Date getNotAfter() {
    return new Date(notAfterSecond * 1000);
  }

  @Override
  public void checkValidity() throws CertificateExpiredException, CertificateNotYetValidException {
    parsed().checkValidity();
  }

  @Override
  public void checkValidity(Date date) throws CertificateExpiredException, CertificateNotYetValidException {
    parsed().checkValidity(date);
  }

  @Override
  public int getVersion() {
    return 3;
  }

  @SuppressWarnings("deprecation")
  @Override
  public Principal getIssuerDN() {
    return parsed().getIssuerDN();
  }

  @SuppressWarnings("deprecation")
  @Override
  public Principal getSubjectDN() {
    return parsed().getSubjectDN();
  }

  @Override
  public X500Principal getIssuerX500Principal() {
    return parsed().getIssuerX500Principal();
  }

  @Override
  public X500Principal getSubjectX500Principal() {
    return parsed().getSubjectX500Principal();
  }

  @Override
  public byte[] getTBSCertificate() throws java.security.cert.CertificateEncodingException {
    return parsed().getTBSCertificate();
  }

  @Override
  public byte[] getSignature() {
    return parsed().getSignature();
  }

  @Override
  public String getSigAlgName() {
    return parsed().getSigAlgName();
  }

  @Override
  public String getSigAlgOID() {
    return parsed().getSigAlgOID();
  }

  @Override
  public byte[] getSigAlgParams() {
    return parsed().getSigAlgParams();
  }

  @Override
  public boolean[] getIssuerUniqueID() {
    return parsed().getIssuerUniqueID();
  }

  @Override
  public boolean[] getSubjectUniqueID() {
    return parsed().getSubjectUniqueID();
  }

  @Override
  public boolean[] getKeyUsage() {
    return parsed().getKeyUsage();
  }

  @Override
  public List<String> getExtendedKeyUsage() throws CertificateParsingException {
    return parsed().getExtendedKeyUsage();
  }

  @Override
  public int getBasicConstraints() {
    return parsed().getBasicConstraints();
  }

  @Override
  public Collection<List<?>> getSubjectAlternativeNames() throws CertificateParsingException {
    return parsed().getSubjectAlternativeNames();
  }

  @Override
  public Collection<List<?>> getIssuerAlternativeNames() throws CertificateParsingException {
    return parsed().getIssuerAlternativeNames();
  }

  @Override
  public void verify(PublicKey key) throws CertificateException, NoSuchAlgorithmException, InvalidKeyException,
      NoSuchProviderException, SignatureException {
    parsed().verify(key);
  }

  @Override
  public void verify(PublicKey key, String sigProvider) throws CertificateException, NoSuchAlgorithmException,
      InvalidKeyException, NoSuchProviderException, SignatureException {
    parsed().verify(key, sigProvider);
  }

  @Override
  public void verify(PublicKey key, Provider sigProvider) throws CertificateException, NoSuchAlgorithmException,
      InvalidKeyException, SignatureException {
    parsed().verify(key, sigProvider);
  }

  @Override
  public PublicKey getPublicKey() {
    return parsed().getPublicKey();
  }

  @Override
  public boolean hasUnsupportedCriticalExtension() {
    return parsed().hasUnsupportedCriticalExtension();
  }

  @Override
  public Set<String> getCriticalExtensionOIDs() {
    return parsed().getCriticalExtensionOIDs();
  }

  @Override
  public Set<String> getNonCriticalExtensionOIDs() {
    return parsed().getNonCriticalExtensionOIDs();
  }

  @Override
  public byte[] getExtensionValue(String oid) {
    return parsed().getExtensionValue(oid);
  }

  @Override
  public String toString() {
    return parsed().toString();
  }
}
