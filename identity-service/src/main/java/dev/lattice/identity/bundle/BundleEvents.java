package dev.lattice.identity.bundle;

import com.google.protobuf.ByteString;
import dev.lattice.events.AuthorityState;
import dev.lattice.events.JwtAuthority;
import dev.lattice.events.TrustBundle;
import dev.lattice.events.X509Authority;
import dev.lattice.identity.ca.CaAuthority;
import dev.lattice.identity.ca.TrustBundleSnapshot;
import dev.lattice.schemas.identity.v1.Bundle;
import java.nio.ByteBuffer;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Maps the CA's public material to the {@code TrustBundle} event of {@code lattice.bundles.v1} and to
 * the {@code Bundle} message of signing.proto. Only certificates and public keys are read: a
 * {@link CaAuthority}'s private keys are never touched here. Stateless.
 */
public final class BundleEvents {

  private BundleEvents() {}

  /** The TrustBundle event for the CA's generations and bundle snapshot. */
  public static TrustBundle toEvent(List<CaAuthority> authorities, TrustBundleSnapshot bundle, Instant now) {
    List<X509Authority> x509 = new ArrayList<>();
    List<JwtAuthority> jwt = new ArrayList<>();
    for (CaAuthority a : authorities) {
      AuthorityState state = AuthorityState.valueOf(a.state().name());
      if (x509.stream().noneMatch(x -> x.getDer().equals(ByteBuffer.wrap(der(a.root()))))) {
        x509.add(new X509Authority(ByteBuffer.wrap(der(a.root())), a.root().getNotAfter().toInstant(), state));
      }
      jwt.add(new JwtAuthority(a.jwtKid(), ByteBuffer.wrap(a.jwtKey().getPublic().getEncoded()), "ES256",
          a.notAfter(), state));
    }
    return TrustBundle.newBuilder()
        .setTrustDomain(bundle.trustDomain().getName())
        .setX509Authorities(x509)
        .setJwtAuthorities(jwt)
        .setSequence(bundle.sequence())
        .setRefreshHintSeconds((int) bundle.refreshHint().toSeconds())
        .setUpdatedAt(now)
        .build();
  }

  /** The proto Bundle for nodes. */
  public static Bundle toProto(TrustBundleSnapshot bundle) {
    Bundle.Builder b = Bundle.newBuilder()
        .setTrustDomain(bundle.trustDomain().getName())
        .setJwtAuthoritiesJwks(BundleJwks.jwtAuthoritiesJson(bundle))
        .setSequence(bundle.sequence())
        .setRefreshHintSeconds((int) bundle.refreshHint().toSeconds());
    for (X509Certificate c : bundle.x509Authorities()) {
      b.addX509Authorities(ByteString.copyFrom(der(c)));
    }
    return b.build();
  }

  static byte[] der(X509Certificate c) {
    try {
      return c.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException(e);
    }
  }
}
