package dev.lattice.policy.compiler;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.ResourceEvent;
import dev.lattice.events.WorkloadEndpoint;
import dev.lattice.policy.api.CompiledChangePreview;
import dev.lattice.policy.model.Resource;
import dev.lattice.policy.model.ResourceParser;
import dev.lattice.policy.registry.RegistryIndex;
import dev.lattice.policy.registry.WorkloadEndpoints;
import io.vertx.core.json.JsonObject;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The dry-run preview: the compiled keys a change would upsert or tombstone, without writing anything. */
class CompiledChangePreviewTest {

  static final Clock CLOCK = Clock.fixed(Instant.parse("2026-01-01T00:00:00Z"), ZoneOffset.UTC);

  @Test
  void previewListsTheKeysAChangeWouldTouch() {
    RegistryIndex registry = new RegistryIndex();
    for (WorkloadEndpoint w : List.of(CompilerTopologyTest.PRODUCTPAGE, CompilerTopologyTest.REVIEWS_V1,
        CompilerTopologyTest.REVIEWS_V2, CompilerTopologyTest.RATINGS)) {
      registry.put(WorkloadEndpoints.toRegistered(w));
    }
    ResourceEvent existing = MeshFixtures.subsets("default", "reviews", "reviews", MeshFixtures.T0);
    CompiledChangePreview preview = new CompiledChangePreview(null, () -> List.of(existing), registry,
        CompilerOptions.defaults(ValidatedAdmission.INSTANCE), CLOCK);

    Resource route = ResourceParser.create().parseOne("""
        apiVersion: lattice.dev/v1alpha1
        kind: TrafficRoute
        metadata: {name: reviews, namespace: default}
        spec:
          hosts: [reviews]
          http:
          - route:
            - destination: {host: reviews, subset: v2}
        """).resource();
    JsonObject diff = preview.compute(List.of(route), List.of());
    assertThat(diff.getJsonArray("changed").stream().map(o -> ((JsonObject) o).getString("key")))
        .containsExactlyInAnyOrder("node-a/ROUTE/outbound|9080|reviews.default", "node-b/ROUTE/outbound|9080|reviews.default");
    assertThat(diff.getJsonArray("removed")).isEmpty();

    Resource dp = ResourceParser.create().parseOne("""
        apiVersion: lattice.dev/v1alpha1
        kind: DestinationPolicy
        metadata: {name: reviews, namespace: default}
        spec: {host: reviews}
        """).resource();
    JsonObject deletion = preview.compute(List.of(), List.of(dp));
    assertThat(deletion.getJsonArray("removed").getList()).contains("node-a/CLUSTER/outbound|9080|v1|reviews.default",
        "node-b/CLUSTER/outbound|9080|v2|reviews.default");
  }
}
