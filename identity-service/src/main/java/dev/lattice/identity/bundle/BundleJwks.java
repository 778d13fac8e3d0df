package dev.lattice.identity.bundle;

import dev.lattice.identity.ca.JwtAuthority;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.security.PublicKey;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.ECPublicKey;
import java.util.Base64;

/**
 * Renders a {@link TrustBundleSnapshot} as a SPIFFE bundle (SPIFFE Trust Domain and Bundle §4): a JWK
 * Set with {@code spiffe_sequence} and {@code spiffe_refresh_hint}; X.509 authorities as EC JWKs with
 * {@code use: x509-svid} and exactly one {@code x5c} and no {@code kid} (X509-SVID §6.1); JWT authorities
 * with {@code use: jwt-svid} and their {@code kid}. Stateless and thread-safe.
 */
public final class BundleJwks {

  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private BundleJwks() {}

  /** The bundle as a JSON object. */
  public static JsonObject toJson(TrustBundleSnapshot bundle) {
    JsonArray keys = new JsonArray();
    for (X509Certificate cert : bundle.x509Authorities()) {
      try {
        keys.add(ecJwk(cert.getPublicKey()).put("use", "x509-svid")
            .put("x5c", new JsonArray().add(Base64.getEncoder().encodeToString(cert.getEncoded()))));
      } catch (CertificateEncodingException e) {
        throw new IllegalStateException("cannot encode X.509 authority " + cert.getSubjectX500Principal(), e);
      }
    }
    for (JwtAuthority jwt : bundle.jwtAuthorities()) {
      keys.add(ecJwk(jwt.publicKey()).put("use", "jwt-svid").put("kid", jwt.kid()));
    }
    return new JsonObject()
        .put("keys", keys)
        .put("spiffe_sequence", bundle.sequence())
        .put("spiffe_refresh_hint", bundle.refreshHint().toSeconds());
  }

  /** The JWT authorities only, as a JWKS document (what {@code Bundle.jwt_authorities_jwks} carries). */
  public static String jwtAuthoritiesJson(TrustBundleSnapshot bundle) {
    return toJson(new TrustBundleSnapshot(bundle.trustDomain(), java.util.List.of(), bundle.jwtAuthorities(),
        bundle.sequence(), bundle.refreshHint())).encode();
  }

  private static JsonObject ecJwk(PublicKey key) {
    if (!(key instanceof ECPublicKey ec)) {
      throw new IllegalArgumentException("key: " + key.getAlgorithm() + " (expected: EC P-256)");
    }
    return new JsonObject()
        .put("kty", "EC")
        .put("crv", "P-256")
        .put("x", B64URL.encodeToString(fixed(ec.getW().getAffineX())))
        .put("y", B64URL.encodeToString(fixed(ec.getW().getAffineY())));
  }

  private static byte[] fixed(BigInteger v) {
    byte[] b = v.toByteArray();
    byte[] out = new byte[32];
    int start = b.length > 32 ? b.length - 32 : 0;
    System.arraycopy(b, start, out, 32 - (b.length - start), b.length - start);
    return out;
  }
}
