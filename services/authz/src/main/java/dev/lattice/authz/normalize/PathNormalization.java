package dev.lattice.authz.normalize;

/**
 * How a request path is normalized before policies see it: Istio's mesh-wide
 * {@code meshConfig.pathNormalization.normalization} options. {@link #BASE} is the default.
 */
public enum PathNormalization {
  /** Nothing: the path as sent (query string still dropped). Not recommended: {@code /a/../admin} bypasses {@code /admin*}. */
  NONE,
  /**
   * RFC 3986 normalization: percent-encoded unreserved characters decoded ({@code %41} → {@code A},
   * {@code %2e} → {@code .}), other percent-encodings upper-cased, {@code \} → {@code /}, and {@code .}/
   * {@code ..} segments removed (RFC 3986 section 5.2.4).
   */
  BASE,
  /** {@link #BASE}, then runs of slashes merged ({@code //a///b} → {@code /a/b}). */
  MERGE_SLASHES,
  /**
   * Percent-encoded slashes and backslashes decoded first ({@code %2F}, {@code %5C}, any case), then
   * {@link #MERGE_SLASHES}. The strictest: a policy on {@code /a/b} also covers {@code /a%2Fb}.
   */
  DECODE_AND_MERGE_SLASHES;

  /** The default mesh setting. */
  public static final PathNormalization DEFAULT = BASE;
}
