package dev.lattice.kit.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Writes files so that a reader (or a crash) sees either the old content or the new one, never a torn
 * mix: the bytes go to a uniquely named temporary file next to the target (created with the final
 * permissions, so a secret is never readable by others even for a moment), are forced to disk, and the
 * temporary file is renamed over the target; the directory is then forced so the rename survives a
 * power loss.
 *
 * <p>Blocking (disk I/O, fsync): call from a worker thread, never an event loop. Stateless and
 * thread-safe; two concurrent writers of one target each write their own temporary file, and the last
 * rename wins.
 */
public final class AtomicFiles {

  /** {@code rw-------}: keys, tokens, anything secret. */
  public static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
  /** {@code rwx------}: directories holding secrets. */
  public static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");
  /** {@code rw-r--r--}: public data (certificates, endpoint lists). */
  public static final Set<PosixFilePermission> WORLD_READABLE = PosixFilePermissions.fromString("rw-r--r--");

  private AtomicFiles() {}

  /** {@link #write} with {@link #OWNER_ONLY} permissions. */
  public static void writePrivate(Path target, byte[] bytes) throws IOException {
    write(target, bytes, OWNER_ONLY);
  }

  /** {@link #write} of UTF-8 text with {@link #OWNER_ONLY} permissions. */
  public static void writePrivate(Path target, String text) throws IOException {
    write(target, text.getBytes(StandardCharsets.UTF_8), OWNER_ONLY);
  }

  /**
   * Replaces {@code target} with {@code bytes} atomically; creates the parent directories when missing.
   * The target ends up with {@code permissions} (on a non-POSIX file system: the default ones).
   */
  public static void write(Path target, byte[] bytes, Set<PosixFilePermission> permissions) throws IOException {
    Path dir = parentOf(target);
    Files.createDirectories(dir);
    Path tmp = createTemp(dir, target.getFileName().toString(), permissions);
    try {
      writeAndForce(tmp, bytes);
      try {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    forceDirectory(dir);
  }

  /**
   * Creates {@code target} with {@code bytes} unless it already exists, atomically: a reader never sees
   * it partly written, and of two concurrent creators exactly one wins (the file is linked into place,
   * which fails when the name is taken). Returns false, and changes nothing, when {@code target} exists.
   */
  public static boolean createIfAbsent(Path target, byte[] bytes, Set<PosixFilePermission> permissions)
      throws IOException {
    Path dir = parentOf(target);
    Files.createDirectories(dir);
    if (Files.exists(target)) {
      return false;
    }
    Path tmp = createTemp(dir, target.getFileName().toString(), permissions);
    try {
      writeAndForce(tmp, bytes);
      try {
        Files.createLink(target, tmp);
      } catch (FileAlreadyExistsException e) {
        return false;
      } catch (UnsupportedOperationException e) {
        // no hard links on this file system: an exclusive create is the next best no-replace primitive
        try {
          Files.write(target, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException raced) {
          return false;
        }
      }
    } finally {
      Files.deleteIfExists(tmp);
    }
    forceDirectory(dir);
    return true;
  }

  /** Creates {@code dir} (and parents) and restricts {@code dir} itself to its owner ({@code rwx------}). */
  public static Path createPrivateDirectories(Path dir) throws IOException {
    Files.createDirectories(dir);
    try {
      Files.setPosixFilePermissions(dir, OWNER_ONLY_DIR);
    } catch (UnsupportedOperationException nonPosix) {
      // nothing to tighten on this file system
    }
    return dir;
  }

  private static Path parentOf(Path target) {
    Path parent = target.toAbsolutePath().getParent();
    if (parent == null) {
      throw new IllegalArgumentException("target: " + target + " (expected: a file path, not a root)");
    }
    return parent;
  }

  private static Path createTemp(Path dir, String name, Set<PosixFilePermission> permissions) throws IOException {
    // A dot prefix keeps the temporary file out of casual listings; the random middle keeps two
    // writers of one target apart.
    String prefix = "." + name + ".";
    try {
      FileAttribute<Set<PosixFilePermission>> attr = PosixFilePermissions.asFileAttribute(permissions);
      return Files.createTempFile(dir, prefix, ".tmp", attr);
    } catch (UnsupportedOperationException nonPosix) {
      return Files.createTempFile(dir, prefix, ".tmp");
    }
  }

  private static void writeAndForce(Path file, byte[] bytes) throws IOException {
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
  }

  private static void forceDirectory(Path dir) {
    // Linux lets a directory be opened read-only and fsynced; elsewhere this may fail, which only
    // weakens durability after a power loss, never atomicity.
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException | UnsupportedOperationException ignored) {
      // best effort
    }
  }
}
