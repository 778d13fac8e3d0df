package dev.lattice.kit.admin;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a service accepts as the admin credential: the SHA-256 digests of the tokens in its
 * {@link AdminTokenFile} (the tokens themselves are not kept). A presented token is hashed and compared
 * in constant time.
 *
 * <p>The file is read again on {@link #reload()} — the handler calls it when a token does not match,
 * so a rotated token works on its first use — and in the background when an accepted token was checked
 * against a reading older than five seconds, so a token removed from the file stops working within
 * seconds. One reload runs at a time (concurrent callers share it) on a worker thread. Thread-safe.
 */
public final class AdminCredential {

  private static final Logger LOG = LoggerFactory.getLogger(AdminCredential.class);

  private final Vertx vertx;
  private final AdminTokenFile file;
  /** How old the tokens read last may get before an accepted request makes the file be read again. */
  static final long STALE_AFTER_NANOS = java.util.concurrent.TimeUnit.SECONDS.toNanos(5);

  private volatile List<byte[]> digests;
  private volatile long readAtNanos = System.nanoTime();
  private Future<Void> reloading;

  private AdminCredential(Vertx vertx, AdminTokenFile file, List<byte[]> digests) {
    this.vertx = vertx;
    this.file = file;
    this.digests = digests;
  }

  /**
   * Loads the credential from {@code file} on a worker, creating the file with a new token first when
   * it does not exist (a service's first start). Fails when the file cannot be read or holds no token.
   */
  public static Future<AdminCredential> open(Vertx vertx, AdminTokenFile file) {
    return vertx.executeBlocking(() -> {
      if (file.createIfMissing()) {
        LOG.info("admin credential created in {} (mode 600); the lattice CLI reads it from there", file.path());
      }
      if (file.readableByOthers()) {
        // not fatal: a Kubernetes secret volume is 0644 unless defaultMode says otherwise
        LOG.warn("admin credential {} is readable by group or others: chmod 600 it", file.path());
      }
      return new AdminCredential(vertx, file, digestsOf(file.tokens()));
    }, false);
  }

  /** The file this credential comes from (its path is not secret: error messages name it). */
  public AdminTokenFile file() {
    return file;
  }

  /** True when {@code presented} is one of the tokens read last. */
  public boolean accepts(String presented) {
    if (presented == null || presented.isEmpty()) {
      return false;
    }
    byte[] candidate = sha256(presented);
    boolean match = false;
    for (byte[] d : digests) {
      match |= MessageDigest.isEqual(d, candidate); // no early exit: same time whichever token matches
    }
    if (match && System.nanoTime() - readAtNanos > STALE_AFTER_NANOS) {
      // A token removed from the file must stop working even if nobody presents a new one: re-read in
      // the background (this request is not held up).
      reload();
    }
    return match;
  }

  /**
   * Reads the file again (on a worker); completes when done. A file that became unreadable or empty
   * keeps the tokens read before (logged), so a botched edit does not lock the admin out of a running
   * service.
   */
  public synchronized Future<Void> reload() {
    if (reloading != null) {
      return reloading;
    }
    Future<Void> f = vertx.<Void>executeBlocking(() -> {
      try {
        digests = digestsOf(file.tokens());
        readAtNanos = System.nanoTime();
      } catch (java.io.IOException e) {
        readAtNanos = System.nanoTime(); // no re-read storm while the file stays broken
        LOG.warn("admin credential {} not re-read, keeping the tokens read before: {}", file.path(), e.getMessage());
      }
      return null;
    }, false);
    reloading = f;
    f.onComplete(ar -> {
      synchronized (this) {
        reloading = null;
      }
    });
    return f;
  }

  private static List<byte[]> digestsOf(List<String> tokens) {
    return tokens.stream().map(AdminCredential::sha256).toList();
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from this JVM", e);
    }
  }

  @Override
  public String toString() {
    return "AdminCredential[" + file.path() + ", " + digests.size() + " token(s)]";
  }
}
