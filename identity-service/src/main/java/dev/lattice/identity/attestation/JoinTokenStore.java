package dev.lattice.identity.attestation;

import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.kit.files.AtomicFiles;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * One-time node join tokens. A token is 32 random bytes (base64url) handed to the operator once; the
 * server keeps only its SHA-256, the node id it will attest as, its expiry and, once used, when it was
 * burned. The state lives in {@code join-tokens.json} (permissions 600) in {@code identity.data.dir} and
 * is rewritten atomically before a burn is acknowledged, so a burned token stays burned across restarts.
 * Tokens are deliberately not on Kafka: they are bearer secrets, and a burn needs a single writer.
 *
 * <p>Attestation {@linkplain #claim claims} a token first and {@linkplain #burn(Claim) burns} it only
 * once the node's entry is on Kafka; a claim that fails is {@linkplain #release released}, so a node
 * that met a Kafka outage can attest again with the same token. While claimed, the token is refused to
 * every other attestation (no two nodes from one token).
 *
 * <p>Thread-safe: writers are synchronized and do disk I/O (call them off the event loop);
 * {@link #pendingNodes} reads an immutable snapshot published after each write, so it never waits for
 * the lock a writer holds while the file is written.
 */
public final class JoinTokenStore {

  private static final SecureRandom RANDOM = new SecureRandom();

  /** A node id a caller may choose: a SPIFFE path segment of 1 to 64 safe characters. */
  public static final Pattern NODE_ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

  /** A freshly made token: the secret (shown once), the node it attests and its expiry. */
  public record IssuedJoinToken(String token, String nodeId, Instant expiresAt) {
    @Override
    public String toString() {
      return "IssuedJoinToken[node=" + nodeId + ", expiresAt=" + expiresAt + "]";
    }
  }

  private record Stored(String nodeId, Instant expiresAt, Instant burnedAt) {}

  /** A valid token held by one attestation in progress: burn it once the node is registered, else release it. */
  public static final class Claim {
    private final String hash;
    private final String nodeId;

    private Claim(String hash, String nodeId) {
      this.hash = hash;
      this.nodeId = nodeId;
    }

    /** The node id the token attests. */
    public String nodeId() {
      return nodeId;
    }

    @Override
    public String toString() {
      return "JoinTokenStore.Claim[node=" + nodeId + "]";
    }
  }

  private final Path file;
  private final Clock clock;
  private final Map<String, Stored> tokens = new LinkedHashMap<>();
  /** Hashes of tokens claimed by an attestation in progress; outside the lock so a release never waits for disk. */
  private final Set<String> claimed = ConcurrentHashMap.newKeySet();
  /** Immutable copy of {@link #tokens} taken under the lock after each change; read without the lock. */
  private volatile List<Stored> snapshot = List.of();

  private JoinTokenStore(Path file, Clock clock) {
    this.file = file;
    this.clock = clock;
  }

  /** Opens (or creates) the store in {@code dir}. */
  public static JoinTokenStore open(Path dir, Clock clock) throws IOException {
    Files.createDirectories(dir);
    JoinTokenStore store = new JoinTokenStore(dir.resolve("join-tokens.json"), clock);
    if (Files.exists(store.file)) {
      JsonObject json = new JsonObject(Files.readString(store.file));
      for (Object o : json.getJsonArray("tokens", new JsonArray())) {
        JsonObject t = (JsonObject) o;
        store.tokens.put(t.getString("sha256"), new Stored(t.getString("nodeId"),
            Instant.parse(t.getString("expiresAt")),
            t.getString("burnedAt") == null ? null : Instant.parse(t.getString("burnedAt"))));
      }
    }
    store.publish();
    return store;
  }

  /** Makes a token valid for {@code ttl} for a new node (a generated {@code jt-…} node id). */
  public synchronized IssuedJoinToken create(Duration ttl) {
    return create(ttl, Optional.empty());
  }

  /**
   * Makes a token valid for {@code ttl}. With a {@code nodeId} the token attests that fixed node, so a
   * node that attests again (a restarted agent) keeps its SPIFFE ID and the entries parented to it.
   * Rules: the id matches {@link #NODE_ID} and does not start with {@code jt-} (reserved for generated
   * ids); a new token for a node id revokes that id's earlier unused tokens (at most one pending token
   * per node). Creating tokens is an admin operation, so whoever may create one may re-attest any node;
   * the node's previous SVID stays valid until it expires.
   *
   * @throws IllegalArgumentException on a bad ttl or node id
   */
  public synchronized IssuedJoinToken create(Duration ttl, Optional<String> requestedNodeId) {
    if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(Duration.ofDays(30)) > 0) {
      throw new IllegalArgumentException("ttl: " + ttl + " (expected: more than 0 and at most 30 days)");
    }
    String nodeId;
    if (requestedNodeId.isPresent()) {
      nodeId = requestedNodeId.get();
      if (!NODE_ID.matcher(nodeId).matches() || nodeId.startsWith("jt-")) {
        throw new IllegalArgumentException("nodeId: '" + nodeId + "' (expected: 1-64 of [A-Za-z0-9._-], "
            + "starting with a letter or digit, not starting with 'jt-')");
      }
      Instant now = clock.instant();
      tokens.replaceAll((hash, s) -> s.nodeId().equals(nodeId) && s.burnedAt() == null && now.isBefore(s.expiresAt())
          ? new Stored(s.nodeId(), now, null) : s);
    } else {
      byte[] id = new byte[8];
      RANDOM.nextBytes(id);
      nodeId = "jt-" + HexFormat.of().formatHex(id);
    }
    byte[] secret = new byte[32];
    RANDOM.nextBytes(secret);
    String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
    Instant expiresAt = clock.instant().plus(ttl);
    tokens.put(sha256(token), new Stored(nodeId, expiresAt, null));
    save();
    publish();
    return new IssuedJoinToken(token, nodeId, expiresAt);
  }

  /**
   * Revokes every unused, unexpired token of {@code nodeId} (they expire now; the revocation is on disk
   * before this returns). Burned tokens stay as they are: a node that attested keeps its identity.
   *
   * @return how many tokens were revoked (0 when the node has none pending)
   */
  public synchronized int revoke(String nodeId) {
    Instant now = clock.instant();
    int[] revoked = {0};
    tokens.replaceAll((hash, s) -> {
      if (s.nodeId().equals(nodeId) && s.burnedAt() == null && now.isBefore(s.expiresAt())) {
        revoked[0]++;
        return new Stored(s.nodeId(), now, null);
      }
      return s;
    });
    if (revoked[0] > 0) {
      save();
      publish();
    }
    return revoked[0];
  }

  /**
   * Burns {@code token} at once and returns the node id it attests ({@link #claim} then
   * {@link #burn(Claim)}); fails with {@link AttestationException} when it is unknown, expired, already
   * used or being used. The burn is on disk before this returns.
   */
  public String burn(String token) {
    Claim claim = claim(token);
    try {
      burn(claim);
    } finally {
      release(claim);
    }
    return claim.nodeId();
  }

  /**
   * Holds {@code token} for one attestation without burning it; fails with {@link AttestationException}
   * when it is unknown, expired, already used or claimed by another attestation in progress. No disk I/O.
   */
  public synchronized Claim claim(String token) {
    String hash = sha256(token == null ? "" : token.strip());
    Stored stored = tokens.get(hash);
    Instant now = clock.instant();
    if (stored == null) {
      throw new AttestationException("join token: unknown (expected: a token made with POST /v1/tokens)");
    }
    if (stored.burnedAt() != null) {
      throw new AttestationException("join token: already used at " + stored.burnedAt()
          + " by node " + stored.nodeId() + " (expected: a token that was never used; tokens are one-time)");
    }
    if (!now.isBefore(stored.expiresAt())) {
      throw new AttestationException("join token: expired at " + stored.expiresAt() + " (now " + now + ")");
    }
    if (!claimed.add(hash)) {
      throw new AttestationException("join token: an attestation with it is in progress for node "
          + stored.nodeId() + " (expected: a token that was never used; tokens are one-time)");
    }
    return new Claim(hash, stored.nodeId());
  }

  /**
   * Burns a claimed token (on disk before this returns) and ends the claim. Fails with
   * {@link IllegalStateException} when the claim was released already.
   */
  public synchronized void burn(Claim claim) {
    if (!claimed.contains(claim.hash)) {
      throw new IllegalStateException("join token claim for node " + claim.nodeId + " was released (expected: a held claim)");
    }
    Stored stored = tokens.get(claim.hash);
    tokens.put(claim.hash, new Stored(stored.nodeId(), stored.expiresAt(), clock.instant()));
    try {
      save();
    } catch (RuntimeException e) {
      tokens.put(claim.hash, stored);
      throw e;
    }
    publish();
    claimed.remove(claim.hash);
  }

  /** Ends a claim without burning: the token stays usable. Idempotent, no-op after a burn; never blocks. */
  public void release(Claim claim) {
    claimed.remove(claim.hash);
  }

  /** Node SPIFFE IDs of tokens that are neither used nor expired (they may parent entries already). */
  public Set<SpiffeId> pendingNodes(TrustDomain trustDomain) {
    Instant now = clock.instant();
    Set<SpiffeId> out = new HashSet<>();
    for (Stored s : snapshot) {
      if (s.burnedAt() == null && now.isBefore(s.expiresAt())) {
        out.add(SpiffeIds.node(trustDomain, s.nodeId()));
      }
    }
    return out;
  }

  /** Called under the lock (or before the store is shared) once a change is on disk. */
  private void publish() {
    snapshot = List.copyOf(tokens.values());
  }

  private void save() {
    JsonArray list = new JsonArray();
    tokens.forEach((hash, s) -> list.add(new JsonObject().put("sha256", hash).put("nodeId", s.nodeId())
        .put("expiresAt", s.expiresAt().toString())
        .put("burnedAt", s.burnedAt() == null ? null : s.burnedAt().toString())));
    try {
      AtomicFiles.writePrivate(file, new JsonObject().put("tokens", list).encodePrettily());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static String sha256(String token) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
