package dev.lattice.cli;

import static org.awaitility.Awaitility.await;

import dev.lattice.kit.service.RunningService;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import picocli.CommandLine;

/**
 * One in-process run of the {@code lattice} command with captured output, for tests.
 *
 * @param exit the exit code picocli returned
 * @param out what the command printed on standard output
 * @param err what it printed on standard error
 */
public record CliRun(int exit, String out, String err) {

  /** Runs {@code lattice --data-dir <dataDir> args…} with the given environment. */
  public static CliRun of(Map<String, String> env, Path dataDir, String... args) {
    CommandLine cli = LatticeCli.commandLine(new LatticeCli(env));
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out));
    cli.setErr(new PrintWriter(err));
    String[] all = new String[args.length + 2];
    all[0] = "--data-dir";
    all[1] = dataDir.toString();
    System.arraycopy(args, 0, all, 2, args.length);
    int exit = cli.execute(all);
    return new CliRun(exit, out.toString(), err.toString());
  }

  /** Waits (up to 60 s) until a started service answers {@code /readyz} with 200. */
  public static void awaitReady(RunningService service) {
    HttpClient http = HttpClient.newHttpClient();
    await().atMost(Duration.ofSeconds(60)).until(() -> http.send(
        HttpRequest.newBuilder(service.url("/readyz")).build(), HttpResponse.BodyHandlers.ofString())
        .statusCode() == 200);
  }
}
