package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code lattice diff -f file|dir}: what {@code apply} would change, as a line diff per resource.
 * Exit codes as {@code kubectl diff}: 0 no differences, 1 differences, 2 an error (invalid input,
 * unreachable service).
 */
@Command(name = "diff", description = "Show what apply would change (exit 0: none, 1: differences, 2: error).")
public final class DiffCommand extends ApiCommand {
  /** kubectl diff: differences found. */
  static final int DIFFERENT = 1;
  /** kubectl diff: an error. */
  static final int FAILED = 2;

  @Option(names = {"-f", "--filename"}, required = true, description = "A file or a directory of .yaml/.yml/.json files.")
  List<Path> files;

  @Override
  protected int run() {
    boolean different = false;
    try {
      for (PolicyApi.Source src : PolicyApi.read(files)) {
        ApiClient.Response r = api().post(PolicyApi.SERVICE, url(PolicyApi.SERVICE, "/v1/resources?dryRun=true"),
            "application/yaml", src.content());
        if (!r.isSuccess()) throw PolicyApi.refusal(r, src.path().toString());
        JsonNode body = r.json();
        PolicyApi.warnings(body, err());
        for (JsonNode res : body.path("results")) {
          if (res.path("action").asText().equals("unchanged")) continue;
          different = true;
          out().println("diff " + res.path("key").asText() + " (" + res.path("action").asText() + ")");
          for (JsonNode line : res.path("diff")) out().println(line.asText());
        }
        JsonNode compiled = body.path("compiled");
        if (!compiled.isMissingNode() && !compiled.isNull()) out().println("compiled config: " + compiled);
      }
    } catch (CliException e) {
      throw new CliException(e.getMessage(), FAILED, e.getCause());
    }
    out().flush();
    return different ? DIFFERENT : 0;
  }
}
