package dev.lattice.cli.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.cli.CliRun;
import dev.lattice.kit.admin.AdminTokenFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdminCommandTest {

  @TempDir Path dataDir;

  @Test
  void rotateTokenWithAnOverlapThenWithout() throws Exception {
    AdminTokenFile file = AdminTokenFile.inDataDir(dataDir);
    file.createIfMissing();
    String first = file.tokens().get(0);

    CliRun overlap = CliRun.of(Map.of(), dataDir, "admin", "rotate-token", "--keep-previous");
    assertThat(overlap.exit()).as(overlap.err()).isZero();
    assertThat(overlap.out()).contains("admin token rotated in " + file.path(), "1 previous token(s) still valid");
    List<String> tokens = file.tokens();
    assertThat(tokens).hasSize(2).element(1).isEqualTo(first);
    assertThat(overlap.out()).doesNotContain(tokens.get(0)).doesNotContain(first);

    CliRun cut = CliRun.of(Map.of(), dataDir, "admin", "rotate-token");
    assertThat(cut.exit()).as(cut.err()).isZero();
    assertThat(file.tokens()).hasSize(1).doesNotContain(first, tokens.get(0));
    assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file.path()))).isEqualTo("rw-------");
  }

  @Test
  void theTokenFileFromTheEnvironmentWins(@TempDir Path other) throws Exception {
    Path elsewhere = other.resolve("token");
    CliRun run = CliRun.of(Map.of("LATTICE_ADMIN_TOKEN_FILE", elsewhere.toString()), dataDir, "admin", "rotate-token");
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(AdminTokenFile.at(elsewhere).tokens()).hasSize(1);
    assertThat(dataDir.resolve("admin.token")).doesNotExist();
  }
}
