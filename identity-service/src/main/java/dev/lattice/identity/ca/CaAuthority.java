package dev.lattice.identity.ca;

import java.security.KeyPair;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;

/**
 * One generation of a trust domain's signing material: the root it chains to, the intermediate signing
 * CA (its key signs X.509-SVIDs) and the JWT signing key. Immutable; a state change is a new instance.
 *
 * @param id short generation id, also the keystore alias prefix
 * @param state where the generation is in its life cycle
 * @param root the trust anchor (self-made, or the upstream chain's root)
 * @param intermediateChain the intermediate signing CA first, then any upstream intermediates, without the root
 * @param intermediateKey private key of {@code intermediateChain.get(0)} (never leaves this process)
 * @param jwtKid the {@code kid} of the JWT signing key
 * @param jwtKey the JWT signing key pair
 */
public record CaAuthority(
    String id,
    AuthorityState state,
    X509Certificate root,
    List<X509Certificate> intermediateChain,
    PrivateKey intermediateKey,
    String jwtKid,
    KeyPair jwtKey) {

  public CaAuthority {
    intermediateChain = List.copyOf(intermediateChain);
  }

  /** The intermediate signing certificate. */
  public X509Certificate intermediate() {
    return intermediateChain.get(0);
  }

  /** After this instant nothing this generation signed is valid. */
  public Instant notAfter() {
    return intermediate().getNotAfter().toInstant();
  }

  public Instant notBefore() {
    return intermediate().getNotBefore().toInstant();
  }

  public CaAuthority withState(AuthorityState next) {
    return new CaAuthority(id, next, root, intermediateChain, intermediateKey, jwtKid, jwtKey);
  }

  @Override
  public String toString() { // never print key material
    return "CaAuthority[" + id + " " + state + " notAfter=" + notAfter() + " kid=" + jwtKid + "]";
  }
}
