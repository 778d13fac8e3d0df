package dev.lattice.dataplane.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server standing in for a workload: answers every request with what it received — the
 * request line, then each header as {@code name: value}, a blank line and the body — so tests assert on
 * what the proxy forwarded. Counts connections and requests. Paths starting {@code /status/N} answer N;
 * {@code /chunked} answers with a chunked body.
 */
final class EchoBackend implements AutoCloseable {
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  private final HttpServer server;
  final String name;

  EchoBackend(Vertx vertx, String name) throws Exception {
    this.name = name;
    server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectionHandler(c -> connections.incrementAndGet());
    server.requestHandler(req -> req.body().onSuccess(body -> {
      requests.incrementAndGet();
      StringBuilder b = new StringBuilder(req.method().name()).append(' ').append(req.uri()).append('\n');
      for (Map.Entry<String, String> h : req.headers()) {
        b.append(h.getKey().toLowerCase()).append(": ").append(h.getValue()).append('\n');
      }
      b.append('\n').append(body.toString());
      int status = 200;
      if (req.path().startsWith("/status/")) {
        status = Integer.parseInt(req.path().substring(8));
      }
      req.response().putHeader("x-backend", name).putHeader("keep-alive", "timeout=5");
      if (req.path().equals("/chunked")) {
        req.response().setChunked(true).write("part1-").compose(v -> req.response().end("part2"));
      } else {
        req.response().setStatusCode(status).end(b.toString());
      }
    }));
    server.listen().await(10, TimeUnit.SECONDS);
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }
}
