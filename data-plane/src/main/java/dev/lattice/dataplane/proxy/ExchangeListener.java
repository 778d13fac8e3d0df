package dev.lattice.dataplane.proxy;

/**
 * The per-request completion hook (flow records, metrics, access log). Called once per HTTP exchange,
 * on the connection's event loop, after the response is sent or the exchange failed: never block, never
 * throw (an exception is logged and swallowed). Implementations must be thread-safe across event loops.
 */
@FunctionalInterface
public interface ExchangeListener {

  /** Does nothing. */
  ExchangeListener NONE = exchange -> {};

  void onComplete(CompletedExchange exchange);
}
