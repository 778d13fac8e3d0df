package dev.lattice.identity.agent.authority;

import java.security.PrivateKey;
import java.time.Duration;
import java.time.Instant;

/**
 * The node's own identity: its key (made here, never sent) and the node SVID the server signed for it.
 * The agent presents it over mTLS to the Signing API.
 *
 * @param receivedAt when the agent got the SVID; the half life counts from the later of this and
 *     {@code notBefore} (CAs backdate certificates)
 */
public record NodeCredential(PrivateKey key, SignedX509Svid svid, Instant receivedAt) {

  /** Half life of the node SVID: the agent renews from then on. */
  public Instant renewAt() {
    Instant from = receivedAt.isAfter(svid.notBefore()) ? receivedAt : svid.notBefore();
    return from.plus(Duration.between(from, svid.notAfter()).dividedBy(2));
  }

  public boolean expiredAt(Instant now) {
    return !now.isBefore(svid.notAfter());
  }

  @Override
  public String toString() {
    return "NodeCredential[" + svid.spiffeId() + ", until " + svid.notAfter() + "]";
  }
}
