package dev.lattice.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real {@code ./lattice} script decides when to rebuild: run on a copy of it in a small tree whose file times are
 * set explicitly (no sleeping, no wall clock), with {@code mvn} and {@code java} on PATH replaced by scripts that
 * record their call — the decision under test is the script's, a real Maven build would take minutes.
 */
class LatticeScriptTest {

  private static final Path SCRIPT = Path.of("../../lattice").toAbsolutePath().normalize();
  private static final Instant BUILT = Instant.parse("2026-01-01T12:00:00Z");

  @TempDir Path tmp;
  private Path root;
  private Path bin;
  private Path jar;

  @BeforeEach
  void tree() throws IOException {
    root = tmp.resolve("repo");
    bin = tmp.resolve("bin");
    Files.createDirectories(bin);
    Path local = Files.createDirectories(root.resolve("services/local/target"));
    Files.copy(SCRIPT, root.resolve("lattice"));
    executable(root.resolve("lattice"));
    // the fake Maven prints a colour reset the way Debian's Maven 3.8 does in batch mode, and "builds" the jar
    script("mvn", "printf '\\033[0m\\033[0m[lattice] built\\033[0m\\n'; echo mvn \"$@\" >> \"" + tmp.resolve("mvn.calls")
        + "\"; mkdir -p services/local/target; : > services/local/target/lattice-local-0.1.0-SNAPSHOT.jar;"
        + " : > services/local/target/classpath.txt");
    script("java", "echo \"java ran: ${@: -1}\"");
    jar = local.resolve("lattice-local-0.1.0-SNAPSHOT.jar");
    Files.writeString(jar, "");
    Files.writeString(local.resolve("classpath.txt"), "");
    for (String f : new String[] {"pom.xml", "policy-service/pom.xml",
        "policy-service/src/main/java/dev/lattice/policy/A.java", "policy-service/src/test/java/dev/lattice/policy/ATest.java",
        "policy-service/src/bench/java/dev/lattice/policy/ABench.java", "policy-service/src/main/resources/logback.xml",
        "schemas/avro/Resource.avsc", "docs/examples/samples-proxy.yaml", "docs/local.md",
        "policy-service/target/classes/dev/lattice/policy/A.java", ".lattice/streams/x.java"}) {
      Path p = root.resolve(f);
      Files.createDirectories(p.getParent());
      Files.writeString(p, "x");
      Files.setLastModifiedTime(p, FileTime.from(BUILT.minusSeconds(3600)));
    }
    Files.setLastModifiedTime(jar, FileTime.from(BUILT));
  }

  @Test
  void anUnchangedTreeRunsWithoutBuilding() throws Exception {
    Result r = run();
    assertThat(r.stdout).isEqualTo("java ran: version\n");
    assertThat(r.stderr).isEmpty();
    assertThat(tmp.resolve("mvn.calls")).doesNotExist();
  }

  @Test
  void aMainSourceNewerThanTheJarRebuildsNamingItAndStripsColourCodes() throws Exception {
    touch("policy-service/src/main/java/dev/lattice/policy/A.java");
    Result r = run();
    assertThat(r.stderr).contains("lattice: policy-service/src/main/java/dev/lattice/policy/A.java changed since the last build")
        .contains("[lattice] built").doesNotContain("\033");
    assertThat(Files.readString(tmp.resolve("mvn.calls"))).isEqualTo("mvn -B -q -DskipTests install\n");
    assertThat(r.stdout).isEqualTo("java ran: version\n");

    // the build touched the jar: the next run does not build again
    Files.delete(tmp.resolve("mvn.calls"));
    assertThat(run().stderr).isEmpty();
    assertThat(tmp.resolve("mvn.calls")).doesNotExist();
  }

  @Test
  void aPomASchemaAResourceOrTheSamplesConfigRebuild() throws Exception {
    for (String f : new String[] {"policy-service/pom.xml", "schemas/avro/Resource.avsc",
        "policy-service/src/main/resources/logback.xml", "docs/examples/samples-proxy.yaml"}) {
      Files.setLastModifiedTime(jar, FileTime.from(BUILT));
      touch(f);
      Result r = run();
      assertThat(r.stderr).as(f).contains("lattice: " + f + " changed since the last build");
      Files.setLastModifiedTime(root.resolve(f), FileTime.from(BUILT.minusSeconds(3600)));
    }
  }

  @Test
  void testsBenchmarksDocsBuildOutputAndTheDataDirDoNotRebuild() throws Exception {
    for (String f : new String[] {"policy-service/src/test/java/dev/lattice/policy/ATest.java",
        "policy-service/src/bench/java/dev/lattice/policy/ABench.java", "docs/local.md",
        "policy-service/target/classes/dev/lattice/policy/A.java", ".lattice/streams/x.java"}) {
      touch(f);
    }
    Result r = run();
    assertThat(r.stderr).isEmpty();
    assertThat(tmp.resolve("mvn.calls")).doesNotExist();
  }

  @Test
  void aMissingJarBuildsAndNoRebuildSkipsTheCheck() throws Exception {
    touch("pom.xml");
    Result skipped = run("LATTICE_NO_REBUILD", "1");
    assertThat(skipped.stderr).isEmpty();
    assertThat(tmp.resolve("mvn.calls")).doesNotExist();

    Files.delete(jar);
    assertThat(run().stderr).contains("lattice: first run, building");
    assertThat(jar).exists();
  }

  private void touch(String file) throws IOException {
    Files.setLastModifiedTime(root.resolve(file), FileTime.from(BUILT.plusSeconds(60)));
  }

  private void script(String name, String body) throws IOException {
    Path p = bin.resolve(name);
    Files.writeString(p, "#!/usr/bin/env bash\n" + body + "\n");
    executable(p);
  }

  private static void executable(Path p) throws IOException {
    Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
  }

  private record Result(String stdout, String stderr) {}

  private Result run(String... env) throws Exception {
    ProcessBuilder pb = new ProcessBuilder("bash", root.resolve("lattice").toString(), "version").directory(root.toFile());
    pb.environment().remove("JAVA_HOME");
    pb.environment().remove("LATTICE_NO_REBUILD");
    pb.environment().put("PATH", bin + ":/usr/bin:/bin");
    for (int i = 0; i < env.length; i += 2) {
      pb.environment().put(env[i], env[i + 1]);
    }
    pb.redirectOutput(tmp.resolve("out").toFile());
    pb.redirectError(tmp.resolve("err").toFile());
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("script finished").isTrue();
    String stderr = Files.readString(tmp.resolve("err"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isZero();
    return new Result(Files.readString(tmp.resolve("out"), StandardCharsets.UTF_8), stderr);
  }
}
