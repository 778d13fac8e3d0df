package dev.lattice.identity.ca;

import io.spiffe.spiffeid.SpiffeId;
import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import org.bouncycastle.asn1.ASN1Encoding;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;

/**
 * Encodes the leaf X.509-SVIDs of one issuing CA from a pre-encoded template: everything but the
 * serial, the validity, the subject public key, its key identifier and the SANs is encoded once (with
 * BouncyCastle) when the encoder is made; the variable parts are written as DER by hand (RFC 5280 §4.1)
 * and the TBS certificate is signed with a per-thread {@link Signature} of the CA's provider.
 *
 * <p>The output is byte-for-byte the TBS certificate {@link SvidCertificates#leaf} builds
 * with BouncyCastle's certificate builder (same fields, extensions, criticality and order; checked by
 * {@code LeafCertificateEncoderTest}), at a fraction of the cost.
 *
 * <p>Thread-safe: the template is immutable; signatures, digests and random sources are per thread.
 * Not closeable.
 */
final class LeafCertificateEncoder {

  /** AlgorithmIdentifier ecdsa-with-SHA256 (1.2.840.10045.4.3.2), no parameters (RFC 5758 §3.2). */
  static final byte[] ECDSA_WITH_SHA256 = {
      0x30, 0x0a, 0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
  private static final byte[] VERSION_3 = {(byte) 0xa0, 0x03, 0x02, 0x01, 0x02};
  private static final byte[] SKI_PREFIX = { // Extension { subjectKeyIdentifier, OCTET STRING { OCTET STRING (20) } }
      0x30, 0x1d, 0x06, 0x03, 0x55, 0x1d, 0x0e, 0x04, 0x16, 0x04, 0x14};
  private static final byte[] SAN_OID = {0x06, 0x03, 0x55, 0x1d, 0x11};

  private static final ThreadLocal<SecureRandom> RANDOM = ThreadLocal.withInitial(LeafCertificateEncoder::newRandom);
  private static final ThreadLocal<MessageDigest> SHA1 = ThreadLocal.withInitial(() -> {
    try {
      return MessageDigest.getInstance("SHA-1");
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("SHA-1 is not available", e);
    }
  });
  private final X509Certificate issuer;
  private final PrivateKey issuerKey;
  private final PrivateKey signingKey;
  private final SignatureProvider signer;
  private final byte[] issuerName;
  private final byte[] subjectName;
  private final byte[] basicConstraints;
  private final byte[] keyUsageDigitalSignature;
  private final byte[] keyUsageWithKeyEncipherment;
  private final byte[] extendedKeyUsage;
  private final byte[] authorityKeyId;
  private final ThreadLocal<Signature> signatures;

  private LeafCertificateEncoder(X509Certificate issuer, PrivateKey issuerKey, SignatureProvider signer) {
    this.issuer = issuer;
    this.signer = signer;
    this.issuerKey = issuerKey;
    this.signingKey = signer.nativeKey(issuerKey);
    try {
      issuerName = X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded()).getEncoded(ASN1Encoding.DER);
      subjectName = leafSubject().getEncoded(ASN1Encoding.DER);
      basicConstraints = extension(Extension.basicConstraints, true, new BasicConstraints(false));
      keyUsageDigitalSignature = extension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
      keyUsageWithKeyEncipherment = extension(Extension.keyUsage, true,
          new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment));
      extendedKeyUsage = extension(Extension.extendedKeyUsage, false,
          new ExtendedKeyUsage(new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
      authorityKeyId = extension(Extension.authorityKeyIdentifier, false,
          new JcaX509ExtensionUtils().createAuthorityKeyIdentifier(issuer));
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalStateException("cannot pre-encode the X.509-SVID template of " + issuer.getSubjectX500Principal(), e);
    }
    this.signatures = ThreadLocal.withInitial(() -> {
      try {
        Signature s = signer.signature();
        s.initSign(signingKey);
        return s;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot sign with " + SignatureProvider.ALGORITHM + " (" + signer.name() + ")", e);
      }
    });
  }

  /** An encoder for the leaves {@code issuer} signs with {@code issuerKey} through {@code signer}. */
  static LeafCertificateEncoder of(X509Certificate issuer, PrivateKey issuerKey, SignatureProvider signer) {
    return new LeafCertificateEncoder(issuer, issuerKey, signer);
  }

  /** True when this encoder was made for exactly these issuing certificate, key and provider. */
  boolean isFor(X509Certificate cert, PrivateKey key, SignatureProvider provider) {
    // identities only: Provider.equals compares every registered service, under a lock
    return issuer == cert && issuerKey == key
        && (signer == provider || signer.name().equals(provider.name()) && signer.provider() == provider.provider());
  }

  /** The leaf subject: {@code O=Lattice} (the SPIFFE ID is in the URI SAN). */
  static X500Name leafSubject() {
    return new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "Lattice").build();
  }

