package dev.lattice.policy.explain;

import static dev.lattice.policy.compiler.MeshFixtures.T0;
import static dev.lattice.policy.compiler.MeshFixtures.allowFrom;
import static dev.lattice.policy.compiler.MeshFixtures.denyPath;
import static dev.lattice.policy.compiler.MeshFixtures.workload;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.Decision;
import dev.lattice.authz.Reason;
import dev.lattice.authz.Verdict;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.policy.AuthorizationAction;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.AuthorizationRule;
import dev.lattice.events.policy.Condition;
import dev.lattice.kit.config.LatticeConfig;
import dev.lattice.policy.compiler.CompilerOptions;
import dev.lattice.policy.compiler.InboundCompiler;
import dev.lattice.authz.normalize.PathNormalization;
import dev.lattice.policy.compiler.MeshCompiler;
import dev.lattice.policy.compiler.MeshSettings;
import dev.lattice.policy.compiler.ResourceAdmission;
import dev.lattice.policy.registry.RegistryIndex;
import dev.lattice.policy.registry.WorkloadEndpoints;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Explain answers from the compiled config, so it cannot diverge from what a proxy enforces. */
class ExplainerTest {

  private static final String WEB = "spiffe://lattice.local/ns/shop/sa/web";
  private static final WorkloadEndpoint LEDGER = workload("bank", "ledger", "ledger-1", "ledger", "10.0.0.9", 8080,
      "HTTP", "node-a", Map.of("app", "ledger"));

  /** What the compiler emits for the ledger instance: its AUTHORIZATION table on its node. */
  private static AuthorizationConfig compiledTable(String root, List<ResourceEvent> resources) {
    return compiledTable(MeshSettings.DEFAULTS.withRootNamespace(root), resources);
  }

  private static AuthorizationConfig compiledTable(MeshSettings mesh, List<ResourceEvent> resources) {
    MeshCompiler compiler = new MeshCompiler(mesh, ResourceAdmission.ACCEPT_ALL);
    compiler.restoreWorkload(LEDGER);
    resources.forEach(compiler::restoreResource);
    compiler.finishRestore();
    Map<String, ConfigResource> emitted = new HashMap<>();
    for (MeshCompiler.Change c : compiler.reconcileAll().changes()) emitted.put(c.key(), c.value());
    ConfigResource table = emitted.get("node-a/AUTHORIZATION/"
        + InboundCompiler.inboundName(WorkloadEndpoints.key(LEDGER)));
    assertThat(table).as("compiled table in " + emitted.keySet()).isNotNull();
    return (AuthorizationConfig) table.getPayload();
  }

  private static RegistryIndex registry() {
    RegistryIndex index = new RegistryIndex();
    index.put(WorkloadEndpoints.toRegistered(LEDGER));
    index.markAvailable();
    return index;
  }

  private static Decision explain(String root, List<ResourceEvent> resources, Explainer.Request request) {
    return explain(MeshSettings.DEFAULTS.withRootNamespace(root), resources, request);
  }

  private static Decision explain(MeshSettings mesh, List<ResourceEvent> resources, Explainer.Request request) {
    Explainer.Explanation ex = new Explainer(mesh).explain("ledger.bank", "default", request, resources, registry());
    assertThat(ex.decisions()).hasSize(1);
    return ex.decisions().get(0).decision();
  }

  private static Explainer.Request get(String from, String path) {
    return new Explainer.Request(from, null, null, 8080, "GET", path, Map.of());
  }

  @Test
  void aPolicyWithSpecDryRunAndNoAnnotationIsDryRunInExplainAsInTheCompiledConfig() {
    ResourceEvent deny = denyPath("bank", "no-admin", Map.of("app", "ledger"), "/admin*", T0);
    AuthorizationPolicySpec spec = AuthorizationPolicySpec.newBuilder((AuthorizationPolicySpec) deny.getSpec())
        .setDryRun(true).build();
    ResourceEvent dryRunDeny = ResourceEvent.newBuilder(deny).setSpec(spec).build();
    assertThat(dryRunDeny.getAnnotations()).isEmpty();

    Decision explained = explain(CompilerOptions.DEFAULT_ROOT_NAMESPACE, List.of(dryRunDeny), get(WEB, "/admin/x"));
    assertThat(explained.verdict()).as("a dry-run DENY is not enforced").isEqualTo(Verdict.ALLOW);
    assertThat(explained.dryRun()).isNotNull();
    assertThat(explained.dryRun().verdict()).isEqualTo(Verdict.DENY);
    assertThat(explained.dryRun().policy()).hasToString("bank/no-admin");

    AuthorizationConfig compiled = compiledTable(CompilerOptions.DEFAULT_ROOT_NAMESPACE, List.of(dryRunDeny));
    assertThat(compiled.getPolicies()).singleElement().satisfies(p -> assertThat(p.getDryRun()).isTrue());
    assertThat(Explainer.authorize(AuthorizationEngine.of(compiled), get(WEB, "/admin/x"))).isEqualTo(explained);
  }

