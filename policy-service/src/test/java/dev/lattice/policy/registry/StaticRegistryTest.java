package dev.lattice.policy.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.events.WorkloadHealth;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/** Parsing static-registry documents: the happy path and errors with field paths. */
class StaticRegistryTest {

  static final Instant NOW = Instant.parse("2026-01-01T00:00:00Z");

  static final String VALID = """
      apiVersion: lattice.dev/v1alpha1
      kind: StaticRegistry
      workloads:
      - namespace: legacy
        workload: billing
        instance: vm-1
        services: [billing, payments.finance]
        address: 192.168.10.5
        node: vm-node-1
        serviceAccount: billing
        labels: {app: billing, version: v3}
        ports: [{name: http, port: 80, targetPort: 8080, protocol: http}]
        egressHosts: ["./*", "finance/payments"]
        exportTo: ["."]
      - namespace: legacy
        workload: billing
        instance: vm-2
        address: 192.168.10.6
        health: draining
      """;

  @Test
  void parsesInstancesWithServicesPortsIdentityAndSourceLabel() {
    StaticRegistry.Result r = StaticRegistry.parse(VALID, "lattice.local", NOW);
    assertThat(r.errors()).isEmpty();
    assertThat(r.workloads()).hasSize(2);
    WorkloadEndpoint vm1 = r.workloads().get(0);
    assertThat(WorkloadEndpoints.key(vm1)).isEqualTo("legacy/billing/vm-1");
    assertThat(vm1.getServices()).containsExactly("billing.legacy", "payments.finance");
    assertThat(vm1.getSpiffeId()).isEqualTo("spiffe://lattice.local/ns/legacy/sa/billing");
    assertThat(vm1.getPorts().get(0).getPort()).isEqualTo(80);
    assertThat(vm1.getPorts().get(0).getTargetPort()).isEqualTo(8080);
    assertThat(vm1.getPorts().get(0).getProtocol()).isEqualTo("HTTP");
    assertThat(vm1.getLabels()).containsEntry("lattice.dev/registry", "static").containsEntry("version", "v3");
    assertThat(vm1.getHealth()).isEqualTo(WorkloadHealth.HEALTHY);
    assertThat(r.workloads().get(1).getHealth()).isEqualTo(WorkloadHealth.DRAINING);
    assertThat(r.workloads().get(1).getSpiffeId()).isNull();
    assertThat(vm1.getEgressHosts()).containsExactly("./*", "finance/payments");
    assertThat(vm1.getExportTo()).containsExactly(".");
    assertThat(r.workloads().get(1).getEgressHosts()).isNull();

    RegisteredWorkload mapped = WorkloadEndpoints.toRegistered(vm1);
    assertThat(mapped.backs("billing.legacy")).isTrue();
    assertThat(StaticRegistry.isStatic(mapped)).isTrue();
    assertThat(WorkloadEndpoints.toRegistered(WorkloadEndpoints.toEvent(mapped, NOW.toEpochMilli())))
        .isEqualTo(mapped);
  }

  static Stream<Arguments> invalidDocuments() {
    String head = "kind: StaticRegistry\nworkloads:\n- ";
    return Stream.of(
        Arguments.of("kind: Other\nworkloads: []", "kind: \"Other\" (expected: StaticRegistry)"),
        Arguments.of("kind: StaticRegistry", "workloads: missing (expected: a list)"),
        Arguments.of(head + "{workload: a, instance: b, address: 1.2.3.4}", "workloads[0].namespace: missing"),
        Arguments.of(head + "{namespace: Bad_NS, workload: a, instance: b, address: 1.2.3.4}",
            "workloads[0].namespace: \"Bad_NS\""),
        Arguments.of(head + "{namespace: n, workload: a, instance: b}", "workloads[0].address: missing"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, ports: [{port: 70000}]}",
            "workloads[0].ports[0].port: 70000 (expected: 1..65535)"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, ports: [{port: 80, protocol: udp}]}",
            "workloads[0].ports[0].protocol: \"UDP\""),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, health: sick}",
            "workloads[0].health: \"SICK\""),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, spiffeId: http://x}",
            "workloads[0].spiffeId: \"http://x\""),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, colour: red}",
            "workloads[0].colour: unknown field"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x}\n- {namespace: n, workload: a, instance: b, address: y}",
            "workloads[1]: duplicate instance n/a/b"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, egressHosts: [reviews]}",
            "workloads[0].egressHosts[0]: \"reviews\" (expected: namespace/host"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, egressHosts: \"./*\"}",
            "workloads[0].egressHosts: not a list"),
        Arguments.of(head + "{namespace: n, workload: a, instance: b, address: x, exportTo: [\"a/b\"]}",
            "workloads[0].exportTo[0]: \"a/b\" (expected: '.', '*' or a namespace)"),
        Arguments.of("kind: StaticRegistry\nworkloads: [", "line "));
  }

  @ParameterizedTest
  @MethodSource("invalidDocuments")
  void invalidDocumentsNameTheFieldAndPublishNothing(String document, String expectedError) {
    StaticRegistry.Result r = StaticRegistry.parse(document, "lattice.local", NOW);
    assertThat(r.ok()).isFalse();
    assertThat(r.workloads()).isEmpty();
    assertThat(r.errors()).anySatisfy(e -> assertThat(e).contains(expectedError));
  }
}
