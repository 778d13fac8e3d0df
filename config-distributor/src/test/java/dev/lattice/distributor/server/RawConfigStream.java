package dev.lattice.distributor.server;

import dev.lattice.configclient.ConfigTypeUrls;
import dev.lattice.events.config.ConfigType;
import dev.lattice.schemas.config.v1.ConfigDiscoveryGrpcClient;
import dev.lattice.schemas.config.v1.DeltaConfigRequest;
import dev.lattice.schemas.config.v1.DeltaConfigResponse;
import dev.lattice.schemas.config.v1.Node;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.common.GrpcStatus;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A bare gRPC client of StreamConfig for transport tests: sends requests, queues responses, records the end status. */
final class RawConfigStream implements AutoCloseable {

  record End(GrpcStatus status, String message) {}

  final BlockingQueue<DeltaConfigResponse> responses = new LinkedBlockingQueue<>();
  final CompletableFuture<End> end = new CompletableFuture<>();
  private final GrpcClientRequest<DeltaConfigRequest, DeltaConfigResponse> request;
  final String node;

  private RawConfigStream(String node, GrpcClientRequest<DeltaConfigRequest, DeltaConfigResponse> request) {
    this.node = node;
    this.request = request;
  }

  static RawConfigStream open(GrpcClient client, SocketAddress server, String node) throws Exception {
    CompletableFuture<RawConfigStream> opened = new CompletableFuture<>();
    client.request(server, ConfigDiscoveryGrpcClient.StreamConfig).onComplete(ar -> {
      if (ar.failed()) {
        opened.completeExceptionally(ar.cause());
        return;
      }
      RawConfigStream s = new RawConfigStream(node, ar.result());
      ar.result().response().onComplete(resp -> {
        if (resp.failed()) {
          s.end.complete(new End(null, resp.cause().toString()));
          return;
        }
        resp.result().handler(s.responses::add);
        resp.result().endHandler(v -> s.end.complete(new End(resp.result().status(), resp.result().statusMessage())));
        resp.result().exceptionHandler(e -> s.end.complete(new End(resp.result().status(), e.toString())));
      });
      opened.complete(s);
    });
    return opened.get(10, TimeUnit.SECONDS);
  }

  static HttpClientOptions plaintext() {
    return new HttpClientOptions().setProtocolVersion(io.vertx.core.http.HttpVersion.HTTP_2).setHttp2ClearTextUpgrade(false);
  }

  Future<Void> send(DeltaConfigRequest r) {
    return request.write(r);
  }

  void subscribe(ConfigType type, Map<String, String> initial) {
    send(DeltaConfigRequest.newBuilder().setNode(Node.newBuilder().setId(node)).setTypeUrl(ConfigTypeUrls.of(type))
        .addResourceNamesSubscribe("*").putAllInitialResourceVersions(initial).build());
  }

  void subscribeAll() {
    ConfigTypeUrls.TYPES.forEach(t -> subscribe(t, Map.of()));
  }

  void ack(DeltaConfigResponse r) {
    send(DeltaConfigRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce()).build());
  }

  void nack(DeltaConfigResponse r, String why) {
    send(DeltaConfigRequest.newBuilder().setTypeUrl(r.getTypeUrl()).setResponseNonce(r.getNonce())
        .setErrorDetail(com.google.rpc.Status.newBuilder().setCode(3).setMessage(why)).build());
  }

  DeltaConfigResponse next() throws InterruptedException {
    DeltaConfigResponse r = responses.poll(10, TimeUnit.SECONDS);
    if (r == null) {
      throw new AssertionError("no response within 10 s on the stream of " + node);
    }
    return r;
  }

  /** Whether nothing arrives within {@code quiet} (only to show the absence of a push). */
  DeltaConfigResponse poll(Duration quiet) throws InterruptedException {
    return responses.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
  }

  End awaitEnd() throws Exception {
    return end.get(10, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    request.cancel();
  }
}
