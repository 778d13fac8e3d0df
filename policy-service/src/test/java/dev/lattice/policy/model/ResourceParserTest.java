package dev.lattice.policy.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ResourceParserTest {
  private final ResourceParser parser = ResourceParser.create();

  static final String ROUTE = """
      apiVersion: lattice.dev/v1alpha1
      kind: TrafficRoute
      metadata:
        name: reviews
      spec:
        hosts: [reviews]
        http:
        - name: canary
          match:
          - uri: {prefix: /api}
            headers:
              x-user: {exact: jason}
          route:
          - destination: {host: reviews, subset: v1}
            weight: 90
          - destination: {host: reviews, subset: v2, port: {number: 9080}}
            weight: 10
          timeout: 1.5s
          retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "5xx,reset"}
      """;

  @Test
  void readsMultiDocumentYamlWithDefaultsAndLines() {
    ParseResult r = parser.parse(ROUTE + "---\n" + """
        apiVersion: lattice.dev/v1alpha1
        kind: AuthorizationPolicy
        metadata:
          name: deny-all
          namespace: prod
          annotations: {lattice.dev/dry-run: true}
        spec: {}
        ---
        """);
    assertThat(r.ok()).as(r.errorMessages().toString()).isTrue();
    assertThat(r.documents()).hasSize(2);
    assertThat(r.documents().get(1).line()).isEqualTo(21);
    TrafficRoute tr = (TrafficRoute) r.resources().get(0);
    assertThat(tr.metadata().namespace()).isEqualTo("default");
    assertThat(tr.spec().http().get(0).route().get(1).destination().portNumber()).isEqualTo(9080);
    assertThat(tr.spec().http().get(0).match().get(0).headers().get("x-user").exact()).isEqualTo("jason");
    AuthorizationPolicy ap = (AuthorizationPolicy) r.resources().get(1);
    assertThat(ap.dryRun()).isTrue();
    assertThat(ap.action()).isEqualTo(AuthorizationPolicy.Action.ALLOW);
  }

  @Test
  void roundTripsThroughYamlAndJson() {
    Resource original = parser.parseOne(ROUTE).resource();
    assertThat(parser.parseOne(ResourceCodec.toYaml(original)).resource()).isEqualTo(original);
    assertThat(parser.parseOne(ResourceCodec.toJson(original)).resource()).isEqualTo(original);
  }

  @Test
  void readsJsonArrays() {
    String json = "[" + ResourceCodec.toJson(parser.parseOne(ROUTE).resource()) + ","
        + ResourceCodec.toJson(parser.parseOne(ROUTE.replace("name: reviews\n", "name: other\n")).resource()) + "]";
    assertThat(parser.parse(json).resources()).hasSize(2);
  }

  static Stream<Arguments> badInputs() {
    return Stream.of(
        Arguments.of("malformed YAML (bad indentation)",
            "apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata:\n  name: x\n   bad: [\n", "", "line "),
        Arguments.of("mapping inside scalar", "kind: a: b\n", "", "line 1, column"),
        Arguments.of("malformed JSON", "{\"kind\": \"TrafficRoute\",,}", "", "malformed JSON"),
        Arguments.of("duplicate key", "kind: TrafficRoute\nkind: TrafficRoute\n", "", "Duplicate field"),
        Arguments.of("empty input", "   \n", "", "empty input"),
        Arguments.of("scalar document", "hello\n", "", "expected: a resource object"),
        Arguments.of("unknown kind", ROUTE.replace("kind: TrafficRoute", "kind: Gateway"), "kind", "unknown kind \"Gateway\""),
        Arguments.of("Istio kind gets a hint", ROUTE.replace("kind: TrafficRoute", "kind: VirtualService"), "kind",
            "Istio's VirtualService is Lattice's TrafficRoute"),
        Arguments.of("wrong apiVersion", ROUTE.replace("lattice.dev/v1alpha1", "networking.istio.io/v1"), "apiVersion",
            "unsupported apiVersion \"networking.istio.io/v1\" (expected: lattice.dev/v1alpha1)"),
        Arguments.of("missing apiVersion", ROUTE.replace("apiVersion: lattice.dev/v1alpha1\n", ""), "apiVersion", "missing"),
        Arguments.of("missing spec", "apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata: {name: a}\n", "spec", "missing"),
        Arguments.of("unknown top-level field", ROUTE + "extra: 1\n", "extra", "unknown field"),
        Arguments.of("unknown nested field", ROUTE.replace("weight: 90", "weigth: 90"), "spec.http[0].route[0].weigth",
            "unknown field \"weigth\" (expected one of: destination, headers, weight)"),
        Arguments.of("unknown metadata field", ROUTE.replace("  name: reviews\n", "  name: reviews\n  nmespace: x\n"),
            "metadata.nmespace", "unknown field"),
        Arguments.of("string where integer expected", ROUTE.replace("weight: 90", "weight: ninety"),
            "spec.http[0].route[0].weight", "\"ninety\" (expected: an integer)"),
        Arguments.of("decimal weight", ROUTE.replace("weight: 90", "weight: 90.5"), "spec.http[0].route[0].weight", "expected: an integer"),
        Arguments.of("list where object expected", ROUTE.replace("retries: {attempts: 3, perTryTimeout: 500ms, retryOn: \"5xx,reset\"}", "retries: [3]"),
            "spec.http[0].retries", "a list (expected: an object)"),
        Arguments.of("scalar where list expected", ROUTE.replace("hosts: [reviews]", "hosts: reviews"), "spec.hosts", "expected: a list"),
        Arguments.of("bad enum", """
            apiVersion: lattice.dev/v1alpha1
            kind: AuthorizationPolicy
            metadata: {name: a}
            spec: {action: PERMIT}
            """, "spec.action", "\"PERMIT\" (expected one of: ALLOW, DENY, AUDIT, CUSTOM)"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badInputs")
  void reportsBadInputWithPathAndMessage(String name, String text, String path, String message) {
    ParseResult r = parser.parse(text);
    assertThat(r.ok()).isFalse();
    java.util.List<ValidationIssue> issues = new java.util.ArrayList<>();
    if (r.syntaxError() != null) issues.add(r.syntaxError());
    r.documents().forEach(d -> issues.addAll(d.errors()));
    assertThat(issues).as(issues.toString())
        .anySatisfy(i -> {
          assertThat(i.path()).isEqualTo(path);
          assertThat(i.message()).contains(message);
        });
  }

  @Test
  void syntaxErrorNamesTheLine() {
    ParseResult r = parser.parse("apiVersion: lattice.dev/v1alpha1\nkind: TrafficRoute\nmetadata:\n  name: [unclosed\n");
    assertThat(r.syntaxError()).isNotNull();
    assertThat(r.syntaxError().message()).startsWith("line ").contains("malformed YAML");
  }
}
