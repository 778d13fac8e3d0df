package dev.lattice.cli.telemetry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice observe}: the telemetry pipeline's flows, one line per flow, like {@code hubble observe}:
 * the newest {@code --last} matching flows, or with {@code --follow} every new one as it arrives (the
 * pipeline's {@code /v1/flows?follow=true} server-sent events).
 */
@Command(name = "observe", description = "Show flows like hubble observe (the last N, or --follow new ones).")
public final class ObserveCommand extends ApiCommand {

  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--namespace", description = "Flows with either side in this namespace.")
  String namespace;

  @Option(names = "--workload", description = "Flows with this node on either side: ns/name, external/<host> or unknown.")
  String workload;

  @Option(names = "--from", description = "Source node (ns/name) or namespace prefix (ns/).")
  String from;

  @Option(names = "--to", description = "Destination node (ns/name) or namespace prefix (ns/).")
  String to;

  @Option(names = "--verdict", description = "FORWARDED, DROPPED, AUDIT or ERROR.")
  String verdict;

  @Option(names = "--status", description = "HTTP status or class (503, 5xx) or tcp.")
  String status;

  @Option(names = "--denied", arity = "0..1", fallbackValue = "true", description = "Only denied flows (or --denied=false).")
  Boolean denied;

  @Option(names = "--last", defaultValue = "20", description = "How many recent flows to show first (default: ${DEFAULT-VALUE}).")
  int last;

  @Option(names = {"-f", "--follow"}, description = "Keep streaming new flows until interrupted.")
  boolean follow;

  @Option(names = "--max", defaultValue = "0", description = "With --follow: stop after this many flows (0: never).")
  long max;

  @Option(names = {"-o", "--output"}, defaultValue = "line", description = "line (default) or json (one JSON object per line).")
  String output;

  @Override
  protected int run() throws Exception {
    if (!output.equals("line") && !output.equals("json")) {
      throw CliException.usage("--output: '" + output + "' (expected: line or json)");
    }
    if (last < 0 || max < 0) {
      throw CliException.usage("--last and --max must be >= 0");
    }
    Map<String, String> query = new LinkedHashMap<>();
    query.put("last", Integer.toString(last));
    put(query, "namespace", namespace);
    put(query, "workload", workload);
    put(query, "from", from);
    put(query, "to", to);
    put(query, "verdict", verdict);
    put(query, "status", status);
    put(query, "denied", denied == null ? null : denied.toString());
    if (!follow) {
      JsonNode answer = api().get("telemetry", url("telemetry", "/v1/flows?" + encode(query))).requireSuccess().json();
      answer.path("flows").forEach(this::print);
      out().flush();
      return ExitCode.OK;
    }
    query.put("follow", "true");
    return stream(url("telemetry", "/v1/flows?" + encode(query)));
  }

  /** Follows the server-sent events: each {@code data:} line is one flow. */
  private int stream(URI uri) throws IOException, InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(root().timeout()).build();
    HttpRequest.Builder request = HttpRequest.newBuilder(uri).header("accept", "text/event-stream").GET();
    root().adminToken().ifPresent(t -> request.header("authorization", "Bearer " + t));
    HttpResponse<InputStream> response;
    try {
      response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
    } catch (IOException e) {
      throw new CliException("error: cannot reach telemetry at " + uri + ": " + e.getMessage()
          + " (is ./lattice up running?)", ExitCode.ERROR, e);
    }
    if (response.statusCode() != 200) {
      String body;
      try (InputStream in = response.body()) {
        body = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      new dev.lattice.cli.support.ApiClient.Response("telemetry", uri, response.statusCode(), body).requireSuccess();
    }
    long seen = 0;
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.startsWith("data:")) {
          continue; // event names, keep-alive comments, blank separators
        }
        print(JSON.readTree(line.substring(5).trim()));
        out().flush();
        if (max > 0 && ++seen >= max) {
          break;
        }
      }
    }
    return ExitCode.OK;
  }

  private void print(JsonNode flow) {
    out().println(output.equals("json") ? flow.toString() : FlowLine.format(flow));
  }

  private static void put(Map<String, String> query, String name, String value) {
    if (value != null && !value.isBlank()) {
      query.put(name, value);
    }
  }

  static String encode(Map<String, String> query) {
    StringBuilder sb = new StringBuilder();
    query.forEach((k, v) -> sb.append(sb.length() == 0 ? "" : "&").append(k).append('=')
        .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
    return sb.toString();
  }
}
