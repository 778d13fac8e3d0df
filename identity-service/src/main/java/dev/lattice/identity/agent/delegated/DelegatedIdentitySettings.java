package dev.lattice.identity.agent.delegated;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Set;

/**
 * Where the Delegated Identity API listens and who may call it.
 *
 * <p>A caller is authorized when the kernel reports one of {@link #authorizedUids()} for its
 * connection, or when the agent's workload attestation of the caller's process matches an entry whose
 * SPIFFE ID is one of {@link #authorizedSpiffeIds()} (SPIRE's {@code authorized_delegates}). Nobody else
 * is, however the socket file's permissions are set. Immutable.
 *
 * @param socket the admin socket path; never the Workload API socket
 * @param authorizedUids peer uids allowed to call
 * @param authorizedSpiffeIds SPIFFE IDs (of this node's entries) allowed to call
 */
public record DelegatedIdentitySettings(Path socket, Set<Integer> authorizedUids, Set<String> authorizedSpiffeIds) {

  public DelegatedIdentitySettings {
    Objects.requireNonNull(socket, "socket");
    authorizedUids = Set.copyOf(authorizedUids);
    authorizedSpiffeIds = Set.copyOf(authorizedSpiffeIds);
    for (int uid : authorizedUids) {
      if (uid < 0) {
        throw new IllegalArgumentException("authorized uid: " + uid + " (expected: 0 or more)");
      }
    }
    for (String id : authorizedSpiffeIds) {
      if (id == null || !id.startsWith("spiffe://") || id.length() == "spiffe://".length()) {
        throw new IllegalArgumentException(
            "authorized SPIFFE ID: '" + id + "' (expected: spiffe://<trust-domain>/<path>)");
      }
    }
    if (authorizedUids.isEmpty() && authorizedSpiffeIds.isEmpty()) {
      throw new IllegalArgumentException(
          "the Delegated Identity API needs at least one authorized caller (a uid or a SPIFFE ID)");
    }
  }

  /** Parses a comma-separated uid list ({@code "1000, 1001"}); blank gives none. */
  public static Set<Integer> parseUids(String text) {
    Set<Integer> uids = new java.util.LinkedHashSet<>();
    for (String part : text == null ? new String[0] : text.split(",")) {
      String uid = part.trim();
      if (uid.isEmpty()) {
        continue;
      }
      try {
        uids.add(Integer.parseInt(uid));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("authorized uid: '" + uid + "' (expected: a number such as 1000)");
      }
    }
    return uids;
  }

  /** Parses a comma-separated SPIFFE ID list; blank gives none. */
  public static Set<String> parseSpiffeIds(String text) {
    Set<String> ids = new java.util.LinkedHashSet<>();
    for (String part : text == null ? new String[0] : text.split(",")) {
      if (!part.isBlank()) {
        ids.add(part.trim());
      }
    }
    return ids;
  }
}
