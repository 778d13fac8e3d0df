package dev.lattice.kit.service;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The named checks that decide a service's {@code /readyz}. A check returns a future of a short status:
 * succeeded = passing, failed = not ready with the failure message as the reason.
 *
 * <p>Thread-safe: checks may be registered from any thread.
 */
public final class Readiness {

  /** The outcome of one check. */
  public record CheckResult(String name, boolean ready, String detail) {}

  private final Map<String, Supplier<Future<String>>> checks = new LinkedHashMap<>();

  /** Registers (or replaces) a check under {@code name}. */
  public synchronized void register(String name, Supplier<Future<String>> check) {
    checks.put(name, check);
  }

  /** Registers a check from a plain condition, evaluated on each probe; it must be cheap and non-blocking. */
  public void registerCondition(String name, Supplier<Boolean> condition, String notReadyReason) {
    register(name, () -> condition.get()
        ? Future.succeededFuture("ok")
        : Future.failedFuture(notReadyReason));
  }

  public synchronized Map<String, Supplier<Future<String>>> checks() {
    return Map.copyOf(checks);
  }

  /** Runs every check; the list is in registration order. */
  public Future<List<CheckResult>> evaluate() {
    return evaluate(Readiness::safely);
  }

  /**
   * Runs every check, counting a check that has not completed within {@code perCheckTimeout} as not
   * ready ("timed out after …"), so one hung check cannot hang a probe. The list is in registration order.
   */
  public Future<List<CheckResult>> evaluate(Vertx vertx, Duration perCheckTimeout) {
    return evaluate(check -> withTimeout(vertx, safely(check), perCheckTimeout));
  }

  private Future<List<CheckResult>> evaluate(
      Function<Supplier<Future<String>>, Future<String>> runner) {
    Map<String, Supplier<Future<String>>> snapshot;
    synchronized (this) {
      snapshot = new LinkedHashMap<>(checks);
    }
    List<Future<CheckResult>> results = snapshot.entrySet().stream()
        .map(e -> runner.apply(e.getValue())
            .map(detail -> new CheckResult(e.getKey(), true, detail))
            .otherwise(err -> new CheckResult(e.getKey(), false, String.valueOf(err.getMessage()))))
        .toList();
    return Future.all(results).map(all -> results.stream().map(Future::result).toList());
  }

  private static Future<String> withTimeout(Vertx vertx, Future<String> check, Duration timeout) {
    if (check.isComplete()) return check;
    Promise<String> bounded = Promise.promise();
    long timer = vertx.setTimer(Math.max(1, timeout.toMillis()),
        id -> bounded.tryFail("timed out after " + timeout.toMillis() + " ms"));
    check.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        bounded.tryComplete(ar.result());
      } else {
        bounded.tryFail(ar.cause());
      }
    });
    return bounded.future();
  }

  private static Future<String> safely(Supplier<Future<String>> check) {
    try {
      Future<String> f = check.get();
      return f == null ? Future.failedFuture("check returned no result") : f;
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }
}
