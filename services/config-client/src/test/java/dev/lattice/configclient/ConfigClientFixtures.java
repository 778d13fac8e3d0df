package dev.lattice.configclient;

import com.google.protobuf.ByteString;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Resource;
import dev.lattice.schemas.serde.AvroSerde;
import dev.lattice.schemas.serde.CanonicalEncoding;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/** Compiled resources and stream responses for the client's tests. */
final class ConfigClientFixtures {

  static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);

  private ConfigClientFixtures() {}

  static ConfigResource cluster(String node, String name, int port) {
    return resource(node, ConfigType.CLUSTER, name,
        ClusterConfig.newBuilder().setName(name).setHost(name + ".svc").setPort(port).build());
  }

  static ConfigResource route(String node, String name, String cluster) {
    RouteRule rule = RouteRule.newBuilder().setName(name + "-0")
        .setClusters(List.of(WeightedCluster.newBuilder().setCluster(cluster).setWeight(100).build())).build();
    VirtualHost vh = VirtualHost.newBuilder().setName(name).setDomains(List.of(name)).setRoutes(List.of(rule)).build();
    return resource(node, ConfigType.ROUTE, name, RouteConfig.newBuilder().setName(name).setVirtualHosts(List.of(vh)).build());
  }

  static ConfigResource resource(String node, ConfigType type, String name, SpecificRecord payload) {
    return ConfigResource.newBuilder().setNode(node).setType(type).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(payload)).setPayload(payload).build();
  }

  static Resource wire(ConfigResource r) {
    return Resource.newBuilder().setName(r.getName()).setVersion(r.getVersion())
        .setPayload(ByteString.copyFrom(SERDE.encode(r))).build();
  }

  static DeltaConfigResponse response(ConfigType type, List<ConfigResource> upserts, List<String> removed) {
    DeltaConfigResponse.Builder b = DeltaConfigResponse.newBuilder().setTypeUrl(ConfigTypeUrls.of(type)).setNonce("n-1")
        .addAllRemovedResources(removed);
    upserts.forEach(r -> b.addResources(wire(r)));
    return b.build();
  }
}
