package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.TableWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lattice get <kind> [name] [-n ns | -A] [-l selector] [-o table|yaml|json]}, like
 * {@code kubectl get}. Kinds: the kind name, plural or short alias ({@code trafficroutes}, {@code tr}).
 */
@Command(name = "get", description = "Show policy resources.")
public final class GetCommand extends ApiCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Parameters(index = "0", description = "Kind: TrafficRoute, DestinationPolicy, PeerAuthentication, AuthorizationPolicy, "
      + "RateLimitPolicy (or plural, or tr/dp/pa/ap/rl).")
  String kind;

  @Parameters(index = "1", arity = "0..1", description = "Name of one resource.")
  String name;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = {"-A", "--all-namespaces"}, description = "List across all namespaces.")
  boolean allNamespaces;

  @Option(names = {"-l", "--selector"}, description = "Label selector, e.g. app=web,tier!=db.")
  String selector;

  @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table, yaml or json (default: ${DEFAULT-VALUE}).")
  String output;

  @Override
  protected int run() throws Exception {
    String o = output.toLowerCase(Locale.ROOT);
    if (!o.equals("table") && !o.equals("yaml") && !o.equals("json") && !o.equals("wide")) {
      throw CliException.usage("--output: '" + output + "' (expected: table, yaml or json)");
    }
    if (name != null && allNamespaces) throw CliException.usage("a resource name cannot be combined with --all-namespaces");
    String path = "/v1/resources/" + PolicyApi.q(kind)
        + (name != null ? "/" + PolicyApi.q(namespace) + "/" + PolicyApi.q(name)
            : (allNamespaces ? "" : "/" + PolicyApi.q(namespace)));
    String query = (o.equals("yaml") ? "output=yaml" : "output=json")
        + (selector != null && name == null ? "&labelSelector=" + PolicyApi.q(selector) : "");
    ApiClient.Response r = api().get(PolicyApi.SERVICE, url(PolicyApi.SERVICE, path + "?" + query));
    if (!r.isSuccess()) {
      if (r.status() == 404 && name != null && !r.body().contains("unknown kind")) {
        throw new CliException("Error from server (NotFound): " + kind + " \"" + name + "\" not found in namespace \"" + namespace + "\"");
      }
      throw PolicyApi.refusal(r, null);
    }
    if (o.equals("yaml")) {
      if (r.body().isBlank()) return noResources();
      out().print(r.body());
      out().flush();
      return ExitCode.OK;
    }
    JsonNode body = r.json();
    if (o.equals("json")) {
      out().println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(body));
      out().flush();
      return ExitCode.OK;
    }
    JsonNode items = name != null ? JSON.createArrayNode().add(body) : body.path("items");
    if (items.isEmpty()) return noResources();
    TableWriter table = allNamespaces ? new TableWriter("NAMESPACE", "NAME", "KIND", "VERSION", "AGE")
        : new TableWriter("NAME", "KIND", "VERSION", "AGE");
    for (JsonNode item : items) {
      JsonNode m = item.path("metadata");
      String age = age(m.path("creationTimestamp").asText(null));
      if (allNamespaces) {
        table.row(m.path("namespace").asText(), m.path("name").asText(), item.path("kind").asText(), m.path("resourceVersion").asText(), age);
      } else {
        table.row(m.path("name").asText(), item.path("kind").asText(), m.path("resourceVersion").asText(), age);
      }
    }
    table.print(out());
    out().flush();
    return ExitCode.OK;
  }

  private int noResources() {
    err().println(allNamespaces ? "No resources found" : "No resources found in " + namespace + " namespace.");
    err().flush();
    return ExitCode.OK;
  }

  static String age(String timestamp) {
    if (timestamp == null) return "<unknown>";
    try {
      Duration d = Duration.between(Instant.parse(timestamp), Instant.now());
      if (d.isNegative()) d = Duration.ZERO;
      if (d.toDays() > 0) return d.toDays() + "d";
      if (d.toHours() > 0) return d.toHours() + "h";
      if (d.toMinutes() > 0) return d.toMinutes() + "m";
      return d.toSeconds() + "s";
    } catch (RuntimeException e) {
      return "<unknown>";
    }
  }
}
