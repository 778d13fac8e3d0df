package dev.lattice.dataplane;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.testkit.architecture.PackageCycles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Packages of the data plane depend on each other in one direction only (issue 13): filters never reach into
 * telemetry or the proxy core, so a filter or an exporter can change without dragging the other along.
 */
class PackageStructureTest {

  @Test
  void noPackageCycles() {
    assertThat(PackageCycles.in(Path.of("src/main/java"))).isEmpty();
  }
}
