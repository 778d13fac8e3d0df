package dev.lattice.kit.files;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {

  @TempDir Path dir;

  @Test
  void writeReplacesTheContentWithTheGivenPermissionsAndLeavesNoTemporaryFile() throws Exception {
    Path target = dir.resolve("sub/dir/secret.json");
    AtomicFiles.writePrivate(target, "one");
    AtomicFiles.writePrivate(target, "two");
    assertThat(Files.readString(target)).isEqualTo("two");
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
    AtomicFiles.write(target, "three".getBytes(StandardCharsets.UTF_8), AtomicFiles.WORLD_READABLE);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-r--r--");
    try (Stream<Path> files = Files.list(target.getParent())) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("secret.json");
    }
  }

  @Test
  void aReaderNeverSeesATornFileWhileAWriterReplacesIt() throws Exception {
    Path target = dir.resolve("big");
    byte[] a = "a".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
    byte[] b = "b".repeat(1 << 20).getBytes(StandardCharsets.US_ASCII);
    AtomicFiles.writePrivate(target, a);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<?> writer = pool.submit(() -> {
        for (int i = 0; i < 40; i++) {
          AtomicFiles.writePrivate(target, i % 2 == 0 ? b : a);
        }
        return null;
      });
      Set<Character> seen = new HashSet<>();
      while (!writer.isDone()) {
        byte[] read = Files.readAllBytes(target);
        assertThat(read).hasSize(1 << 20);
        assertThat(read[0]).isEqualTo(read[read.length - 1]);
        seen.add((char) read[0]);
      }
      writer.get(60, TimeUnit.SECONDS);
      assertThat(seen).isNotEmpty();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void createIfAbsentHasExactlyOneWinnerAndNeverReplaces() throws Exception {
    Path target = dir.resolve("token");
    int writers = 8;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> results = new ArrayList<>();
    try {
      for (int i = 0; i < writers; i++) {
        byte[] content = ("writer-" + i).getBytes(StandardCharsets.UTF_8);
        Callable<Boolean> create = () -> {
          go.await();
          return AtomicFiles.createIfAbsent(target, content, AtomicFiles.OWNER_ONLY);
        };
        results.add(pool.submit(create));
      }
      go.countDown();
      int winners = 0;
      for (Future<Boolean> r : results) {
        winners += r.get(30, TimeUnit.SECONDS) ? 1 : 0;
      }
      assertThat(winners).isEqualTo(1);
    } finally {
      pool.shutdownNow();
    }
    String content = Files.readString(target);
    assertThat(content).startsWith("writer-");
    assertThat(AtomicFiles.createIfAbsent(target, "late".getBytes(StandardCharsets.UTF_8), AtomicFiles.OWNER_ONLY)).isFalse();
    assertThat(Files.readString(target)).isEqualTo(content);
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(target))).isEqualTo("rw-------");
    try (Stream<Path> files = Files.list(dir)) {
      assertThat(files.map(p -> p.getFileName().toString())).containsExactly("token");
    }
  }

  @Test
  void privateDirectoriesAreOwnerOnly() throws Exception {
    Path d = AtomicFiles.createPrivateDirectories(dir.resolve("a/b"));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(d))).isEqualTo("rwx------");
  }
}
