package dev.lattice.schemas.config.v1;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import com.google.rpc.Status;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The delta stream's messages carry lattice.config.v1 values unchanged, ACK/NACK by nonce. */
class ConfigStreamContractTest {

  private final AvroSerde<ConfigResource> serde = AvroSerde.of(ConfigResource.class);

  @Test
  void responseCarriesTheKafkaValueAndTheNodeDecodesIt() throws Exception {
    RouteConfig route = RouteConfig.newBuilder().setName("outbound|9080").setVirtualHosts(List.of()).build();
    ConfigResource resource = ConfigResource.newBuilder().setNode("node-a").setType(ConfigType.ROUTE)
        .setName("outbound|9080").setVersion(CanonicalEncoding.sha256Hex(route)).setPayload(route).build();
    byte[] kafkaValue = serde.serialize("lattice.config.v1", resource);

    DeltaConfigResponse response = DeltaConfigResponse.newBuilder()
        .setTypeUrl("lattice.dev/config/v1/ROUTE").setSystemVersionInfo("42").setNonce("n-1")
        .addResources(Resource.newBuilder().setName(resource.getName()).setVersion(resource.getVersion())
            .setPayload(ByteString.copyFrom(kafkaValue)))
        .addRemovedResources("outbound|8080")
        .build();

    DeltaConfigResponse received = DeltaConfigResponse.parseFrom(response.toByteArray());
    ConfigResource decoded = serde.deserialize("lattice.config.v1", received.getResources(0).getPayload().toByteArray());

    assertThat(decoded).isEqualTo(resource);
    assertThat(received.getResources(0).getVersion()).isEqualTo(decoded.getVersion()).hasSize(64);
    assertThat(received.getRemovedResourcesList()).containsExactly("outbound|8080");
  }

  @Test
  void subscribeAckAndNackAreDistinguishable() throws Exception {
    DeltaConfigRequest subscribe = DeltaConfigRequest.newBuilder()
        .setNode(Node.newBuilder().setId("node-a").setBuildVersion("0.1.0").putMetadata("zone", "eu-1"))
        .setTypeUrl("lattice.dev/config/v1/CLUSTER").addResourceNamesSubscribe("*")
        .putInitialResourceVersions("outbound|9080||reviews.default", "ab12")
        .build();
    DeltaConfigRequest ack = DeltaConfigRequest.newBuilder().setTypeUrl("lattice.dev/config/v1/CLUSTER")
        .setResponseNonce("n-1").build();
    DeltaConfigRequest nack = DeltaConfigRequest.newBuilder().setTypeUrl("lattice.dev/config/v1/CLUSTER")
        .setResponseNonce("n-2")
        .setErrorDetail(Status.newBuilder().setCode(3).setMessage("cluster outbound|9080||reviews.default: no endpoints"))
        .build();

    DeltaConfigRequest first = DeltaConfigRequest.parseFrom(subscribe.toByteArray());
    assertThat(first.getNode().getId()).isEqualTo("node-a");
    assertThat(first.getResponseNonce()).isEmpty();
    assertThat(first.getInitialResourceVersionsMap()).containsEntry("outbound|9080||reviews.default", "ab12");
    assertThat(DeltaConfigRequest.parseFrom(ack.toByteArray()).hasErrorDetail()).isFalse();
    DeltaConfigRequest rejected = DeltaConfigRequest.parseFrom(nack.toByteArray());
    assertThat(rejected.hasErrorDetail()).isTrue();
    assertThat(rejected.getErrorDetail().getMessage()).contains("no endpoints");
  }
}
