package dev.lattice.identity.spiffe;

import io.spiffe.spiffeid.TrustDomain;

/**
 * Parses trust domain names (SPIFFE-ID standard §2.1, §2.3). Character rules come from java-spiffe's
 * {@link TrustDomain#parse}; the 255-byte host limit is added here. Stateless and thread-safe.
 */
public final class TrustDomains {

  /** RFC 3986 limits a URI host to 255 characters; SPIFFE-ID §2.3 applies it to trust domain names. */
  public static final int MAX_TRUST_DOMAIN_LENGTH = 255;

  private TrustDomains() {}

  /** Parses a trust domain name such as {@code lattice.local}; never returns null. */
  public static TrustDomain parse(String name) {
    if (name == null || name.isEmpty()) {
      throw new InvalidSpiffeIdException("trust domain: '' (expected: a non-empty name, SPIFFE-ID §2)");
    }
    if (name.length() > MAX_TRUST_DOMAIN_LENGTH) {
      throw new InvalidSpiffeIdException("trust domain: " + name.length() + " characters (expected: at most "
          + MAX_TRUST_DOMAIN_LENGTH + ", SPIFFE-ID §2.3)");
    }
    try {
      return TrustDomain.parse(name);
    } catch (RuntimeException e) {
      throw new InvalidSpiffeIdException("trust domain: '" + name + "': " + e.getMessage() + " (SPIFFE-ID §2.1)");
    }
  }
}
