package dev.lattice.identity;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.identity.agent.NodeAgentService;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The keys the identity service and the agent register are the keys their code reads: every
 * {@code "identity.…"} / {@code "agent.…"} literal in src/main is registered, so a new setting cannot be
 * added without the local stack's unknown-key check knowing it.
 */
class IdentityConfigKeysTest {

  static final Pattern KEY = Pattern.compile("\"((identity|agent)\\.[a-z0-9.-]+)\"");

  @Test
  void everyKeyTheCodeReadsIsRegistered() throws Exception {
    Set<String> read = new TreeSet<>();
    try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
      for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        Matcher m = KEY.matcher(Files.readString(f));
        while (m.find()) {
          read.add(m.group(1));
        }
      }
    }
    assertThat(read).as("literals found").contains("identity.trust.domain", "agent.join.token.file");
    for (String key : read) {
      boolean registered = new IdentityService().configKeys().knows(key) || new NodeAgentService().configKeys().knows(key);
      assertThat(registered).as(key + " is read but not registered in IdentityService/NodeAgentService.CONFIG_KEYS").isTrue();
    }
  }

  @Test
  void theIssuesSpellingOfTheTrustDomainIsAnAlias() {
    assertThat(new IdentityService().configKeys().canonical("identity.trust-domain")).isEqualTo("identity.trust.domain");
  }
}
