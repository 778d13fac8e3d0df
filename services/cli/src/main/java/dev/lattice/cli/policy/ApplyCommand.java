package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.ExitCode;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice apply -f file.yaml|dir [--dry-run]}: creates or updates policy resources, like
 * {@code kubectl apply}. Prints {@code trafficroute/checkout created|configured|unchanged}; a rejected
 * file prints one {@code error:} line per problem (file, document, line, field path) and exits 1.
 */
@Command(name = "apply", description = "Create or update policy resources from YAML/JSON files.")
public final class ApplyCommand extends ApiCommand {

  @Option(names = {"-f", "--filename"}, required = true, description = "A file or a directory of .yaml/.yml/.json files.")
  List<Path> files;

  @Option(names = "--dry-run", description = "Validate and show what would change, without writing.")
  boolean dryRun;

  @Override
  protected int run() {
    for (PolicyApi.Source src : PolicyApi.read(files)) {
      ApiClient.Response r = api().post(PolicyApi.SERVICE,
          url(PolicyApi.SERVICE, "/v1/resources" + (dryRun ? "?dryRun=true" : "")), "application/yaml", src.content());
      if (!r.isSuccess()) throw PolicyApi.refusal(r, src.path().toString());
      JsonNode body = r.json();
      PolicyApi.warnings(body, err());
      for (JsonNode res : body.path("results")) {
        out().println(PolicyApi.ref(res) + " " + res.path("action").asText() + (dryRun ? " (dry run)" : ""));
      }
    }
    out().flush();
    return ExitCode.OK;
  }
}
