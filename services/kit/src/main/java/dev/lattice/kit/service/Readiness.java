package dev.lattice.kit.service;

import io.vertx.core.Future;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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
    Map<String, Supplier<Future<String>>> snapshot;
    synchronized (this) {
      snapshot = new LinkedHashMap<>(checks);
    }
    List<Future<CheckResult>> results = snapshot.entrySet().stream()
        .map(e -> safely(e.getValue())
            .map(detail -> new CheckResult(e.getKey(), true, detail))
            .otherwise(err -> new CheckResult(e.getKey(), false, String.valueOf(err.getMessage()))))
        .toList();
    return Future.all(results).map(all -> results.stream().map(Future::result).toList());
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
