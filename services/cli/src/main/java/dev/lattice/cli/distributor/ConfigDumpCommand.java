package dev.lattice.cli.distributor;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lattice config-dump <node>}: what the distributor serves that node — snapshot revision, versions per
 * type, held-back changes and every resource with its payload — as JSON, from {@code GET /v1/nodes/<node>}.
 * {@code --type CLUSTER} keeps one type. An unknown node is an error naming the nodes that have config.
 */
@Command(name = "config-dump", description = {
    "Print, as JSON, the config the distributor serves a node (like istioctl proxy-config all -o json).",
    "Exit code 1 when the node has no config."})
public final class ConfigDumpCommand extends ApiCommand {

  private static final String DISTRIBUTOR = "distributor";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", paramLabel = "node", description = "The node id (as in the lattice.config.v1 keys).")
  String node;

  @Option(names = "--type", paramLabel = "TYPE", description = "Only this config type (CLUSTER, ROUTE, LISTENER, AUTHORIZATION, …).")
  String type;

  @Override
  protected int run() throws Exception {
    if (node.isBlank() || node.indexOf('/') >= 0) {
      throw CliException.usage("node: '" + node + "' (expected: a node id without '/')");
    }
    ApiClient.Response response = api().get(DISTRIBUTOR,
        url(DISTRIBUTOR, "/v1/nodes/" + URLEncoder.encode(node, StandardCharsets.UTF_8).replace("+", "%20")));
    JsonNode dump = response.requireSuccess().json();
    if (type != null) {
      String wanted = type.toUpperCase(Locale.ROOT);
      JsonNode resources = dump.path("resources");
      if (!resources.has(wanted)) {
        java.util.List<String> known = new java.util.ArrayList<>();
        resources.fieldNames().forEachRemaining(known::add);
        throw new CliException("--type " + type + ": node " + node + " has no " + wanted + " resources (it has: "
            + String.join(", ", known) + ")");
      }
      ObjectNode only = dump.deepCopy();
      ObjectNode filtered = JSON.createObjectNode();
      filtered.set(wanted, resources.get(wanted));
      only.set("resources", filtered);
      dump = only;
    }
    out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(dump));
    out().flush();
    return ExitCode.OK;
  }
}
