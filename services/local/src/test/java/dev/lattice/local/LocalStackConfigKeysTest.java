package dev.lattice.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.kit.config.ConfigException;
import dev.lattice.kit.config.ConfigKeys;
import dev.lattice.kit.config.LatticeConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code lattice up --set}: a key no service reads is refused before anything is touched, naming the
 * nearest known key; the keys the docs and {@code up --help} show are real. No broker needed — the check
 * runs before one starts.
 */
class LocalStackConfigKeysTest {

  static final Pattern SET_EXAMPLE = Pattern.compile("--set ([A-Za-z0-9._-]+)=");

  @TempDir Path tmp;

  @Test
  void anUnknownSetKeyIsRefusedBeforeAnythingIsTouched() throws Exception {
    Path dataDir = tmp.resolve("stack");
    Files.createDirectories(dataDir);
    Path mine = Files.writeString(dataDir.resolve("notes.txt"), "mine");
    LocalStackOptions options = LocalStackOptions.ephemeral(dataDir).withClean(true)
        .withConfig(Map.of("identity.trust.domian", "example.org"));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    assertThatThrownBy(() -> LocalStack.start(options, LatticeConfig.empty(), new PrintStream(out, true, StandardCharsets.UTF_8)))
        .isInstanceOf(ConfigException.class)
        .hasMessage("--set identity.trust.domian: unknown key (did you mean identity.trust.domain?)");
    // not even --clean ran: nothing written, nothing wiped
    try (var listing = Files.list(dataDir)) {
      assertThat(listing.toList()).containsExactly(mine);
    }
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }

  @Test
  void aKeyInTheYamlFileIsCheckedToo() throws Exception {
    Path file = Files.writeString(tmp.resolve("lattice.yaml"), "policy:\n  mesh:\n    trusted_proxies: 2\n");
    LatticeConfig base = LatticeConfig.load(List.of(), Map.of("LATTICE_CONFIG", file.toString(), "LATTICE_ANYTHING", "x"));
    assertThatThrownBy(() -> LocalStack.checkedSettings(List.of(new dev.lattice.policy.PolicyService()), Map.of(), base))
        .hasMessage("config file policy.mesh.trusted_proxies: unknown key (did you mean policy.mesh.trusted-proxies?)");
  }

  @Test
  void theTrustDomainSpellingOfTheIssueIsAnAliasOfTheKeyTheServiceReads() {
    Map<String, String> checked = LocalStack.checkedSettings(List.of(new dev.lattice.identity.IdentityService()),
        Map.of("identity.trust-domain", "example.org"), LatticeConfig.empty());
    assertThat(checked).containsExactly(Map.entry("identity.trust.domain", "example.org"));
  }

  @Test
  void everySetExampleInTheDocsAndInUpHelpNamesAKnownKey() throws Exception {
    ConfigKeys known = LocalStack.knownKeys();
    StringWriter help = new StringWriter();
    new CommandLine(new LocalStack.Up()).usage(new PrintWriter(help));
    List<String> examples = new ArrayList<>();
    for (String text : List.of(help.toString(), Files.readString(Path.of("../../docs/local.md")),
        Files.readString(Path.of("../../README.md")))) {
      Matcher m = SET_EXAMPLE.matcher(text);
      while (m.find()) {
        examples.add(m.group(1));
      }
    }
    assertThat(examples).as("the help and docs show --set examples").contains("identity.trust.domain", "local.agent.node.id");
    // the one docs/local.md shows as refused is a deliberate misspelling
    examples.removeIf("identity.trust.domian"::equals);
    for (String key : examples) {
      assertThat(known.knows(key)).as("documented --set key " + key).isTrue();
    }
    // every service the stack runs (ServiceLoader) registered its own keys, not the lenient default
    assertThat(known.keys()).contains("identity.trust.domain", "agent.join.token.file", "policy.mesh.path-normalization",
        "policy.mesh.trusted-proxies");
  }
}
