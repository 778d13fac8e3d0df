package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice explain --from spiffe://… --to <service> [--method GET] [--path /x] [--port N]
 * [--header name:value]…}: would the request be allowed, and which AuthorizationPolicy rule decided
 * (dry-run and audit marks too). Exit code as {@code kubectl auth can-i}: 0 allowed, 1 denied or an
 * error.
 */
@Command(name = "explain", description = "Explain whether a request would be allowed and which policy decided.")
public final class ExplainCommand extends ApiCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = "--from", description = "Caller SPIFFE ID, e.g. spiffe://lattice.local/ns/shop/sa/web (omit: no mTLS).")
  String from;

  @Option(names = "--to", required = true, description = "Destination service host, e.g. ledger.bank.")
  String to;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default", description = "Namespace of a short --to (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = {"-X", "--method"}, description = "HTTP method; omit for a TCP connection.")
  String method;

  @Option(names = "--path", description = "Request path.")
  String path;

  @Option(names = "--port", description = "Destination port.")
  Integer port;

  @Option(names = "--source-ip", description = "Caller IP address.")
  String sourceIp;

  @Option(names = {"-H", "--header"}, description = "Request header name:value (repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(names = {"-o", "--output"}, defaultValue = "text", description = "text or json (default: ${DEFAULT-VALUE}).")
  String output;

  @Override
  protected int run() throws Exception {
    ObjectNode req = JSON.createObjectNode().put("to", to).put("namespace", namespace);
    if (from != null) req.put("from", from);
    if (method != null) req.put("method", method);
    if (path != null) req.put("path", path);
    if (port != null) req.put("port", port);
    if (sourceIp != null) req.put("sourceIp", sourceIp);
    ObjectNode h = req.putObject("headers");
    for (String header : headers) {
      int colon = header.indexOf(':');
      if (colon <= 0) throw CliException.usage("--header: '" + header + "' (expected: name:value)");
      h.put(header.substring(0, colon).trim(), header.substring(colon + 1).trim());
    }
    ApiClient.Response r = api().post(PolicyApi.SERVICE, url(PolicyApi.SERVICE, "/v1/explain"), "application/json", req.toString());
    if (!r.isSuccess()) throw PolicyApi.refusal(r, null);
    JsonNode body = r.json();
    boolean allowed = body.path("verdict").asText().equals("ALLOW");
    if (output.equals("json")) {
      out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
    } else {
      out().println(body.path("verdict").asText() + "  " + (from == null ? "(no peer identity)" : from) + " -> " + body.path("host").asText()
          + (method == null ? " (TCP)" : " " + method + " " + (path == null ? "" : path)));
      if (body.hasNonNull("note")) out().println("  note: " + body.get("note").asText());
      for (JsonNode d : body.path("decisions")) {
        out().println("  workload " + d.path("namespace").asText() + " " + d.path("labels") + " " + d.path("workloads"));
        out().println("    " + d.path("detail").asText() + " (" + d.path("reason").asText() + ")");
        if (d.has("dryRun")) {
          JsonNode dr = d.get("dryRun");
          out().println("    dry-run: would be " + dr.path("verdict").asText() + ": " + dr.path("detail").asText()
              + " (" + dr.path("reason").asText() + ")");
        }
        for (JsonNode a : d.path("audits")) out().println("    audit: " + a.asText());
        out().println("    policies evaluated: " + (d.path("policies").isEmpty() ? "none" : d.path("policies").toString()));
      }
    }
    out().flush();
    return allowed ? 0 : 1;
  }
}
