package dev.lattice.dataplane.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerResponse;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real HTTP server standing in for a workload: answers every request with what it received — the
 * request line, then each header as {@code name: value}, a blank line and the body — so tests assert on
 * what the proxy forwarded. Counts connections and requests. Paths starting {@code /status/N} answer N;
 * {@code /chunked} answers with a chunked body; {@code /stream/N} streams N MiB, writing only while the
 * connection takes more (so a proxy that stops reading it stalls it), counting what it wrote.
 */
final class EchoBackend implements AutoCloseable {
  final AtomicInteger connections = new AtomicInteger();
  final AtomicInteger requests = new AtomicInteger();
  /** Bytes {@code /stream/N} responses have written so far. */
  final AtomicLong streamed = new AtomicLong();
  /** Set while a {@code /stream/N} response waits for the connection to drain. */
  final AtomicBoolean streamStalled = new AtomicBoolean();
  /** Set when a {@code /stream/N} response's connection closed before it ended. */
  final AtomicBoolean streamAborted = new AtomicBoolean();
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
      if (req.path().startsWith("/stream/")) {
        long total = Long.parseLong(req.path().substring(8)) << 20;
        req.response().setChunked(true).closeHandler(v -> streamAborted.set(true));
        stream(req.response(), total);
      } else if (req.path().equals("/chunked")) {
        req.response().setChunked(true).write("part1-").compose(v -> req.response().end("part2"));
      } else {
        req.response().setStatusCode(status).end(b.toString());
      }
    }));
    server.listen().await(10, TimeUnit.SECONDS);
  }

  private void stream(HttpServerResponse response, long left) {
    io.vertx.core.buffer.Buffer chunk = io.vertx.core.buffer.Buffer.buffer(new byte[64 * 1024]);
    while (left > 0) {
      if (response.writeQueueFull()) {
        streamStalled.set(true);
        long rest = left;
        response.drainHandler(v -> {
          streamStalled.set(false);
          stream(response, rest);
        });
        return;
      }
      response.write(chunk);
      streamed.addAndGet(chunk.length());
      left -= chunk.length();
    }
    response.end();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }
}