  @Test
  void theRootNamespaceComesFromOneSettingForTheCompilerAndExplain() {
    assertThat(CompilerOptions.rootNamespace(LatticeConfig.of(Map.of("policy.compiler.root.namespace", "mesh-root"))))
        .isEqualTo("mesh-root");
    assertThat(CompilerOptions.rootNamespace(LatticeConfig.of(Map.of("policy.root.namespace", "a",
        "policy.compiler.root.namespace", "b")))).isEqualTo("a");
    assertThat(CompilerOptions.rootNamespace(LatticeConfig.empty())).isEqualTo("lattice-system");

    // a selector-less DENY in the configured root namespace applies mesh-wide, in the compiled config and explain
    ResourceEvent meshDeny = denyPath("mesh-root", "no-debug", null, "/debug*", T0);
    ResourceEvent meshDenyNoSelector = ResourceEvent.newBuilder(meshDeny).setSpec(
        AuthorizationPolicySpec.newBuilder((AuthorizationPolicySpec) meshDeny.getSpec()).setSelector(null).build()).build();
    String root = CompilerOptions.rootNamespace(LatticeConfig.of(Map.of("policy.compiler.root.namespace", "mesh-root")));
    AuthorizationConfig compiled = compiledTable(root, List.of(meshDenyNoSelector));
    assertThat(compiled.getPolicies()).singleElement().satisfies(p -> assertThat(p.getNamespace()).isEqualTo("mesh-root"));
    Decision explained = explain(root, List.of(meshDenyNoSelector), get(WEB, "/debug/vars"));
    assertThat(explained.verdict()).isEqualTo(Verdict.DENY);
    assertThat(explained.reason()).isEqualTo(Reason.DENY_MATCHED);
    assertThat(explained).isEqualTo(Explainer.authorize(AuthorizationEngine.of(compiled), get(WEB, "/debug/vars")));
    // with the default root, that namespace is an ordinary one: nothing applies to bank/ledger
    assertThat(explain(CompilerOptions.DEFAULT_ROOT_NAMESPACE, List.of(meshDenyNoSelector), get(WEB, "/debug/vars"))
        .reason()).isEqualTo(Reason.NO_POLICIES);
  }

  @Test
  void requestsAreCheckedAndNormalizedAsTheProxyDoes() {
    List<ResourceEvent> policies = List.of(denyPath("bank", "no-admin", Map.of("app", "ledger"), "/admin*", T0),
        allowFrom("bank", "shop-reads", Map.of("app", "ledger"), WEB, "GET", T0));
    assertThat(explain("lattice-system", policies, get(WEB, "/public/../admin")).reason())
        .as("BASE normalization removes dot segments before the DENY sees the path").isEqualTo(Reason.DENY_MATCHED);
    assertThat(explain("lattice-system", policies, get(WEB, "/%61dmin")).reason())
        .as("percent-encoded unreserved characters are decoded").isEqualTo(Reason.DENY_MATCHED);
    assertThat(explain("lattice-system", policies, get(WEB, "/ok?x=/admin")).reason())
        .as("the query string is never part of the path").isEqualTo(Reason.ALLOW_MATCHED);
    Decision malformed = explain("lattice-system", policies, get(WEB, "/a%zz"));
    assertThat(malformed.reason()).isEqualTo(Reason.REJECTED_BEFORE_AUTHZ);
    assertThat(malformed.detail()).contains("percent-encoding");
    assertThat(explain("lattice-system", policies, new Explainer.Request(WEB, null, null, 8080, "G(T", "/", Map.of()))
        .reason()).isEqualTo(Reason.REJECTED_BEFORE_AUTHZ);
    assertThat(explain("lattice-system", policies, get(null, "/ok")).reason())
        .as("a plaintext caller matches no principal").isEqualTo(Reason.NO_ALLOW_MATCH);
  }

