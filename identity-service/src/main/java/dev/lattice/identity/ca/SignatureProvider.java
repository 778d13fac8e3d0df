package dev.lattice.identity.ca;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Provider;
import java.security.Signature;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The JCA provider the CA signs with (SHA256withECDSA): Conscrypt (BoringSSL, native) when it loads on
 * this platform, else the JDK's default provider, which is ~15-28x slower for P-256 here. Chosen once at
 * start-up ({@link #select()}) and logged. Immutable and thread-safe.
 *
 * @param name {@code conscrypt} or {@code jdk}
 * @param provider the provider, or {@code null} for the JDK's default provider chain
 */
public record SignatureProvider(String name, Provider provider) {

  private static final Logger log = LoggerFactory.getLogger(SignatureProvider.class);
  public static final String ALGORITHM = "SHA256withECDSA";

  /** The JDK's default provider chain. */
  public static SignatureProvider jdk() {
    return new SignatureProvider("jdk", null);
  }

  /** Conscrypt's provider, or empty when its native library does not load here. */
  public static java.util.Optional<SignatureProvider> conscrypt() {
    try {
      if (!org.conscrypt.Conscrypt.isAvailable()) {
        return java.util.Optional.empty();
      }
      Provider p = org.conscrypt.Conscrypt.newProvider();
      Signature.getInstance(ALGORITHM, p); // fails fast if the algorithm is missing
      return java.util.Optional.of(new SignatureProvider("conscrypt", p));
    } catch (Throwable e) { // UnsatisfiedLinkError, NoClassDefFoundError, GeneralSecurityException
      log.warn("Conscrypt is not usable on this platform ({}); falling back to the JDK provider", e.toString());
      return java.util.Optional.empty();
    }
  }

  /**
   * Selects the provider from {@code identity.signing.provider}: {@code auto} (Conscrypt when it
   * loads, else JDK), {@code conscrypt} or {@code jdk}.
   */
  public static SignatureProvider select(String preference) {
    SignatureProvider chosen = switch (preference == null ? "auto" : preference) {
      case "jdk" -> jdk();
      case "conscrypt" -> conscrypt().orElseThrow(() ->
          new IllegalStateException("identity.signing.provider: conscrypt (expected: a platform where Conscrypt loads)"));
      default -> conscrypt().orElseGet(SignatureProvider::jdk);
    };
    log.info("CA signing provider: {} ({})", chosen.name(), ALGORITHM);
    return chosen;
  }

  /** Auto-selects: Conscrypt when available, else the JDK. */
  public static SignatureProvider select() {
    return select("auto");
  }

  // JDK key objects handed to a native provider are re-encoded and re-parsed on every initSign; the CA's
  // few keys are translated once into the provider's own key type instead.
  private static final java.util.Map<PrivateKey, PrivateKey> NATIVE_KEYS =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());

  /** {@code key} as this provider's own key object (cached), or {@code key} itself for the JDK. */
  public PrivateKey nativeKey(PrivateKey key) {
    if (provider == null) {
      return key;
    }
    return NATIVE_KEYS.computeIfAbsent(key, k -> {
      try {
        return java.security.KeyFactory.getInstance(k.getAlgorithm(), provider)
            .generatePrivate(new java.security.spec.PKCS8EncodedKeySpec(k.getEncoded()));
      } catch (GeneralSecurityException e) {
        return k;
      }
    });
  }

  /** A signature initialized for signing with {@code key} (translated to a native key when possible). */
  public Signature signer(PrivateKey key) throws GeneralSecurityException {
    Signature s = signature();
    s.initSign(nativeKey(key));
    return s;
  }

  /** A fresh {@link Signature} (not thread-safe; one per use). */
  public Signature signature() throws GeneralSecurityException {
    return provider == null ? Signature.getInstance(ALGORITHM) : Signature.getInstance(ALGORITHM, provider);
  }

  /** A BouncyCastle content signer for certificates, signing through this provider. */
  public ContentSigner contentSigner(PrivateKey key) {
    try {
      JcaContentSignerBuilder builder = new JcaContentSignerBuilder(ALGORITHM);
      if (provider != null) {
        builder.setProvider(provider);
      }
      return builder.build(nativeKey(key));
    } catch (OperatorCreationException e) {
      throw new IllegalStateException("cannot create " + ALGORITHM + " signer with " + name, e);
    }
  }
}
