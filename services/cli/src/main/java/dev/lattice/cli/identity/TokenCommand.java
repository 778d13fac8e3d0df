package dev.lattice.cli.identity;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.ExitCode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice token create --ttl 10m [--node-id local]}: a one-time node join token from the identity service
 * ({@code POST /v1/tokens}); {@code lattice token delete <node-id>} revokes a node's unused tokens
 * ({@code DELETE /v1/tokens/<node-id>}). The token is printed once and never stored by the CLI. Created per
 * invocation by picocli; not thread-safe.
 */
@Command(name = "token", mixinStandardHelpOptions = true, description = "Node join tokens (identity service).", subcommands = {TokenCommand.Create.class, TokenCommand.Delete.class})
public final class TokenCommand implements Runnable {

  @picocli.CommandLine.Spec
  picocli.CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getErr());
  }

  /** {@code lattice token create [--ttl 10m] [--node-id id]}. */
  @Command(name = "create", mixinStandardHelpOptions = true, description = "Create a one-time join token; prints the token and the node SPIFFE ID.")
  static final class Create extends ApiCommand {
    @Option(names = "--ttl", defaultValue = "10m", description = "How long the token stays usable (default: ${DEFAULT-VALUE})")
    String ttl;

    @Option(names = "--node-id", paramLabel = "id", description = "Attest as this fixed node id (e.g. local) so a re-attesting agent keeps its SPIFFE ID; replaces that node's unused tokens. Default: a new jt-… id.")
    String nodeId;

    @Override
    protected int run() {
      var json = EntryCommand.JSON.createObjectNode().put("ttl", ttl);
      if (nodeId != null) {
        json.put("nodeId", nodeId);
      }
      String body = json.toString();
      JsonNode t = api().post("identity", url("identity", "/v1/tokens"), "application/json", body).requireSuccess().json();
      out().println("token:     " + t.path("token").asText());
      out().println("node:      " + t.path("spiffeId").asText());
      out().println("expires:   " + t.path("expiresAt").asText());
      return ExitCode.OK;
    }
  }

  /** {@code lattice token delete <node-id>}. */
  @Command(name = "delete", mixinStandardHelpOptions = true, description = "Revoke the unused join tokens of a node id.")
  static final class Delete extends ApiCommand {
    @picocli.CommandLine.Parameters(index = "0", paramLabel = "node-id", description = "The node id the tokens attest (jt-… or the --node-id given at create)")
    String nodeId;

    @Override
    protected int run() {
      api().delete("identity", url("identity", "/v1/tokens/" + nodeId)).requireSuccess();
      out().println("token for node " + nodeId + " revoked");
      return ExitCode.OK;
    }
  }
}
