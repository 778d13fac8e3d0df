package dev.lattice.policy.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.ResourceSource;
import dev.lattice.events.policy.AuthorizationPolicySpec;
import dev.lattice.events.policy.TrafficRouteSpec;
import dev.lattice.schemas.serde.AvroSerde;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class ResourceEventMapperTest {
  private static final AvroSerde<ResourceEvent> SERDE = AvroSerde.of(ResourceEvent.class);
  private static final ResourceEventMapper.Provenance PROV =
      new ResourceEventMapper.Provenance(1, "alice", ResourceSource.REST, Instant.parse("2026-01-02T03:04:05Z"));

  static Stream<String> examples() {
    return Stream.of(ResourceValidatorTest.ROUTE, ResourceValidatorTest.ROUTE_ANSWERS, ResourceValidatorTest.ROUTE_REGEX_REWRITE, ResourceValidatorTest.DP, ResourceValidatorTest.AP,
        ResourceValidatorTest.PA, ResourceValidatorTest.RL);
  }

  @ParameterizedTest
  @MethodSource("examples")
  void roundTripsThroughAvroBytes(String yaml) {
    Resource r = ResourceValidatorTest.parse(yaml)
        .withMetadata(ResourceValidatorTest.parse(yaml).metadata().withServerFields("7", "2026-01-02T03:04:05Z", "uid-1"));
    ResourceEvent event = ResourceEventMapper.toEvent(r, PROV);
    ResourceEvent decoded = SERDE.decode(SERDE.encode(event));
    Resource back = ResourceEventMapper.toResource(decoded);
    // Durations come back normalized (2s stays 2s, 500ms stays 500ms), so the examples round-trip exactly.
    assertThat(back).isEqualTo(r);
    assertThat(decoded.getResourceVersion()).isEqualTo(7);
    assertThat(decoded.getAuthor()).isEqualTo("alice");
    assertThat(r.key().asString()).isEqualTo(decoded.getKind() + "/" + decoded.getNamespace() + "/" + decoded.getName());
  }

  @Test
  void flattensIstioShapesAndNormalizesPrincipals() {
    Resource ap = ResourceValidatorTest.parse(ResourceValidatorTest.AP
        .replace("lattice.local/ns/default/sa/productpage", "spiffe://lattice.local/ns/default/sa/productpage")
        .replace("metadata: {name: reviews-viewer}", "metadata: {name: reviews-viewer, annotations: {lattice.dev/dry-run: \"true\"}}"));
    AuthorizationPolicySpec spec = (AuthorizationPolicySpec) ResourceEventMapper.toEvent(ap, PROV).getSpec();
    assertThat(spec.getRules().get(0).getFrom().get(0).getSource().getPrincipals())
        .containsExactly("lattice.local/ns/default/sa/productpage");
    assertThat(spec.getDryRun()).isTrue();
    TrafficRouteSpec tr = (TrafficRouteSpec) ResourceEventMapper.toEvent(ResourceValidatorTest.parse(ResourceValidatorTest.ROUTE), PROV).getSpec();
    assertThat(tr.getHttp().get(0).getTimeout()).isEqualTo(2000L);
    assertThat(tr.getHttp().get(0).getRetries().getPerTryTimeout()).isEqualTo(500L);
    assertThat(tr.getHttp().get(0).getRetries().getBackoffBaseInterval()).isEqualTo(10L);
    assertThat(tr.getHttp().get(0).getRetries().getBackoffMaxInterval()).isEqualTo(200L);
    dev.lattice.events.policy.DestinationPolicySpec dp = (dev.lattice.events.policy.DestinationPolicySpec) ResourceEventMapper
        .toEvent(ResourceValidatorTest.parse(ResourceValidatorTest.DP), PROV).getSpec();
    assertThat(dp.getTrafficPolicy().getRetryBudget()).isEqualTo(dev.lattice.events.policy.RetryBudget.newBuilder()
        .setRetryRatio(0.25).setMinRetriesPerSecond(5).setTtl(5_000L).build());
    // unset budget fields take Linkerd's defaults (0.2, 10 per second, 10 s)
    dev.lattice.events.policy.DestinationPolicySpec dflt = (dev.lattice.events.policy.DestinationPolicySpec) ResourceEventMapper
        .toEvent(ResourceValidatorTest.parse(ResourceValidatorTest.DP.replace("{retryRatio: 0.25, minRetriesPerSecond: 5, ttl: 5s}", "{}")), PROV)
        .getSpec();
    assertThat(dflt.getTrafficPolicy().getRetryBudget()).isEqualTo(dev.lattice.events.policy.RetryBudget.newBuilder().build());
    assertThat(dflt.getTrafficPolicy().getRetryBudget().getRetryRatio()).isEqualTo(0.2);
  }

  @Test
  void rejectsASpecThatDoesNotMatchTheKind() {
    ResourceEvent e = ResourceEventMapper.toEvent(ResourceValidatorTest.parse(ResourceValidatorTest.ROUTE), PROV);
    e.setKind("AuthorizationPolicy");
    assertThatThrownBy(() -> ResourceEventMapper.toResource(e))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("spec: TrafficRouteSpec (expected: AuthorizationPolicySpec for kind AuthorizationPolicy)");
    e.setKind("Gateway");
    assertThatThrownBy(() -> ResourceEventMapper.toResource(e)).hasMessageContaining("kind: \"Gateway\"");
  }
}