  /**
   * Encodes and signs a leaf with a fresh random serial; the certificate is parsed only when something
   * other than its encoding, serial or validity is read ({@link EncodedX509Certificate}).
   */
  X509Certificate leaf(SpiffeId spiffeId, PublicKey publicKey, List<String> dnsNames, Instant notBefore,
      Instant notAfter) {
    BigInteger serial = serial();
    byte[] der = sign(tbs(serial, spiffeId, publicKey, dnsNames, notBefore, notAfter));
    return new EncodedX509Certificate(der, serial, notBefore, notAfter);
  }

  /** The DER TBSCertificate of a leaf (RFC 5280 §4.1.2). */
  byte[] tbs(BigInteger serial, SpiffeId spiffeId, PublicKey publicKey, List<String> dnsNames,
      Instant notBefore, Instant notAfter) {
    byte[] spki = encoded(publicKey);
    if (spki == null) {
      throw new IllegalArgumentException("public key: " + publicKey.getAlgorithm() + " has no X.509 encoding");
    }
    byte[] serialBytes = serial.toByteArray();
    byte[] validity = validity(notBefore, notAfter);
    byte[] keyUsage = "RSA".equals(publicKey.getAlgorithm()) ? keyUsageWithKeyEncipherment : keyUsageDigitalSignature;
    byte[] san = subjectAltName(spiffeId, dnsNames);
    int extensionsLength = basicConstraints.length + keyUsage.length + extendedKeyUsage.length + san.length
        + SKI_PREFIX.length + 20 + authorityKeyId.length;
    int extensionsSeq = tlvLength(extensionsLength);
    int body = VERSION_3.length + tlvLength(serialBytes.length) + ECDSA_WITH_SHA256.length + issuerName.length
        + validity.length + subjectName.length + spki.length + tlvLength(extensionsSeq);
    Der out = new Der(tlvLength(body));
    out.header(0x30, body);
    out.raw(VERSION_3);
    out.header(0x02, serialBytes.length).raw(serialBytes);
    out.raw(ECDSA_WITH_SHA256).raw(issuerName).raw(validity).raw(subjectName).raw(spki);
    out.header(0xa3, extensionsSeq).header(0x30, extensionsLength);
    out.raw(basicConstraints).raw(keyUsage).raw(extendedKeyUsage).raw(san);
    out.raw(SKI_PREFIX).raw(subjectKeyId(spki));
    out.raw(authorityKeyId);
    return out.done();
  }

  /** Signs {@code tbs} and wraps it into a DER Certificate (RFC 5280 §4.1.1). */
  byte[] sign(byte[] tbs) {
    byte[] signature;
    try {
      Signature s = signatures.get();
      s.update(tbs);
      signature = s.sign(); // resets to the signing state with the same key
    } catch (GeneralSecurityException e) {
      signatures.remove();
      throw new IllegalStateException("cannot sign X.509-SVID (" + signer.name() + ")", e);
    }
    int bitString = signature.length + 1;
    int body = tbs.length + ECDSA_WITH_SHA256.length + tlvLength(bitString);
    Der out = new Der(tlvLength(body));
    out.header(0x30, body).raw(tbs).raw(ECDSA_WITH_SHA256);
    out.header(0x03, bitString).raw(new byte[] {0}).raw(signature);
    return out.done();
  }

