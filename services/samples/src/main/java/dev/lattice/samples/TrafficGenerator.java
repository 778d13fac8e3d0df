package dev.lattice.samples;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * A bounded load generator for the demo: sends at most {@code requests} GETs to one target at a steady
 * {@code ratePerSecond} (a timer, never a busy loop), at most {@code concurrency} outstanding, and stops
 * when the count is reached or {@code maxDuration} has passed, whichever is first. The report counts
 * answers by status and failures by cause. Runs on one event loop.
 */
public final class TrafficGenerator {

  /**
   * @param host where to connect (a proxy's outbound listener, or the frontend itself)
   * @param port its port
   * @param authority the {@code Host} header
   * @param path request path
   * @param requests how many to send (1..10,000,000)
   * @param ratePerSecond 1..10,000
   * @param concurrency outstanding requests at most
   * @param maxDuration hard stop
   */
  public record Plan(String host, int port, String authority, String path, long requests, int ratePerSecond,
      int concurrency, Duration maxDuration) {
    public Plan {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(authority, "authority");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(maxDuration, "maxDuration");
      if (requests < 1 || requests > 10_000_000) {
        throw new IllegalArgumentException("requests: " + requests + " (expected: 1..10000000)");
      }
      if (ratePerSecond < 1 || ratePerSecond > 10_000) {
        throw new IllegalArgumentException("rate: " + ratePerSecond + "/s (expected: 1..10000)");
      }
      if (concurrency < 1 || concurrency > 1_000) {
        throw new IllegalArgumentException("concurrency: " + concurrency + " (expected: 1..1000)");
      }
    }
  }

  /** What happened: answers by status code, failures by cause, and requests not sent because of the bounds. */
  public record Report(long sent, Map<Integer, Long> byStatus, Map<String, Long> failures, long skipped) {
    /** Answers with a 2xx status. */
    public long ok() {
      return byStatus.entrySet().stream().filter(e -> e.getKey() / 100 == 2).mapToLong(Map.Entry::getValue).sum();
    }
  }

  private TrafficGenerator() {}

  /** Runs {@code plan}; the future completes with the report once every sent request has finished. */
  public static Future<Report> run(Vertx vertx, Plan plan) {
    return run(vertx, plan, Promise.<Void>promise().future());
  }

  /**
   * Runs {@code plan} until it ends by itself or {@code stop} completes (then nothing more is sent); the future
   * completes with the report once every sent request has finished.
   */
  public static Future<Report> run(Vertx vertx, Plan plan, Future<?> stop) {
    Promise<Report> done = Promise.promise();
    // one context: the timers and every response callback then run on the same event loop
    io.vertx.core.Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> start(vertx, context, plan, stop, done));
    return done.future();
  }

  private static void start(Vertx vertx, io.vertx.core.Context context, Plan plan, Future<?> stop, Promise<Report> done) {
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setConnectTimeout(2_000),
        new io.vertx.core.http.PoolOptions().setHttp1MaxSize(plan.concurrency()));
    Map<Integer, Long> byStatus = new TreeMap<>();
    Map<String, Long> failures = new TreeMap<>();
    long[] sent = {0};
    long[] finished = {0};
    long[] skipped = {0};
    int[] outstanding = {0};
    boolean[] stopped = {false};
    long periodMs = Math.max(1, 1000 / plan.ratePerSecond());
    int perTick = Math.max(1, plan.ratePerSecond() / 1000);
    Runnable maybeDone = () -> {
      if (stopped[0] && finished[0] == sent[0]) {
        client.close().onComplete(x -> done.tryComplete(new Report(sent[0], Map.copyOf(byStatus), Map.copyOf(failures),
            skipped[0])));
      }
    };
    long timer = vertx.setPeriodic(periodMs, id -> {
      for (int i = 0; i < perTick && !stopped[0]; i++) {
        if (sent[0] >= plan.requests()) {
          stopped[0] = true;
          vertx.cancelTimer(id);
          maybeDone.run();
          return;
        }
        if (outstanding[0] >= plan.concurrency()) {
          // the target is slower than the rate: skip rather than queue without bound
          skipped[0]++;
          continue;
        }
        sent[0]++;
        outstanding[0]++;
        client.request(new RequestOptions().setMethod(HttpMethod.GET).setHost(plan.host()).setPort(plan.port())
                .setURI(plan.path()).putHeader("host", plan.authority()).setIdleTimeout(5_000))
            .compose(r -> r.send())
            .compose(resp -> resp.body().map(b -> resp.statusCode()))
            .onComplete(ar -> {
              outstanding[0]--;
              finished[0]++;
              if (ar.succeeded()) {
                byStatus.merge(ar.result(), 1L, Long::sum);
              } else {
                failures.merge(ar.cause().getClass().getSimpleName(), 1L, Long::sum);
              }
              maybeDone.run();
            });
      }
    });
    Runnable halt = () -> {
      if (!stopped[0]) {
        stopped[0] = true;
        vertx.cancelTimer(timer);
        maybeDone.run();
      }
    };
    long deadline = vertx.setTimer(Math.max(1, plan.maxDuration().toMillis()), id -> halt.run());
    stop.onComplete(x -> context.runOnContext(v -> {
      vertx.cancelTimer(deadline);
      halt.run();
    }));
  }
}
