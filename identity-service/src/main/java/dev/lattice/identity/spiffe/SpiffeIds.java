package dev.lattice.identity.spiffe;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import java.nio.charset.StandardCharsets;

/**
 * Parses and checks SPIFFE IDs against the SPIFFE-ID standard. java-spiffe's {@link SpiffeId#parse}
 * implements the scheme, authority and path character rules; the length limits of §2.3 (255-byte
 * trust domain, 2048-byte URI) and the leaf rule of X509-SVID §3.1 (non-root path) are added here, and
 * every error is rethrown as an {@link InvalidSpiffeIdException} quoting the input and the rule.
 * Stateless and thread-safe.
 */
public final class SpiffeIds {

  /** SPIFFE-ID §2.3: implementations SHOULD NOT generate URIs longer than 2048 bytes. */
  public static final int MAX_SPIFFE_ID_LENGTH = 2048;

  private SpiffeIds() {}

  /** Parses any SPIFFE ID, with or without a path. */
  public static SpiffeId parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new InvalidSpiffeIdException("spiffe id: '' (expected: spiffe://<trust-domain>/<path>, SPIFFE-ID §2)");
    }
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > MAX_SPIFFE_ID_LENGTH) {
      throw new InvalidSpiffeIdException("spiffe id: " + bytes + " bytes (expected: at most "
          + MAX_SPIFFE_ID_LENGTH + ", SPIFFE-ID §2.3)");
    }
    if (text.startsWith("spiffe://")) {
      int end = text.indexOf('/', "spiffe://".length());
      int tdLength = (end < 0 ? text.length() : end) - "spiffe://".length();
      if (tdLength > TrustDomains.MAX_TRUST_DOMAIN_LENGTH) {
        throw new InvalidSpiffeIdException("spiffe id: trust domain of " + tdLength + " characters (expected: at most "
            + TrustDomains.MAX_TRUST_DOMAIN_LENGTH + ", SPIFFE-ID §2.3)");
      }
    }
    try {
      return SpiffeId.parse(text);
    } catch (RuntimeException e) {
      throw new InvalidSpiffeIdException("spiffe id: '" + abbreviate(text) + "': " + e.getMessage() + " (" + section(e.getMessage()) + ")");
    }
  }

  /** Parses the SPIFFE ID of a workload or node: X509-SVID §3.1 requires a non-root path. */
  public static SpiffeId parseLeaf(String text) {
    SpiffeId id = parse(text);
    if (id.getPath().isEmpty()) {
      throw new InvalidSpiffeIdException("spiffe id: '" + text
          + "' has no path (expected: a non-root path for a workload or node, X509-SVID §3.1)");
    }
    return id;
  }

  /** Parses a leaf SPIFFE ID and requires it to be a member of {@code trustDomain}. */
  public static SpiffeId parseLeafIn(String text, TrustDomain trustDomain) {
    SpiffeId id = parseLeaf(text);
    if (!id.memberOf(trustDomain)) {
      throw new InvalidSpiffeIdException("spiffe id: '" + text + "' is in trust domain '" + id.getTrustDomain()
          + "' (expected: '" + trustDomain + "')");
    }
    return id;
  }

  /** The node SPIFFE ID Lattice gives an attested node: {@code spiffe://<td>/lattice/node/<id>}. */
  public static SpiffeId node(TrustDomain trustDomain, String nodeId) {
    return parseLeaf("spiffe://" + trustDomain + "/lattice/node/" + nodeId);
  }

  /** The path prefix of every identity Lattice mints itself (server, nodes, whatever comes next). */
  public static final String RESERVED_PATH_PREFIX = "/lattice/";

  /**
   * True when {@code id} is in {@code trustDomain}'s reserved {@code /lattice} path (the server, nodes and
   * anything else Lattice mints for itself): no registration entry may name it.
   */
  public static boolean isReserved(SpiffeId id, TrustDomain trustDomain) {
    return id.memberOf(trustDomain)
        && (id.getPath().equals("/lattice") || id.getPath().startsWith(RESERVED_PATH_PREFIX));
  }

  /** True when {@code id} is a node ID of {@code trustDomain} (path {@code /lattice/node/<id>}). */
  public static boolean isNode(SpiffeId id, TrustDomain trustDomain) {
    return id.memberOf(trustDomain) && id.getPath().startsWith("/lattice/node/")
        && id.getPath().indexOf('/', "/lattice/node/".length()) < 0;
  }

  private static String section(String message) {
    String m = message == null ? "" : message.toLowerCase(java.util.Locale.ROOT);
    if (m.contains("scheme")) {
      return "SPIFFE-ID §2: scheme MUST be 'spiffe'";
    }
    if (m.contains("trust domain")) {
      return "SPIFFE-ID §2.1: trust domain is the URI host, lowercase letters, digits, '.', '-', '_'; no userinfo or port";
    }
    return "SPIFFE-ID §2.2: path segments of letters, digits, '.', '-', '_'; no empty, '.' or '..' segments,"
        + " no trailing '/', no percent-encoding, no query or fragment";
  }

  private static String abbreviate(String text) {
    return text.length() <= 120 ? text : text.substring(0, 117) + "...";
  }
}