  static X509Certificate parse(byte[] der) {
    return EncodedX509Certificate.parse(der);
  }

  // the SubjectPublicKeyInfo of the key the last CSR parsed on this thread held: a native key re-encodes
  // itself on every getEncoded(), and the CSR's own bytes are at hand (the same thread issues next)
  private record KnownEncoding(PublicKey key, byte[] spki) {}

  private static final ThreadLocal<KnownEncoding> LAST_CSR_KEY = new ThreadLocal<>();

  /** Remembers (for this thread) that {@code key} encodes as {@code spki}; read back by identity only. */
  static void rememberEncoding(PublicKey key, byte[] spki) {
    LAST_CSR_KEY.set(new KnownEncoding(key, spki));
  }

  private static byte[] encoded(PublicKey key) {
    KnownEncoding known = LAST_CSR_KEY.get();
    return known != null && known.key() == key ? known.spki() : key.getEncoded();
  }

  /** A random positive serial of 127 significant bits (RFC 5280 §4.1.2.2 allows up to 20 octets). */
  static BigInteger serial() {
    byte[] bytes = new byte[16];
    RANDOM.get().nextBytes(bytes);
    bytes[0] &= 0x7f; // positive
    bytes[0] |= 0x40; // always 127 significant bits: never zero, fixed DER length
    return new BigInteger(1, bytes);
  }

  private static SecureRandom newRandom() {
    try {
      return SecureRandom.getInstance("DRBG"); // one instance per thread: no lock shared between signers
    } catch (GeneralSecurityException e) {
      return new SecureRandom();
    }
  }

  private static byte[] subjectAltName(SpiffeId spiffeId, List<String> dnsNames) {
    byte[] uri = ascii(spiffeId.toString());
    int names = tlvLength(uri.length);
    byte[][] dns = new byte[dnsNames.size()][];
    for (int i = 0; i < dns.length; i++) {
      dns[i] = ascii(dnsNames.get(i));
      names += tlvLength(dns[i].length);
    }
    int octets = tlvLength(names);
    int body = SAN_OID.length + tlvLength(octets);
    Der out = new Der(tlvLength(body));
    out.header(0x30, body).raw(SAN_OID).header(0x04, octets).header(0x30, names);
    out.header(0x86, uri.length).raw(uri); // [6] uniformResourceIdentifier IA5String
    for (byte[] d : dns) {
      out.header(0x82, d.length).raw(d); // [2] dNSName IA5String
    }
    return out.done();
  }

  /** RFC 5280 §4.2.1.2 method 1: SHA-1 of the subjectPublicKey BIT STRING's bits. */
  private static byte[] subjectKeyId(byte[] spki) {
    int[] outer = readHeader(spki, 0);
    int[] algorithm = readHeader(spki, outer[0]);
    int[] bits = readHeader(spki, algorithm[0] + algorithm[1]);
    if (spki[outer[0] - outer[2]] != 0x30 || spki[bits[0] - bits[2]] != 0x03 || bits[1] < 1) {
      throw new IllegalArgumentException("public key: malformed SubjectPublicKeyInfo");
    }
    MessageDigest sha1 = SHA1.get();
    sha1.update(spki, bits[0] + 1, bits[1] - 1);
    return sha1.digest();
  }

  /**
   * Reads the DER header at {@code offset}: {content offset, content length, header length}; throws
   * {@link IllegalArgumentException} when it is not a definite-length header inside {@code der}.
   */
  static int[] readHeader(byte[] der, int offset) {
    if (offset + 2 > der.length) {
      throw new IllegalArgumentException("truncated DER at offset " + offset);
    }
    int pos = offset + 1;
    int first = der[pos++] & 0xff;
    int length;
    if (first < 0x80) {
      length = first;
    } else {
      int count = first & 0x7f;
      if (count == 0 || count > 3 || pos + count > der.length) {
        throw new IllegalArgumentException("unsupported DER length at offset " + offset);
      }
      length = 0;
      for (int i = 0; i < count; i++) {
        length = (length << 8) | (der[pos++] & 0xff);
      }
    }
    if (pos + length > der.length) {
      throw new IllegalArgumentException("DER value at offset " + offset + " runs past the end");
    }
    return new int[] {pos, length, pos - offset};
  }

