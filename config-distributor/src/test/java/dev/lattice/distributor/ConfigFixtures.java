package dev.lattice.distributor;

import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.AuthorizationConfig;
import dev.lattice.events.config.ClusterConfig;
import dev.lattice.events.config.ConfigType;
import dev.lattice.events.config.ListenerConfig;
import dev.lattice.events.config.ListenerProtocol;
import dev.lattice.events.config.RouteConfig;
import dev.lattice.events.config.RouteRule;
import dev.lattice.events.config.TrafficDirection;
import dev.lattice.events.config.VirtualHost;
import dev.lattice.events.config.WeightedCluster;
import dev.lattice.schemas.serde.CanonicalEncoding;
import java.util.List;
import org.apache.avro.specific.SpecificRecord;

/** Compiled resources for tests, shaped like the policy compiler's output. */
public final class ConfigFixtures {

  private ConfigFixtures() {}

  public static String key(String node, ConfigType type, String name) {
    return node + "/" + type.name() + "/" + name;
  }

  public static ConfigResource cluster(String node, String name, int port) {
    ClusterConfig c = ClusterConfig.newBuilder().setName(name).setHost(name + ".svc").setPort(port).build();
    return resource(node, ConfigType.CLUSTER, name, c);
  }

  public static ConfigResource authorization(String node, String name) {
    AuthorizationConfig a = AuthorizationConfig.newBuilder().setName(name).build();
    return resource(node, ConfigType.AUTHORIZATION, name, a);
  }

  /** A route table with one virtual host routing everything to {@code clusters} (equal weights). */
  public static ConfigResource route(String node, String name, String... clusters) {
    List<WeightedCluster> weighted = java.util.Arrays.stream(clusters)
        .map(c -> WeightedCluster.newBuilder().setCluster(c).setWeight(100 / clusters.length).build()).toList();
    RouteRule rule = RouteRule.newBuilder().setName(name + "-0").setClusters(weighted).build();
    VirtualHost vh = VirtualHost.newBuilder().setName(name).setDomains(List.of(name)).setRoutes(List.of(rule)).build();
    return resource(node, ConfigType.ROUTE, name, RouteConfig.newBuilder().setName(name).setVirtualHosts(List.of(vh)).build());
  }

  public static ConfigResource listener(String node, String name, int port, String routeConfig) {
    ListenerConfig l = ListenerConfig.newBuilder().setName(name).setPort(port)
        .setDirection(TrafficDirection.values()[0]).setProtocol(ListenerProtocol.values()[0])
        .setRouteConfig(routeConfig).build();
    return resource(node, ConfigType.LISTENER, name, l);
  }

  public static ConfigResource inboundListener(String node, String name, int port, String authorization) {
    ListenerConfig l = ListenerConfig.newBuilder().setName(name).setPort(port)
        .setDirection(TrafficDirection.values()[0]).setProtocol(ListenerProtocol.values()[0])
        .setAuthorization(authorization).build();
    return resource(node, ConfigType.LISTENER, name, l);
  }

  public static ConfigResource resource(String node, ConfigType type, String name, SpecificRecord payload) {
    return ConfigResource.newBuilder().setNode(node).setType(type).setName(name)
        .setVersion(CanonicalEncoding.sha256Hex(payload)).setPayload(payload).build();
  }
}
