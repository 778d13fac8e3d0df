package dev.lattice.authz;

/**
 * The original client address of a request behind trusted proxies (Istio's {@code numTrustedProxies},
 * Envoy's {@code xff_num_trusted_hops} with {@code use_remote_address}): with {@code n} trusted proxies in
 * front of this one, the client is the {@code n}-th address from the right of {@code X-Forwarded-For};
 * with 0, or a header that has fewer than {@code n} valid addresses, it is the peer's own address.
 * Never trusts the left end of the header, which any client can write. Stateless.
 */
public final class ClientAddress {
  private ClientAddress() {}

  /**
   * @param peer the connection's peer address
   * @param xForwardedFor the header's value (several headers joined with {@code ","}), or null
   * @param trustedProxies the mesh setting, ≥ 0
   */
  public static byte[] remote(byte[] peer, String xForwardedFor, int trustedProxies) {
    if (trustedProxies <= 0 || xForwardedFor == null || xForwardedFor.isEmpty()) return peer;
    int end = xForwardedFor.length();
    int seen = 0;
    while (end > 0) {
      int comma = xForwardedFor.lastIndexOf(',', end - 1);
      String entry = xForwardedFor.substring(comma + 1, end).trim();
      seen++;
      if (seen == trustedProxies) {
        byte[] a = IpBlock.literal(stripPort(entry));
        return a == null ? peer : a;
      }
      end = comma < 0 ? 0 : comma;
    }
    return peer;
  }

  private static String stripPort(String entry) {
    if (entry.startsWith("[")) {
      int close = entry.indexOf(']');
      return close > 0 ? entry.substring(1, close) : entry;
    }
    int colon = entry.indexOf(':');
    return colon > 0 && entry.indexOf(':', colon + 1) < 0 ? entry.substring(0, colon) : entry;
  }
}
