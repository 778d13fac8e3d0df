package dev.lattice.distributor.server;

import static dev.lattice.distributor.ConfigFixtures.cluster;
import static dev.lattice.distributor.ConfigFixtures.key;
import static dev.lattice.distributor.ConfigFixtures.listener;
import static dev.lattice.distributor.ConfigFixtures.route;
import static org.assertj.core.api.Assertions.assertThat;

import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.distributor.snapshot.SnapshotCache;
import dev.lattice.events.ConfigResource;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Node;
import dev.lattice.schemas.config.v1.Resource;
import dev.lattice.schemas.serde.AvroSerde;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The delta stream over a real socket (plaintext h2c): what goes on the wire, in which order, and bad requests. */
class ConfigStreamServerTest {

  private static final AvroSerde<ConfigResource> SERDE = AvroSerde.of(ConfigResource.class);

  private Vertx vertx;
  private SnapshotCache cache;
  private ConfigStreamServer server;
  private GrpcClient client;
  private SocketAddress address;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    cache = new SnapshotCache(Clock.systemUTC());
    put(cluster("node-a", "c1", 8080));
    put(route("node-a", "r1", "c1"));
    put(listener("node-a", "l1", 9000, "r1"));
    server = new ConfigStreamServer(vertx, cache,
        new ConfigStreamServer.Settings("127.0.0.1", 0, Duration.ZERO, "test-1"), null, StreamObserver.NONE,
        Clock.systemUTC());
    int port = server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    address = SocketAddress.inetSocketAddress(port, "127.0.0.1");
    client = GrpcClient.client(vertx, RawConfigStream.plaintext());
  }

  @AfterEach
  void stop() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private void put(ConfigResource r) {
    assertThat(cache.upsert(key(r.getNode(), r.getType(), r.getName()), r)).isEmpty();
  }

  private static ConfigType typeOf(DeltaConfigResponse r) {
    return ConfigTypeUrls.parse(r.getTypeUrl()).orElseThrow();
  }

  @Test
  void subscribeReceivesClustersThenRoutesThenListenersEachAfterTheAckOfWhatItReferences() throws Exception {
    try (RawConfigStream s = RawConfigStream.open(client, address, "node-a")) {
      s.subscribeAll();
      DeltaConfigResponse clusters = s.next();
      assertThat(typeOf(clusters)).isEqualTo(ConfigType.CLUSTER);
      assertThat(clusters.getResourcesList()).extracting(Resource::getName).containsExactly("c1");
      ConfigResource decoded = SERDE.decode(clusters.getResources(0).getPayload().toByteArray());
      assertThat(decoded.getVersion()).isEqualTo(clusters.getResources(0).getVersion());
      assertThat(clusters.getNonce()).startsWith("test-1-");
      // the route references c1: it waits for the ACK of the clusters
      s.ack(clusters);
      DeltaConfigResponse routes = s.next();
      assertThat(typeOf(routes)).isEqualTo(ConfigType.ROUTE);
      s.ack(routes);
      DeltaConfigResponse listeners = s.next();
      assertThat(typeOf(listeners)).isEqualTo(ConfigType.LISTENER);
      assertThat(listeners.getResourcesList()).extracting(Resource::getName).containsExactly("l1");
      s.ack(listeners);

      // one change → exactly that resource
      put(cluster("node-a", "c1", 8081));
      DeltaConfigResponse changed = s.next();
      assertThat(typeOf(changed)).isEqualTo(ConfigType.CLUSTER);
      assertThat(changed.getResourcesList()).extracting(Resource::getName).containsExactly("c1");
      assertThat(changed.getRemovedResourcesList()).isEmpty();
      s.ack(changed);

      // removal after the referrer is gone: listener first, then route, then cluster
      cache.remove(key("node-a", ConfigType.LISTENER, "l1"));
      cache.remove(key("node-a", ConfigType.ROUTE, "r1"));
      cache.remove(key("node-a", ConfigType.CLUSTER, "c1"));
      DeltaConfigResponse removedListener = s.next();
      assertThat(typeOf(removedListener)).isEqualTo(ConfigType.LISTENER);
      assertThat(removedListener.getRemovedResourcesList()).containsExactly("l1");
      s.ack(removedListener);
      DeltaConfigResponse removedRoute = s.next();
      assertThat(removedRoute.getRemovedResourcesList()).containsExactly("r1");
      s.ack(removedRoute);
      DeltaConfigResponse removedCluster = s.next();
      assertThat(typeOf(removedCluster)).isEqualTo(ConfigType.CLUSTER);
      assertThat(removedCluster.getRemovedResourcesList()).containsExactly("c1");
    }
  }

  @Test
  void reconnectWithInitialVersionsGetsOnlyWhatDiffers() throws Exception {
    Map<String, String> heldClusters;
    try (RawConfigStream s = RawConfigStream.open(client, address, "node-a")) {
      s.subscribe(ConfigType.CLUSTER, Map.of());
      DeltaConfigResponse r = s.next();
      s.ack(r);
      heldClusters = Map.of("c1", r.getResources(0).getVersion());
    }
    put(cluster("node-a", "c2", 8082));
    try (RawConfigStream s = RawConfigStream.open(client, address, "node-a")) {
      s.subscribe(ConfigType.CLUSTER, heldClusters);
      DeltaConfigResponse r = s.next();
      assertThat(r.getResourcesList()).extracting(Resource::getName).containsExactly("c2");
    }
  }

  @Test
  void nackedVersionIsNotResentAndTheNextVersionIs() throws Exception {
    try (RawConfigStream s = RawConfigStream.open(client, address, "node-a")) {
      s.subscribe(ConfigType.CLUSTER, Map.of());
      s.ack(s.next());
      put(cluster("node-a", "c1", 1));
      DeltaConfigResponse bad = s.next();
      s.nack(bad, "cluster c1: port 1 refused");
      // the next response is the next change, not the rejected version again
      put(cluster("node-a", "c3", 8083));
      DeltaConfigResponse next = s.next();
      assertThat(next.getResourcesList()).extracting(Resource::getName).containsExactly("c3");
      s.ack(next);
      put(cluster("node-a", "c1", 8084));
      DeltaConfigResponse fixed = s.next();
      assertThat(fixed.getResourcesList()).extracting(Resource::getName).containsExactly("c1");
    }
  }

  @Test
  void unknownTypeUrlEndsThatStreamWithInvalidArgumentAndOtherStreamsKeepWorking() throws Exception {
    try (RawConfigStream good = RawConfigStream.open(client, address, "node-a");
        RawConfigStream bad = RawConfigStream.open(client, address, "node-b")) {
      good.subscribe(ConfigType.CLUSTER, Map.of());
      good.ack(good.next());
      bad.send(DeltaConfigRequest.newBuilder().setNode(Node.newBuilder().setId("node-b"))
          .setTypeUrl("type.googleapis.com/envoy.config.cluster.v3.Cluster").addResourceNamesSubscribe("*").build());
      RawConfigStream.End end = bad.awaitEnd();
      assertThat(end.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(end.message()).contains("type_url: \"type.googleapis.com/envoy.config.cluster.v3.Cluster\"")
          .contains("lattice.dev/config/v1/");
      put(cluster("node-a", "c9", 8089));
      assertThat(good.next().getResourcesList()).extracting(Resource::getName).containsExactly("c9");
    }
  }

  @Test
  void firstRequestWithoutNodeIdIsInvalidArgument() throws Exception {
    try (RawConfigStream s = RawConfigStream.open(client, address, "")) {
      s.send(DeltaConfigRequest.newBuilder().setTypeUrl(ConfigTypeUrls.of(ConfigType.CLUSTER))
          .addResourceNamesSubscribe("*").build());
      RawConfigStream.End end = s.awaitEnd();
      assertThat(end.status()).isEqualTo(GrpcStatus.INVALID_ARGUMENT);
      assertThat(end.message()).contains("node.id: empty");
    }
  }

  @Test
  void burstInsideTheDebounceWindowIsOnePush() throws Exception {
    server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    server = new ConfigStreamServer(vertx, cache,
        new ConfigStreamServer.Settings("127.0.0.1", 0, Duration.ofMillis(50), "test-2"), null, StreamObserver.NONE,
        Clock.systemUTC());
    int port = server.listen().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    try (RawConfigStream s = RawConfigStream.open(client, SocketAddress.inetSocketAddress(port, "127.0.0.1"), "node-a")) {
      s.subscribe(ConfigType.CLUSTER, Map.of());
      s.ack(s.next());
      for (int i = 0; i < 200; i++) {
        put(cluster("node-a", "burst-" + i, 10_000 + i));
      }
      // the window may close mid-burst on a slow machine: then the rest is in the one response after the ACK
      int received = 0;
      int pushes = 0;
      while (received < 200) {
        DeltaConfigResponse r = s.next();
        received += r.getResourcesCount();
        pushes++;
        s.ack(r);
      }
      assertThat(received).isEqualTo(200);
      assertThat(pushes).isLessThan(50);
    }
  }
}
