package dev.lattice.configclient;

import static dev.lattice.configclient.ConfigClientFixtures.cluster;
import static dev.lattice.configclient.ConfigClientFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.config.ConfigType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SnapshotFileTest {

  @TempDir
  Path dir;

  private ConfigSnapshot sample() {
    return ConfigSnapshot.of("node-a", List.of(cluster("node-a", "c1", 80), route("node-a", "r1", "c1")), 7,
        ConfigSnapshot.Source.STREAM);
  }

  @Test
  void roundTripsOwnerOnly() throws Exception {
    Path f = dir.resolve("sub/config.snapshot");
    SnapshotFile.write(f, sample());
    SnapshotFile.Loaded loaded = SnapshotFile.load(f, "node-a");
    assertThat(loaded.problem()).isNull();
    assertThat(loaded.snapshot().source()).isEqualTo(ConfigSnapshot.Source.PERSISTED);
    assertThat(loaded.snapshot().all()).containsExactlyElementsOf(sample().all());
    assertThat(loaded.snapshot().versions(ConfigType.CLUSTER)).isEqualTo(sample().versions(ConfigType.CLUSTER));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(f))).isEqualTo("rw-------");
  }

  @Test
  void missingFileIsNeitherASnapshotNorAProblem() {
    SnapshotFile.Loaded loaded = SnapshotFile.load(dir.resolve("absent"), "node-a");
    assertThat(loaded.present()).isFalse();
    assertThat(loaded.problem()).isNull();
  }

  @Test
  void corruptFilesAreReportedNeverThrown() throws Exception {
    Path f = dir.resolve("config.snapshot");
    SnapshotFile.write(f, sample());
    byte[] good = Files.readAllBytes(f);

    Files.write(f, "not a snapshot at all, just some text".getBytes());
    assertThat(SnapshotFile.load(f, "node-a").problem()).contains("not a Lattice config snapshot");

    byte[] flipped = good.clone();
    flipped[good.length / 2] ^= 0x40;
    Files.write(f, flipped);
    assertThat(SnapshotFile.load(f, "node-a").problem()).contains("checksum mismatch");

    Files.write(f, java.util.Arrays.copyOf(good, good.length - 7));
    assertThat(SnapshotFile.load(f, "node-a").problem()).contains("checksum mismatch");

    Files.write(f, new byte[0]);
    assertThat(SnapshotFile.load(f, "node-a").problem()).contains("not a Lattice config snapshot");

    Files.write(f, good);
    assertThat(SnapshotFile.load(f, "node-b").problem()).contains("snapshot of node node-a (expected: node-b)");
  }
}
