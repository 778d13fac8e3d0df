package dev.lattice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.testkit.architecture.PackageCycles;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Packages depend on each other in one direction only (issue 13: cycles make classes impossible to split). */
class PackageStructureTest {

  @Test
  void noPackageCycles() {
    assertThat(PackageCycles.in(Path.of("src/main/java"))).isEmpty();
  }
}
