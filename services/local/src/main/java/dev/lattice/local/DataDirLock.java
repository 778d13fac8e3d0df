package dev.lattice.local;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * An exclusive OS file lock on {@code <data-dir>/lock}, so two {@code lattice up} never share one data
 * dir (two Kafka brokers on one log directory corrupt it). Released on {@link #close()} or when the JVM
 * dies. Not thread-safe; the stack that took it closes it.
 */
final class DataDirLock implements AutoCloseable {
  static final String FILE_NAME = "lock";
  /**
   * Written into a data dir that was missing or empty when Lattice first took it: only a dir with this
   * marker is Lattice's own, so only such a dir may be wiped by {@code --clean}.
   */
  static final String MARKER = ".lattice-data-dir";

  private final FileChannel channel;
  private final FileLock lock;

  private DataDirLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Takes the lock or fails with a message saying another stack holds it. */
  static DataDirLock acquire(Path dataDir) throws IOException {
    boolean fresh = !Files.exists(dataDir) || isEmpty(dataDir);
    Files.createDirectories(dataDir);
    Path file = dataDir.resolve(FILE_NAME);
    FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null;
    }
    if (lock == null) {
      channel.close();
      throw new IllegalStateException(dataDir.toAbsolutePath() + " is in use by another 'lattice up' "
          + "(stop it, or pass --data-dir=<another dir>)");
    }
    if (fresh) {
      Files.writeString(dataDir.resolve(MARKER), "Created by 'lattice up': every file in this directory was written "
          + "by Lattice; 'lattice up --clean' wipes it.\n", java.nio.charset.StandardCharsets.UTF_8);
    }
    return new DataDirLock(channel, lock);
  }

  private static boolean isEmpty(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) return false;
    try (java.util.stream.Stream<Path> entries = Files.list(dir)) {
      return entries.findAny().isEmpty();
    }
  }

  @Override
  public void close() throws IOException {
    try {
      lock.release();
    } finally {
      channel.close();
    }
  }
}
