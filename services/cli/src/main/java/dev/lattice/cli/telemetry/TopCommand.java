package dev.lattice.cli.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.TableWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice top}: the busiest edges with their golden signals (req/s, error %, p99, denied, mTLS) from
 * the telemetry pipeline's {@code /v1/edges}; {@code --watch} refreshes in place.
 */
@Command(name = "top", description = "Busiest edges: req/s, error %, p99, denied (--watch refreshes in place).")
public final class TopCommand extends ApiCommand {

  @Option(names = "--window", defaultValue = "10s", description = "Window size: 10s or 1m (default: ${DEFAULT-VALUE}).")
  String window;

  @Option(names = "--range", description = "How far back to sum (default: the window), e.g. 1m, 5m.")
  String range;

  @Option(names = "--namespace", description = "Edges with either side in this namespace.")
  String namespace;

  @Option(names = "--workload", description = "Edges with this node on either side (ns/name).")
  String workload;

  @Option(names = {"-n", "--limit"}, defaultValue = "10", description = "Edges to show (default: ${DEFAULT-VALUE}).")
  int limit;

  @Option(names = {"-w", "--watch"}, description = "Refresh in place until interrupted.")
  boolean watch;

  @Option(names = "--interval", defaultValue = "2s", converter = TopCommand.DurationConverter.class,
      description = "With --watch: time between refreshes (default: ${DEFAULT-VALUE}).")
  Duration interval;

  @Option(names = "--iterations", defaultValue = "0", description = "With --watch: stop after this many refreshes (0: never).")
  int iterations;

  @Override
  protected int run() throws Exception {
    if (limit < 1) {
      throw CliException.usage("--limit: " + limit + " (expected: >= 1)");
    }
    Map<String, String> query = new LinkedHashMap<>();
    query.put("window", window);
    if (range != null) query.put("range", range);
    if (namespace != null) query.put("namespace", namespace);
    if (workload != null) query.put("workload", workload);
    String path = "/v1/edges?" + ObserveCommand.encode(query);
    int shown = 0;
    do {
      JsonNode answer = api().get("telemetry", url("telemetry", path)).requireSuccess().json();
      if (watch) {
        out().print("\033[H\033[2J"); // clear the screen, cursor home: refresh in place
      }
      print(answer);
      shown++;
      if (watch && (iterations == 0 || shown < iterations)) {
        Thread.sleep(interval.toMillis());
      }
    } while (watch && (iterations == 0 || shown < iterations));
    return ExitCode.OK;
  }

  private void print(JsonNode answer) {
    List<JsonNode> edges = new ArrayList<>();
    answer.path("edges").forEach(edges::add);
    edges.sort(Comparator.comparingDouble((JsonNode e) -> e.path("rps").asDouble()).reversed()
        .thenComparing(e -> e.path("source").asText() + "→" + e.path("destination").asText()));
    out().printf(Locale.ROOT, "%d edges, window %s, %s .. %s%n", edges.size(), answer.path("window").asText(),
        java.time.Instant.ofEpochMilli(answer.path("from").asLong()), java.time.Instant.ofEpochMilli(answer.path("to").asLong()));
    TableWriter table = new TableWriter("source", "destination", "req/s", "requests", "error %", "p99 ms", "denied",
        "mtls");
    for (JsonNode e : edges.subList(0, Math.min(limit, edges.size()))) {
      table.row(e.path("source").asText(), e.path("destination").asText(),
          String.format(Locale.ROOT, "%.1f", e.path("rps").asDouble()), e.path("requests").asLong(),
          String.format(Locale.ROOT, "%.1f", 100 * e.path("errorRatio").asDouble()),
          String.format(Locale.ROOT, "%.1f", e.path("p99Ms").asDouble()), e.path("denied").asLong(),
          String.format(Locale.ROOT, "%.0f%%", 100 * e.path("mtlsShare").asDouble()));
    }
    table.print(out());
  }

  /** Parses {@code 500ms}, {@code 2s}, {@code 1m}. */
  public static final class DurationConverter implements picocli.CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return dev.lattice.kit.config.LatticeConfig.parseDuration(value);
      } catch (RuntimeException e) {
        throw new picocli.CommandLine.TypeConversionException("'" + value + "' (expected: a duration like 500ms, 2s)");
      }
    }
  }
}
