package dev.lattice.identity.jwt;

import dev.lattice.identity.ca.CaAuthority;
import dev.lattice.identity.ca.CertificateAuthority;
import io.spiffe.spiffeid.SpiffeId;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Signature;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import org.bouncycastle.asn1.ASN1Integer;
import org.bouncycastle.asn1.ASN1Sequence;

/**
 * Mints JWT-SVIDs (JWT-SVID standard): JWS compact serialization, ES256 with the active generation's JWT
 * key; header {@code alg}, {@code kid}, {@code typ: JWT} and nothing else (§2); claims {@code sub} (the
 * SPIFFE ID, §3.1), {@code aud} (every requested audience, §3.2), {@code exp} (§3.3) and {@code iat}. The
 * spec makes {@code kid} and {@code iat} optional, but java-spiffe and go-spiffe reject tokens without
 * them. A token never outlives its signing key. Thread-safe; minting signs, so call it off the event loop.
 */
public final class JwtSvidIssuer {

  private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

  private final CertificateAuthority ca;

  public JwtSvidIssuer(CertificateAuthority ca) {
    this.ca = ca;
  }

  /** A minted token with its subject and expiry. */
  public record MintedJwtSvid(String token, SpiffeId spiffeId, List<String> audience, Instant expiresAt) {
    public MintedJwtSvid {
      audience = List.copyOf(audience);
    }
  }

  /** Mints a token for {@code subject} valid for {@code ttl} (cut to the key's expiry) for {@code audience}. */
  public MintedJwtSvid mint(SpiffeId subject, Collection<String> audience, Duration ttl) {
    List<String> aud = List.copyOf(new LinkedHashSet<>(audience));
    if (aud.isEmpty() || aud.stream().anyMatch(a -> a == null || a.isBlank())) {
      throw new IllegalArgumentException("audience: " + audience + " (expected: at least one non-empty value, JWT-SVID §3.2)");
    }
    if (ttl.isNegative() || ttl.isZero()) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: > 0, JWT-SVID §3.3)");
    }
    if (!subject.memberOf(ca.trustDomain()) || subject.getPath().isEmpty()) {
      throw new IllegalArgumentException("sub: " + subject + " (expected: a workload SPIFFE ID in " + ca.trustDomain() + ")");
    }
    CaAuthority key = ca.active();
    Instant now = ca.clock().instant();
    Instant exp = now.plus(ttl);
    if (exp.isAfter(key.notAfter())) {
      exp = key.notAfter();
    }
    JsonObject header = new JsonObject().put("alg", "ES256").put("kid", key.jwtKid()).put("typ", "JWT");
    JsonObject claims = new JsonObject()
        .put("sub", subject.toString())
        .put("aud", new JsonArray(aud))
        .put("exp", exp.getEpochSecond())
        .put("iat", now.getEpochSecond());
    String signingInput = B64URL.encodeToString(header.encode().getBytes(StandardCharsets.UTF_8)) + "."
        + B64URL.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    try {
      Signature signature = ca.signer().signer(key.jwtKey().getPrivate());
      signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
      byte[] jose = derToJose(signature.sign());
      return new MintedJwtSvid(signingInput + "." + B64URL.encodeToString(jose), subject, aud,
          Instant.ofEpochSecond(exp.getEpochSecond()));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot sign JWT-SVID for " + subject, e);
    }
  }

  /** JCA ECDSA signatures are DER SEQUENCE{r, s}; JWS ES256 wants r||s, 32 bytes each (RFC 7518 §3.4). */
  static byte[] derToJose(byte[] der) {
    ASN1Sequence seq = ASN1Sequence.getInstance(der);
    byte[] out = new byte[64];
    copy(ASN1Integer.getInstance(seq.getObjectAt(0)).getPositiveValue(), out, 0);
    copy(ASN1Integer.getInstance(seq.getObjectAt(1)).getPositiveValue(), out, 32);
    return out;
  }

  private static void copy(BigInteger v, byte[] out, int offset) {
    byte[] b = v.toByteArray();
    int start = b.length > 32 ? b.length - 32 : 0;
    int len = b.length - start;
    System.arraycopy(b, start, out, offset + 32 - len, len);
  }
}
