package dev.lattice.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every example under docs/examples/policy parses and validates (with the other examples as context). */
class DocsExamplesTest {
  static final Path EXAMPLES = Path.of("..", "docs", "examples", "policy");

  static Stream<Path> examples() throws Exception {
    try (Stream<Path> files = Files.list(EXAMPLES)) {
      return files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList().stream();
    }
  }

  static List<Resource> all() throws Exception {
    List<Resource> out = new ArrayList<>();
    for (Path p : examples().toList()) out.addAll(ResourceParser.create().parse(Files.readString(p)).resources());
    return out;
  }

  @Test
  void everyKindHasAnExample() throws Exception {
    assertThat(examples().toList()).hasSizeGreaterThanOrEqualTo(5);
    assertThat(all().stream().map(Resource::kind).distinct()).containsExactlyInAnyOrder(ResourceKind.values());
  }

  @ParameterizedTest
  @MethodSource("examples")
  void parsesAndValidates(Path file) throws Exception {
    ParseResult parsed = ResourceParser.create().parse(Files.readString(file));
    assertThat(parsed.errorMessages()).as(file.toString()).isEmpty();
    ValidationContext ctx = new ValidationContext(RegistryView.UNAVAILABLE, ResourceView.of(all()));
    for (Resource r : parsed.resources()) {
      assertThat(ResourceValidator.validate(r, ctx).errors()).as(r.key().asString()).isEmpty();
    }
  }
}