  private static byte[] validity(Instant notBefore, Instant notAfter) {
    byte[] from = time(notBefore);
    byte[] to = time(notAfter);
    byte[] out = new byte[2 + from.length + to.length];
    out[0] = 0x30;
    out[1] = (byte) (from.length + to.length);
    System.arraycopy(from, 0, out, 2, from.length);
    System.arraycopy(to, 0, out, 2 + from.length, to.length);
    return out;
  }

  /** RFC 5280 §4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, "Z". */
  private static byte[] time(Instant instant) {
    LocalDateTime t = LocalDateTime.ofEpochSecond(instant.getEpochSecond(), 0, ZoneOffset.UTC);
    int year = t.getYear();
    boolean utc = year >= 1950 && year <= 2049;
    byte[] out = new byte[utc ? 15 : 17];
    out[0] = (byte) (utc ? 0x17 : 0x18);
    out[1] = (byte) (out.length - 2);
    int p = 2;
    if (utc) {
      p = digits(out, p, year % 100, 2);
    } else {
      p = digits(out, p, year, 4);
    }
    p = digits(out, p, t.getMonthValue(), 2);
    p = digits(out, p, t.getDayOfMonth(), 2);
    p = digits(out, p, t.getHour(), 2);
    p = digits(out, p, t.getMinute(), 2);
    p = digits(out, p, t.getSecond(), 2);
    out[p] = 'Z';
    return out;
  }

  private static int digits(byte[] out, int pos, int value, int width) {
    for (int i = width - 1; i >= 0; i--) {
      out[pos + i] = (byte) ('0' + value % 10);
      value /= 10;
    }
    return pos + width;
  }

  private static byte[] ascii(String s) {
    byte[] out = new byte[s.length()];
    for (int i = 0; i < out.length; i++) {
      out[i] = (byte) s.charAt(i); // IA5String, as BouncyCastle encodes it
    }
    return out;
  }

  private static byte[] extension(org.bouncycastle.asn1.ASN1ObjectIdentifier oid, boolean critical,
      org.bouncycastle.asn1.ASN1Encodable value) throws IOException {
    return new Extension(oid, critical, value.toASN1Primitive().getEncoded(ASN1Encoding.DER)).getEncoded(ASN1Encoding.DER);
  }

  /** Length of a whole TLV whose content is {@code contentLength} bytes. */
  static int tlvLength(int contentLength) {
    return 1 + lengthOctets(contentLength) + contentLength;
  }

  private static int lengthOctets(int length) {
    if (length < 0x80) {
      return 1;
    }
    if (length < 0x100) {
      return 2;
    }
    if (length < 0x10000) {
      return 3;
    }
    return 4;
  }

  /** A fixed-size DER output buffer. */
  private static final class Der {
    private final byte[] buf;
    private int pos;

    Der(int size) {
      buf = new byte[size];
    }

    Der header(int tag, int length) {
      buf[pos++] = (byte) tag;
      int octets = lengthOctets(length);
      if (octets == 1) {
        buf[pos++] = (byte) length;
      } else {
        buf[pos++] = (byte) (0x80 | (octets - 1));
        for (int i = octets - 2; i >= 0; i--) {
          buf[pos++] = (byte) (length >>> (8 * i));
        }
      }
      return this;
    }

    Der raw(byte[] bytes) {
      System.arraycopy(bytes, 0, buf, pos, bytes.length);
      pos += bytes.length;
      return this;
    }

    byte[] done() {
      if (pos != buf.length) {
        throw new IllegalStateException("DER size mismatch: wrote " + pos + " of " + buf.length);
      }
      return buf;
    }
  }
}
