package dev.lattice.policy.registry;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceVisibilityTest {

  static RegisteredWorkload w(String ns, List<String> egress, List<String> exportTo) {
    return new RegisteredWorkload(ns, "w", "w-1", List.of(), "10.0.0.1", List.of(), Map.of(), "node-a", "", "HEALTHY",
        egress, exportTo);
  }

  @Test
  void scopeEntriesAreCheckedWithAReason() {
    assertThat(ServiceVisibility.egressHostProblem("./*")).isEmpty();
    assertThat(ServiceVisibility.egressHostProblem("*/*")).isEmpty();
    assertThat(ServiceVisibility.egressHostProblem("prod/reviews.prod.svc.cluster.local")).isEmpty();
    assertThat(ServiceVisibility.egressHostProblem("~/*")).isEmpty();
    assertThat(ServiceVisibility.egressHostProblem("reviews")).get().asString().contains("expected: namespace/host");
    assertThat(ServiceVisibility.egressHostProblem("a/b/c")).get().asString().contains("expected: namespace/host");
    assertThat(ServiceVisibility.egressHostProblem("Prod/x")).get().asString().contains("namespace \"Prod\"");
    assertThat(ServiceVisibility.egressHostProblem("prod/re views")).get().asString().contains("host \"re views\"");
    assertThat(ServiceVisibility.exportToProblem(".")).isEmpty();
    assertThat(ServiceVisibility.exportToProblem("team-a")).isEmpty();
    assertThat(ServiceVisibility.exportToProblem("./x")).get().asString().contains("expected: '.', '*' or a namespace");
  }

  @Test
  void scopeMatchesIstioForms() {
    RegisteredWorkload shop = w("shop", List.of("./cart", "prod/reviews.prod.svc.cluster.local", "*/*.example.com",
        "infra/*"), null);
    assertThat(ServiceVisibility.inScope(shop, "cart.shop", List.of("shop"))).isTrue();
    assertThat(ServiceVisibility.inScope(shop, "web.shop", List.of("shop"))).isFalse();
    assertThat(ServiceVisibility.inScope(shop, "reviews.prod", List.of("prod"))).isTrue();
    assertThat(ServiceVisibility.inScope(shop, "reviews.dev", List.of("dev"))).isFalse();
    assertThat(ServiceVisibility.inScope(shop, "api.example.com", List.of())).isTrue();
    assertThat(ServiceVisibility.inScope(shop, "dns.infra", List.of("infra"))).isTrue();
    assertThat(ServiceVisibility.inScope(w("shop", null, null), "anything.anywhere", List.of())).isTrue();
    assertThat(ServiceVisibility.inScope(w("shop", List.of(), null), "cart.shop", List.of("shop"))).isFalse();
    assertThat(ServiceVisibility.inScope(w("shop", List.of("~/*"), null), "cart.shop", List.of("shop"))).isFalse();
  }

  @Test
  void exportToDotKeepsAServiceInItsNamespace() {
    List<RegisteredWorkload> secrets = List.of(w("vault", null, List.of(".")));
    assertThat(ServiceVisibility.exportedTo(secrets, "vault")).isTrue();
    assertThat(ServiceVisibility.exportedTo(secrets, "shop")).isFalse();
    assertThat(ServiceVisibility.exportedTo(List.of(w("vault", null, List.of(".", "shop"))), "shop")).isTrue();
    assertThat(ServiceVisibility.exportedTo(List.of(w("vault", null, null)), "shop")).isTrue();
    // any instance exporting it is enough
    assertThat(ServiceVisibility.exportedTo(List.of(secrets.get(0), w("vault", null, List.of("*"))), "shop")).isTrue();
  }
}
