package dev.lattice.identity.agent;

import dev.lattice.identity.agent.workload.WorkloadApiServer;
import io.vertx.core.Vertx;
import io.vertx.core.net.SocketAddress;
import io.vertx.grpc.client.GrpcClient;
import io.vertx.grpc.client.GrpcClientRequest;
import io.vertx.grpc.client.InvalidStatusException;
import io.vertx.grpc.common.GrpcStatus;
import io.vertx.grpc.common.ServiceMethod;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A raw Workload API client (Vert.x gRPC over the Unix socket) that lets tests leave out the security
 * header and watch a stream message by message. Thread-safe; close with {@link #close()}.
 */
final class WorkloadApiTestClient implements AutoCloseable {

  /** What a call produced so far: the messages, and the final status once it ended. */
  static final class Call<R> {
    final List<R> messages = new CopyOnWriteArrayList<>();
    volatile GrpcStatus status;
    volatile String statusMessage;
    GrpcClientRequest<?, R> request;

    /**
     * Cancels the call with RST_STREAM, as java-spiffe does. (Closing the connection instead raced with
     * the next call, which the client's pool could put on the closing connection: "Stream was closed
     * (GOAWAY error code = 0)".)
     */
    void cancel() {
      request.cancel();
    }
  }

  private final GrpcClient client;
  private final SocketAddress address;

  WorkloadApiTestClient(Vertx vertx, Path socket) {
    this.client = GrpcClient.client(vertx);
    this.address = SocketAddress.domainSocketAddress(socket.toString());
  }

  /** Starts a call; the returned holder fills in as messages and the status arrive. */
  <Req, Resp> Call<Resp> start(ServiceMethod<Resp, Req> method, Req message, boolean securityHeader) {
    Call<Resp> call = new Call<>();
    client.request(address, method).onSuccess(request -> {
      call.request = request;
      if (securityHeader) {
        request.headers().set(WorkloadApiServer.SECURITY_HEADER, "true");
      }
      request.end(message);
      request.response().onSuccess(response -> {
        response.handler(call.messages::add);
        response.endHandler(v -> {
          // Vert.x 5.0.7 leaves statusMessage() null when the status comes in trailers after messages
          String trailerMessage = response.statusMessage();
          String encoded = response.trailers().get("grpc-message");
          call.statusMessage = trailerMessage != null ? trailerMessage : encoded == null ? null
              : java.net.URLDecoder.decode(encoded.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
          call.status = response.status();
        });
        response.errorHandler(err -> call.status = err.status);
        response.exceptionHandler(err -> {
          if (call.status == null) {
            call.status = GrpcStatus.UNKNOWN;
            call.statusMessage = err.toString();
          }
        });
      }).onFailure(err -> {
        // a trailers-only answer (the status before any message) fails the response future
        call.statusMessage = err.getMessage();
        call.status = err instanceof InvalidStatusException invalid ? invalid.actualStatus() : GrpcStatus.UNKNOWN;
      });
    }).onFailure(err -> {
      call.status = GrpcStatus.UNAVAILABLE;
      call.statusMessage = err.toString();
    });
    return call;
  }

  @Override
  public void close() throws Exception {
    client.close().toCompletionStage().toCompletableFuture().get(5, TimeUnit.SECONDS);
  }
}
