package dev.lattice.local;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.kit.service.ServiceLauncher;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A clean {@code ./lattice up} logs no WARN or ERROR, from start through ready to a clean stop: the real
 * {@code LocalStack} main in a child JVM with the services' own {@code logback.xml} (not the tests' quieter one), the
 * JVM options of the {@code lattice} script, a fresh data dir, every line of its output checked. A warning at every
 * start teaches users to ignore warnings; fix each at its cause (or lower a level where the condition is expected,
 * saying why, as kit's {@code logback.xml} does).
 */
class CleanStartLogTest {

  private static final Pattern ALARMING = Pattern.compile(
      "level=(WARN|ERROR)|^SLF4J|^WARNING|Exception in thread|^\\s+at [a-z]");

  // short: the node agent's unix sockets live under it (a socket path has at most 107 bytes)
  private final Path base = Path.of("target", "cs-" + UUID.randomUUID().toString().substring(0, 8)).toAbsolutePath();
  private Process child;

  @AfterEach
  void cleanUp() throws IOException {
    if (child != null && child.isAlive()) {
      child.destroyForcibly();
    }
    if (Files.exists(base)) {
      try (Stream<Path> files = Files.walk(base)) {
        files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void aCleanStartAndStopLogNoWarning() throws Exception {
    Path dataDir = base.resolve("data");
    // Kafka Streams rightly warns when its state dir is under java.io.tmpdir: a user's .lattice is not, nor is this
    Path tmpDir = Files.createDirectories(base.resolve("tmp"));
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-D" + ServiceLauncher.AVRO_TRUSTED_PACKAGES_PROPERTY + "=" + ServiceLauncher.AVRO_TRUSTED_PACKAGES,
        "-Xmx1g", "-XX:+UseSerialGC", // the script's defaults for `up`
        "-Dlogback.configurationFile=logback.xml", // kit's, as in ./lattice up (the test classpath has logback-test.xml)
        "-Djava.io.tmpdir=" + tmpDir,
        "-cp", runtimeClasspath(), LocalStack.class.getName(),
        "up", "--ephemeral-ports", "--clean", "--data-dir=" + dataDir));
    // output to a file, not a pipe: the JDK closes a finished child's pipe under a concurrent reader
    Path log = base.resolve("up.log");
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().keySet().removeIf(k -> k.startsWith("LATTICE_"));
    child = pb.start();

    // bounds only (the stack's own ready timeout is 90 s); nothing here depends on how fast it is
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(240);
    List<String> lines = read(log);
    while (child.isAlive() && System.nanoTime() < deadline
        && lines.stream().noneMatch(l -> l.startsWith("Lattice is ready") || l.startsWith("Not ready yet"))) {
      Thread.sleep(500);
      lines = read(log);
    }
    assertThat(lines).as(join(lines)).anyMatch(l -> l.startsWith("Lattice is ready"));
    child.destroy(); // SIGTERM, as Ctrl-C: the shutdown hook stops the stack
    assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("stopped; output:%n%s", join(read(log))).isTrue();
    lines = read(log);

    assertThat(lines).as(join(lines)).anyMatch(l -> l.startsWith("Lattice stopped in"));
    // Known and tolerated for now: on a busy 2-core machine the agent's first mTLS connection to the signing API
    // (Vert.x building the client SSL context, JFR's TLS event classes defined on first use, the SPIFFE chain check)
    // keeps an event loop busy for just over Vert.x's 2 s limit now and then. Reported, not failed: it depends on the
    // machine's load, and the event-loop guard of the module tests (100 ms) is where blocking is held to account.
    List<String> blocked = lines.stream().filter(l -> l.contains("logger=i.v.core.impl.BlockedThreadChecker")).toList();
    blocked.forEach(l -> System.out.println("tolerated (load-dependent): " + l));
    assertThat(lines.stream().filter(l -> ALARMING.matcher(l).find() && !blocked.contains(l)).toList())
        .as("a clean start and stop log no warning; full output:%n%s", join(lines)).isEmpty();
  }

  /** The test JVM's class path minus test classes and test-only jars: what {@code classpath.txt} holds at runtime. */
  private static String runtimeClasspath() {
    String cp = System.getProperty("java.class.path");
    return String.join(System.getProperty("path.separator"), Arrays.stream(cp.split(System.getProperty("path.separator")))
        .filter(e -> !e.endsWith("test-classes") && !e.contains("surefire")).toList());
  }

  private static List<String> read(Path log) throws IOException {
    return Files.exists(log) ? Files.readAllLines(log, StandardCharsets.UTF_8) : List.of();
  }

  private static String join(List<String> lines) {
    return String.join("\n", lines);
  }
}
