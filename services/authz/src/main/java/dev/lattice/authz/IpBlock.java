package dev.lattice.authz;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * An IP address or CIDR block ({@code 10.0.0.0/8}, {@code 192.168.1.7}, {@code fd00::/8}). Parsing never
 * performs a DNS lookup. Immutable and thread-safe.
 */
public final class IpBlock {
  /** Contains no address (stands for an unparsable block, so a positive list never widens to "any"). */
  static final IpBlock NONE = new IpBlock(new byte[0], 0, "<none>");

  private final byte[] network;
  private final int prefixLength;
  private final String text;

  private IpBlock(byte[] network, int prefixLength, String text) {
    this.network = network;
    this.prefixLength = prefixLength;
    this.text = text;
  }

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException {@code "10.0.0.300/8" (expected: an IP address or CIDR block such as 10.0.0.0/8)}
   */
  public static IpBlock parse(String text) {
    String addr = text;
    int prefix = -1;
    int slash = text == null ? -1 : text.indexOf('/');
    if (text == null || text.isBlank()) throw bad(text);
    if (slash >= 0) {
      addr = text.substring(0, slash);
      String p = text.substring(slash + 1);
      if (p.isEmpty() || p.length() > 3 || !p.chars().allMatch(Character::isDigit)) throw bad(text);
      prefix = Integer.parseInt(p);
    }
    byte[] bytes = literal(addr);
    if (bytes == null) throw bad(text);
    int max = bytes.length * 8;
    if (prefix < 0) prefix = max;
    if (prefix > max) throw bad(text);
    return new IpBlock(mask(bytes, prefix), prefix, text);
  }

  /** Parses a single address literal, or returns {@code null}. */
  public static byte[] literal(String addr) {
    if (addr == null || addr.isEmpty()) return null;
    if (addr.indexOf(':') >= 0) {
      try {
        // A literal containing ':' is parsed as IPv6 without any lookup.
        byte[] b = InetAddress.getByName(addr.startsWith("[") ? addr : "[" + addr + "]").getAddress();
        return b.length == 16 ? b : null;
      } catch (UnknownHostException | SecurityException e) {
        return null;
      }
    }
    String[] parts = addr.split("\\.", -1);
    if (parts.length != 4) return null;
    byte[] out = new byte[4];
    for (int i = 0; i < 4; i++) {
      String s = parts[i];
      if (s.isEmpty() || s.length() > 3 || !s.chars().allMatch(Character::isDigit)) return null;
      int v = Integer.parseInt(s);
      if (v > 255) return null;
      out[i] = (byte) v;
    }
    return out;
  }

  private static byte[] mask(byte[] bytes, int prefix) {
    byte[] out = Arrays.copyOf(bytes, bytes.length);
    for (int i = 0; i < out.length; i++) {
      int bits = Math.max(0, Math.min(8, prefix - i * 8));
      out[i] = (byte) (out[i] & (0xFF << (8 - bits)));
    }
    return out;
  }

  /** Whether the address bytes (4 or 16) are inside this block. Allocation-free. */
  public boolean contains(byte[] address) {
    if (address == null || address.length != network.length) return false;
    int full = prefixLength / 8;
    for (int i = 0; i < full; i++) {
      if (address[i] != network[i]) return false;
    }
    int rest = prefixLength % 8;
    if (rest == 0) return true;
    int m = 0xFF << (8 - rest);
    return (address[full] & m) == (network[full] & 0xFF & m);
  }

  public int prefixLength() {
    return prefixLength;
  }

  @Override
  public String toString() {
    return text;
  }

  private static IllegalArgumentException bad(String text) {
    return new IllegalArgumentException(
        "\"" + text + "\" (expected: an IP address or CIDR block such as 10.0.0.0/8)");
  }
}
