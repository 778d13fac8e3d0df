package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.ApiCommand;
import dev.lattice.cli.support.CliException;
import dev.lattice.cli.support.ExitCode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code lattice delete <kind> <name> [-n ns]} or {@code lattice delete -f file|dir}, like
 * {@code kubectl delete}: prints {@code trafficroute "checkout" deleted}; a missing resource is
 * {@code Error from server (NotFound)} and exit 1 (unless {@code --ignore-not-found}).
 */
@Command(name = "delete", description = "Delete policy resources by kind and name, or those in files.")
public final class DeleteCommand extends ApiCommand {

  @Parameters(arity = "0..2", description = "Kind and name.")
  List<String> args = new ArrayList<>();

  @Option(names = {"-f", "--filename"}, description = "Delete the resources in a file or directory.")
  List<Path> files;

  @Option(names = {"-n", "--namespace"}, defaultValue = "default", description = "Namespace (default: ${DEFAULT-VALUE}).")
  String namespace;

  @Option(names = "--ignore-not-found", description = "Treat a missing resource as deleted.")
  boolean ignoreNotFound;

  @Override
  protected int run() throws Exception {
    List<String[]> targets = new ArrayList<>();
    if (files != null && !files.isEmpty()) {
      if (!args.isEmpty()) throw CliException.usage("use either -f or <kind> <name>, not both");
      ObjectMapper yaml = new YAMLMapper();
      for (PolicyApi.Source src : PolicyApi.read(files)) {
        try {
          for (JsonNode doc : yaml.readerFor(JsonNode.class).readValues(src.content()).readAll().stream().map(JsonNode.class::cast).toList()) {
            if (doc == null || doc.isNull() || doc.isMissingNode()) continue;
            JsonNode m = doc.path("metadata");
            targets.add(new String[] {doc.path("kind").asText(), m.path("namespace").asText("default"), m.path("name").asText()});
          }
        } catch (java.io.IOException e) {
          throw new CliException("error: " + src.path() + ": cannot read YAML: " + e.getMessage());
        }
      }
    } else if (args.size() == 2) {
      targets.add(new String[] {args.get(0), namespace, args.get(1)});
    } else {
      throw CliException.usage("expected <kind> <name> or -f <file>");
    }
    for (String[] t : targets) {
      ApiClient.Response r = api().delete(PolicyApi.SERVICE,
          url(PolicyApi.SERVICE, "/v1/resources/" + PolicyApi.q(t[0]) + "/" + PolicyApi.q(t[1]) + "/" + PolicyApi.q(t[2])));
      if (r.status() == 404 && ignoreNotFound) continue;
      if (r.status() == 404 && !r.body().contains("unknown kind")) {
        throw new CliException("Error from server (NotFound): " + t[0] + " \"" + t[2] + "\" not found in namespace \"" + t[1] + "\"");
      }
      if (!r.isSuccess()) throw PolicyApi.refusal(r, null);
      out().println(t[0].toLowerCase(Locale.ROOT) + " \"" + t[2] + "\" deleted");
    }
    out().flush();
    return ExitCode.OK;
  }
}
