package dev.lattice.identity.ca;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.ECPublicKey;
import java.security.spec.ECGenParameterSpec;

/** EC P-256 key generation and checks for the CA. Stateless and thread-safe. */
public final class CaKeys {

  private static final SecureRandom RANDOM = new SecureRandom();

  private CaKeys() {}

  /** A new EC P-256 key pair. */
  public static KeyPair newP256() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
      return generator.generateKeyPair();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("EC P-256 is not available", e);
    }
  }

  /** True when {@code key} is an EC key on P-256 (field size 256, the only EC curve of that size in the JDK). */
  public static boolean isP256(PublicKey key) {
    return key instanceof ECPublicKey ec
        && ec.getParams().getCurve().getField().getFieldSize() == 256
        && ec.getParams().getOrder().bitLength() == 256
        && ec.getParams().getCofactor() == 1;
  }

  /** A short description such as {@code RSA-512} or {@code EC-256} for error messages. */
  public static String describe(PublicKey key) {
    if (key instanceof ECPublicKey ec) {
      return "EC-" + ec.getParams().getCurve().getField().getFieldSize();
    }
    if (key instanceof java.security.interfaces.RSAPublicKey rsa) {
      return "RSA-" + rsa.getModulus().bitLength();
    }
    return key.getAlgorithm();
  }

  static SecureRandom random() {
    return RANDOM;
  }
}
