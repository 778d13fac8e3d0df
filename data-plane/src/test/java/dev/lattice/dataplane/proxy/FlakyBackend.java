package dev.lattice.dataplane.proxy;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A real HTTP server that fails on purpose, for retry, timeout, circuit-breaker and outlier tests. The
 * path is {@code /<mode>/<key>/<n>}: the first {@code n} requests of {@code key} fail as {@code mode}
 * says, later ones answer 200 with {@code ok <key> try <k> body <bytes>}:
 * {@code status-503} (or any {@code status-NNN}) answers that status; {@code reset} closes the connection
 * without an answer; {@code hang} never answers; {@code grpc-14} answers a trailers-only gRPC
 * {@code grpc-status: 14}; {@code delay-MS} answers 200 after MS milliseconds; {@code slowreset-MS}
 * closes the connection after MS milliseconds. {@code /ok} always answers 200 and {@code /hang} never
 * does. Counts connections, and every request per key and in total.
 */
final class FlakyBackend implements AutoCloseable {
  final AtomicInteger requests = new AtomicInteger();
  final AtomicInteger connections = new AtomicInteger();
  final Map<String, AtomicInteger> tries = new ConcurrentHashMap<>();
  /** Requests being held by {@code hang} right now. */
  final AtomicInteger hanging = new AtomicInteger();
  /** When not 0, every request (any path) is answered with this status: a backend that turned bad. */
  volatile int failWith;
  /** With {@link #failWith}: how long the failing answer takes, ms (0: at once). */
  volatile long failDelayMs;
  private final HttpServer server;
  final String name;

  FlakyBackend(Vertx vertx, String name) throws Exception {
    this.name = name;
    server = vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(0));
    server.connectionHandler(c -> connections.incrementAndGet());
    server.requestHandler(req -> req.body().onSuccess(body -> {
      requests.incrementAndGet();
      String[] p = req.path().split("/");
      req.response().putHeader("x-backend", name);
      if (failWith != 0) {
        int st = failWith;
        if (failDelayMs > 0) {
          vertx.setTimer(failDelayMs, id -> req.response().setStatusCode(st).end("failing " + name));
        } else {
          req.response().setStatusCode(st).end("failing " + name);
        }
        return;
      }
      if (p.length == 2 && p[1].equals("hang")) {
        hang(req);
        return;
      }
      if (p.length < 4) {
        req.response().end("ok " + name + " body " + body.length());
        return;
      }
      String mode = p[1];
      String key = p[2];
      int n = Integer.parseInt(p[3]);
      int k = tries.computeIfAbsent(key, x -> new AtomicInteger()).incrementAndGet();
      if (k > n) {
        req.response().end("ok " + key + " try " + k + " body " + body.length() + " " + Integer.toHexString(body.toString().hashCode()));
        return;
      }
      if (mode.startsWith("status-")) {
        req.response().setStatusCode(Integer.parseInt(mode.substring(7))).end("failing " + key + " try " + k);
      } else if (mode.equals("reset")) {
        req.connection().close();
      } else if (mode.equals("hang")) {
        hang(req);
      } else if (mode.startsWith("delay-")) {
        vertx.setTimer(Long.parseLong(mode.substring(6)), id -> req.response().end("ok " + key + " delayed try " + k));
      } else if (mode.startsWith("slowreset-")) {
        vertx.setTimer(Long.parseLong(mode.substring(10)), id -> req.connection().close());
      } else if (mode.startsWith("grpc-")) {
        req.response().putHeader("content-type", "application/grpc").putHeader("grpc-status", mode.substring(5))
            .putHeader("grpc-message", "try " + k).end();
      } else {
        req.response().setStatusCode(400).end("unknown mode " + mode);
      }
    }));
    server.listen().await(10, TimeUnit.SECONDS);
  }

  private void hang(io.vertx.core.http.HttpServerRequest req) {
    hanging.incrementAndGet();
    req.connection().closeHandler(v -> hanging.decrementAndGet());
  }

  int tries(String key) {
    AtomicInteger n = tries.get(key);
    return n == null ? 0 : n.get();
  }

  int port() {
    return server.actualPort();
  }

  @Override
  public void close() throws Exception {
    server.close().await(10, TimeUnit.SECONDS);
  }
}
