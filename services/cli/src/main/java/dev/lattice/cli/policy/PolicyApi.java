package dev.lattice.cli.policy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.lattice.cli.support.ApiClient;
import dev.lattice.cli.support.CliException;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;

/**
 * Helpers the policy subcommands share: reading {@code -f} files and directories, and turning the
 * policy service's error bodies ({@code {"errors": [{"path", "message", "document", "line"}]}}) into
 * kubectl-like lines. Stateless.
 */
final class PolicyApi {
  static final String SERVICE = "policy";

  private PolicyApi() {}

  /** A file to send: its name (for messages) and content. */
  record Source(Path path, String content) {}

  /** The files named by {@code -f}: a file, or every .yaml/.yml/.json file of a directory (sorted, not recursive). */
  static List<Source> read(List<Path> paths) {
    List<Source> out = new ArrayList<>();
    for (Path p : paths) {
      if (Files.isDirectory(p)) {
        try (Stream<Path> files = Files.list(p)) {
          List<Path> list = files.filter(f -> {
            String n = f.getFileName().toString().toLowerCase(Locale.ROOT);
            return Files.isRegularFile(f) && (n.endsWith(".yaml") || n.endsWith(".yml") || n.endsWith(".json"));
          }).sorted().toList();
          if (list.isEmpty()) throw new CliException("error: no .yaml, .yml or .json files in directory \"" + p + "\"");
          for (Path f : list) out.add(new Source(f, readFile(f)));
        } catch (IOException e) {
          throw new CliException("error: cannot read directory \"" + p + "\": " + e.getMessage());
        }
      } else if (Files.isRegularFile(p)) {
        out.add(new Source(p, readFile(p)));
      } else {
        throw new CliException("error: the path \"" + p + "\" does not exist");
      }
    }
    return out;
  }

  private static String readFile(Path f) {
    try {
      return Files.readString(f, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new CliException("error: cannot read \"" + f + "\": " + e.getMessage());
    }
  }

  /**
   * Throws the server's refusal as one message, one line per error:
   * {@code error: <file>: document 2 (line 14): spec.http[0].route: weights sum to 110 … (expected: 100)}.
   */
  static CliException refusal(ApiClient.Response response, String origin) {
    StringBuilder sb = new StringBuilder();
    JsonNode errors = null;
    try {
      errors = response.json().path("errors");
    } catch (CliException notJson) {
      // fall through to the generic message
    }
    if (errors == null || !errors.isArray() || errors.isEmpty()) {
      return new CliException("Error from server (" + ApiClient.reason(response.status()) + "): " + response.serverMessage());
    }
    if (response.status() != 400) {
      sb.append("Error from server (").append(ApiClient.reason(response.status())).append("): ");
      sb.append(errors.get(0).path("message").asText());
      return new CliException(sb.toString());
    }
    for (JsonNode e : errors) {
      if (sb.length() > 0) sb.append('\n');
      sb.append("error: ");
      if (origin != null) sb.append(origin).append(": ");
      if (e.hasNonNull("document")) {
        sb.append("document ").append(e.get("document").asInt()).append(" (line ").append(e.path("line").asInt()).append("): ");
      }
      if (e.hasNonNull("resource")) sb.append(e.get("resource").asText()).append(": ");
      String path = e.path("path").asText("");
      if (!path.isEmpty()) sb.append(path).append(": ");
      sb.append(e.path("message").asText());
    }
    return new CliException(sb.toString());
  }

  /** Prints the server's warnings on stderr as {@code Warning: …}. */
  static void warnings(JsonNode body, PrintWriter err) {
    for (JsonNode w : body.path("warnings")) {
      err.println("Warning: " + (w.hasNonNull("resource") ? w.get("resource").asText() + ": " : "")
          + (w.path("path").asText("").isEmpty() ? "" : w.get("path").asText() + ": ") + w.path("message").asText());
    }
    err.flush();
  }

  static String q(String v) {
    return URLEncoder.encode(v, StandardCharsets.UTF_8);
  }

  /** {@code trafficroute/checkout} from a result's kind and name. */
  static String ref(JsonNode result) {
    return result.path("kind").asText().toLowerCase(Locale.ROOT) + "/" + result.path("name").asText();
  }
}
