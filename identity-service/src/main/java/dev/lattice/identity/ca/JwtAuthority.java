package dev.lattice.identity.ca;

import java.security.PublicKey;
import java.time.Instant;

/** A JWT-SVID signing public key as it appears in a bundle: key id, key and expiry. Immutable. */
public record JwtAuthority(String kid, PublicKey publicKey, Instant expiresAt) {}
