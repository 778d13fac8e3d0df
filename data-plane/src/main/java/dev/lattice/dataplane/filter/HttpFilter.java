package dev.lattice.dataplane.filter;

import io.netty.handler.codec.http.HttpResponse;
import java.util.concurrent.CompletionStage;

/**
 * A per-request HTTP filter instance (created by its {@link HttpFilterConfig} for each request, so it
 * may hold per-request fields). Requests pass the chain in order; a filter short-circuits by returning
 * {@link FilterAction#respond}; responses pass the filters that ran in reverse order. Called on the
 * connection's event loop: never block — return an incomplete stage for asynchronous work.
 */
public interface HttpFilter {

  /** The request head arrived. Default: continue. */
  default CompletionStage<FilterAction> onRequest(HttpExchange exchange) {
    return FilterAction.proceedNow();
  }

  /** The upstream's (or a local) response head is about to go downstream; headers may be changed. */
  default void onResponse(HttpExchange exchange, HttpResponse response) {}

  /** The exchange ended (response sent, or the connection failed); the last call a filter gets. */
  default void onComplete(HttpExchange exchange) {}
}
