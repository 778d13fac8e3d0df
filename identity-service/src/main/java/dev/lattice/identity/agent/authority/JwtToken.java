package dev.lattice.identity.agent.authority;

import java.time.Instant;

/**
 * A JWT-SVID minted by the identity server.
 *
 * @param token JWS compact serialization
 * @param spiffeId its {@code sub}
 * @param issuedAt when the agent received it (used to rotate at half life)
 * @param expiresAt its {@code exp}
 */
public record JwtToken(String token, String spiffeId, Instant issuedAt, Instant expiresAt) {

  /** Half-way between issue and expiry: after this the agent mints a fresh one. */
  public Instant refreshAt() {
    return issuedAt.plus(java.time.Duration.between(issuedAt, expiresAt).dividedBy(2));
  }
}
