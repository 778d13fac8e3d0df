package dev.lattice.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ClusterEndpoint;
import dev.lattice.events.WorkloadHealth;
import java.io.IOException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.junit.jupiter.api.Test;

class CanonicalEncodingTest {

  private static ClusterConfig cluster(Map<String, String> labels) {
    return ClusterConfig.newBuilder().setName("outbound|9080||reviews.default").setHost("reviews.default").setPort(9080)
        .setEndpoints(List.of(ClusterEndpoint.newBuilder().setAddress("10.1.2.3").setPort(9080)
            .setHealth(WorkloadHealth.HEALTHY).setLabels(labels).build()))
        .build();
  }

  @Test
  void equalRecordsWithMapsBuiltInDifferentOrdersHashTheSame() {
    Map<String, String> forward = new LinkedHashMap<>();
    Map<String, String> backward = new LinkedHashMap<>();
    for (int i = 0; i < 50; i++) {
      forward.put("label-" + i, "v" + i);
    }
    for (int i = 49; i >= 0; i--) {
      backward.put("label-" + i, "v" + i);
    }
    Map<String, String> small = new HashMap<>(2);
    small.putAll(backward);

    String version = CanonicalEncoding.sha256Hex(cluster(forward));

    assertThat(CanonicalEncoding.sha256Hex(cluster(backward))).isEqualTo(version);
    assertThat(CanonicalEncoding.sha256Hex(cluster(small))).isEqualTo(version);
    assertThat(version).hasSize(64).matches("[0-9a-f]+");
    assertThat(CanonicalEncoding.sha256Hex(cluster(Map.of("label-0", "other")))).isNotEqualTo(version);
  }

  @Test
  void canonicalBytesAreOrdinaryAvroBinary() throws IOException {
    ClusterConfig cluster = cluster(Map.of("b", "2", "a", "1"));
    byte[] bytes = CanonicalEncoding.canonicalBytes(cluster);
    ClusterConfig decoded = new SpecificDatumReader<>(ClusterConfig.class)
        .read(null, DecoderFactory.get().binaryDecoder(bytes, null));
    assertThat(decoded).isEqualTo(cluster);
  }
}
