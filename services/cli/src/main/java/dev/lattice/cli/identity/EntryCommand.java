package dev.lattice.cli.identity;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.ExitCode;
import dev.lattice.cli.support.TableWriter;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lattice entry create|list|delete}: registration entries through the identity REST API
 * ({@code /v1/entries} on the identity service). Created per invocation by picocli; not thread-safe.
 */
@Command(name = "entry", mixinStandardHelpOptions = true, description = "Manage SPIFFE registration entries (identity service).",
    subcommands = {EntryCommand.Create.class, EntryCommand.List.class, EntryCommand.Delete.class})
public final class EntryCommand implements Runnable {

  static final ObjectMapper JSON = new ObjectMapper();

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code lattice entry create --spiffe-id … --parent-id … --selector unix:uid:1000 …}. */
  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create an entry; prints its id.")
  static final class Create extends ApiCommand {
    @Option(names = "--spiffe-id", required = true, description = "SPIFFE ID to issue, e.g. spiffe://lattice.local/ns/default/sa/web")
    String spiffeId;

    @Option(names = "--parent-id", required = true, description = "SPIFFE ID of the node allowed to obtain it")
    String parentId;

    @Option(names = "--selector", required = true, description = "Selector type:value, repeatable (unix:uid:1000, k8s:ns:default, …)")
    java.util.List<String> selectors = new ArrayList<>();

    @Option(names = "--dns-name", description = "DNS SAN, repeatable")
    java.util.List<String> dnsNames = new ArrayList<>();

    @Option(names = "--x509-ttl", description = "X.509-SVID TTL in seconds (default: server default, 3600)")
    Integer x509Ttl;

    @Option(names = "--jwt-ttl", description = "JWT-SVID TTL in seconds (default: server default, 300)")
    Integer jwtTtl;

    @Option(names = "--admin", description = "The workload may call the identity admin API")
    boolean admin;

    @Option(names = "--hint", description = "Hint for workloads holding several SVIDs (Workload API X509SVID.hint), e.g. internal")
    String hint;

    @Override
    protected int run() {
      ObjectNode body = JSON.createObjectNode().put("spiffeId", spiffeId).put("parentId", parentId).put("admin", admin);
      ArrayNode sel = body.putArray("selectors");
      selectors.forEach(sel::add);
      ArrayNode dns = body.putArray("dnsNames");
      dnsNames.forEach(dns::add);
      if (x509Ttl != null) {
        body.put("x509SvidTtlSeconds", x509Ttl);
      }
      if (jwtTtl != null) {
        body.put("jwtSvidTtlSeconds", jwtTtl);
      }
      if (hint != null) {
        body.put("hint", hint);
      }
      JsonNode created = api().post("identity", url("identity", "/v1/entries"), "application/json", body.toString())
          .requireSuccess().json();
      out().println("entry/" + created.path("id").asText() + " created (" + created.path("spiffeId").asText() + ")");
      return ExitCode.OK;
    }
  }

  /** {@code lattice entry list [-o json]}. */
  @Command(name = "list", mixinStandardHelpOptions = true, description = "List entries.")
  static final class List extends ApiCommand {
    @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE})")
    String output;

    @Override
    protected int run() {
      JsonNode list = api().get("identity", url("identity", "/v1/entries")).requireSuccess().json();
      if ("json".equals(output)) {
        out().println(list.toPrettyString());
        return ExitCode.OK;
      }
      TableWriter table = new TableWriter("ID", "SPIFFE ID", "PARENT", "SELECTORS", "X509 TTL");
      for (JsonNode e : list.path("entries")) {
        java.util.List<String> sel = new ArrayList<>();
        e.path("selectors").forEach(s -> sel.add(s.asText()));
        table.row(e.path("id").asText(), e.path("spiffeId").asText(), e.path("parentId").asText(),
            String.join(",", sel), e.path("x509SvidTtlSeconds").asText() + "s");
      }
      table.print(out());
      return ExitCode.OK;
    }
  }

  /** {@code lattice entry delete <id> [--cascade]}. */
  @Command(name = "delete", mixinStandardHelpOptions = true,
      description = "Delete an entry by id. An entry others hang from (a node with its workloads' entries) is refused unless --cascade.")
  static final class Delete extends ApiCommand {
    @Parameters(index = "0", description = "Entry id")
    String id;

    @Option(names = "--cascade", description = "Also delete every entry that hangs from this one (deepest first, this entry last)")
    boolean cascade;

    @Override
    protected int run() {
      if (cascade) {
        JsonNode answer = api().delete("identity", url("identity", "/v1/entries/" + id + "?cascade=true")).requireSuccess().json();
        for (JsonNode deleted : answer.path("deleted")) {
          out().println("entry/" + deleted.asText() + " deleted");
        }
        return ExitCode.OK;
      }
      var response = api().delete("identity", url("identity", "/v1/entries/" + id));
      if (response.status() == 409) {
        throw new dev.lattice.cli.support.CliException("Error from server (Conflict): " + response.serverMessage()
            + " (use 'lattice entry delete " + id + " --cascade' to delete them too)");
      }
      response.requireSuccess();
      out().println("entry/" + id + " deleted");
      return ExitCode.OK;
    }
  }
}