  /** Found by the e2e AuthorizationParityThroughProxyTest (seed 90019): the proxy's codec strips OWS, explain did not. */
  @Test
  void headerValuesAreComparedWithoutTheWhitespaceTheWireCannotCarry() {
    AuthorizationRule rule = AuthorizationRule.newBuilder().setWhen(List.of(Condition.newBuilder()
        .setKey("request.headers[x-team]").setValues(List.of("blue")).build())).build();
    ResourceEvent allowBlue = dev.lattice.policy.compiler.MeshFixtures.resource("AuthorizationPolicy", "bank", "blue-only",
        AuthorizationPolicySpec.newBuilder().setAction(AuthorizationAction.ALLOW).setRules(List.of(rule)).build(), T0);
    for (String value : List.of("blue", " blue", "blue\t", " \tblue  ")) {
      Decision d = explain("lattice-system", List.of(allowBlue), new Explainer.Request(WEB, null, null, 8080, "GET", "/",
          Map.of("X-Team", value)));
      assertThat(d.reason()).as("x-team: [%s]", value).isEqualTo(Reason.ALLOW_MATCHED);
    }
    assertThat(explain("lattice-system", List.of(allowBlue), new Explainer.Request(WEB, null, null, 8080, "GET", "/",
        Map.of("x-team", "bl ue"))).reason()).as("inner whitespace stays").isEqualTo(Reason.NO_ALLOW_MATCH);
  }

  @Test
  void theMeshSettingsReachTheCompiledTableAndExplainAlike() {
    MeshSettings mesh = MeshSettings.from(LatticeConfig.of(Map.of("policy.mesh.path-normalization", "merge_slashes",
        "policy.mesh.trusted-proxies", "2")));
    assertThat(mesh).isEqualTo(new MeshSettings("lattice-system", PathNormalization.MERGE_SLASHES, 2));
    assertThat(MeshSettings.from(LatticeConfig.empty())).isEqualTo(MeshSettings.DEFAULTS);
    assertThat(MeshSettings.DEFAULTS.pathNormalization()).isEqualTo(PathNormalization.BASE);
    assertThatThrownBy(() -> MeshSettings.from(LatticeConfig.of(Map.of("policy.mesh.path-normalization", "SOMETIMES"))))
        .hasMessageContaining("policy.mesh.path-normalization").hasMessageContaining("NONE, BASE, MERGE_SLASHES");
    assertThatThrownBy(() -> MeshSettings.from(LatticeConfig.of(Map.of("policy.mesh.trusted-proxies", "-1"))))
        .hasMessageContaining("policy.mesh.trusted-proxies").hasMessageContaining("expected: 0..16");

    List<ResourceEvent> policies = List.of(denyPath("bank", "no-admin", Map.of("app", "ledger"), "/admin*", T0));
    AuthorizationConfig compiled = compiledTable(mesh, policies);
    assertThat(compiled.getPathNormalization()).isEqualTo("MERGE_SLASHES");
    assertThat(compiled.getTrustedProxies()).isEqualTo(2);
    assertThat(compiledTable("lattice-system", policies).getPathNormalization()).isEqualTo("BASE");

    // "//admin" is "/admin" only when slashes are merged: explain and the compiled table agree under either setting
    Decision merged = explain(mesh, policies, get(WEB, "//admin/x"));
    assertThat(merged.reason()).isEqualTo(Reason.DENY_MATCHED);
    assertThat(merged).isEqualTo(Explainer.authorize(AuthorizationEngine.of(compiled), get(WEB, "//admin/x")));
    Decision base = explain("lattice-system", policies, get(WEB, "//admin/x"));
    assertThat(base.reason()).isEqualTo(Reason.NO_ALLOW_POLICIES);
    assertThat(base).isEqualTo(Explainer.authorize(AuthorizationEngine.of(compiledTable("lattice-system", policies)),
        get(WEB, "//admin/x")));
  }
}
