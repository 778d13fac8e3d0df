package dev.lattice.dataplane.filter.fault;

import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.LocalResponse;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * Envoy's fault filter for the request's route: first the delay (flag {@code DI}) on the event loop's
 * timer, then the abort (flag {@code FI}) — an HTTP status with body {@code fault filter abort}, or for a
 * gRPC abort a trailers-only gRPC answer (200, {@code grpc-status}, {@code grpc-message}). Delay and
 * abort are rolled independently, each against its own percentage. Holds no state between calls.
 */
final class FaultFilter implements HttpFilter {
  static final String ABORT_BODY = "fault filter abort";
  private final FaultFilterConfig config;

  FaultFilter(FaultFilterConfig config) {
    this.config = config;
  }

  @Override
  public CompletionStage<FilterAction> onRequest(HttpExchange exchange) {
    RouteFault f = config.forRoute(exchange.routeName());
    if (f == null) {
      return FilterAction.proceedNow();
    }
    boolean delay = f.delays() && config.roll() < f.delayPercent();
    boolean abort = f.aborts() && config.roll() < f.abortPercent();
    if (!delay) {
      return abort ? FilterAction.respondNow(abortResponse(f, false)) : FilterAction.proceedNow();
    }
    CompletableFuture<FilterAction> later = new CompletableFuture<>();
    exchange.scheduler().schedule(
        () -> later.complete(abort ? FilterAction.respond(abortResponse(f, true)) : FilterAction.proceed()),
        f.delayMillis(), TimeUnit.MILLISECONDS);
    exchange.addResponseFlag("DI");
    return later;
  }

  private static LocalResponse abortResponse(RouteFault f, boolean delayed) {
    String flag = "FI"; // a delay before it flagged DI already
    if (f.grpcStatus() >= 0) {
      return new LocalResponse(200, "", Map.of("content-type", "application/grpc", "grpc-status", Integer.toString(f.grpcStatus()),
          "grpc-message", ABORT_BODY), flag, false);
    }
    return LocalResponse.of(f.abortStatus(), ABORT_BODY, flag);
  }
}
