package dev.lattice.kit.service;

import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/**
 * Writes an error answer in a service's own JSON error shape, so every error of one API — validation,
 * authentication, an unreadable or oversized body, an unknown route, a bug — reads the same way.
 * Implementations are stateless and called on the event loop.
 */
@FunctionalInterface
public interface ErrorResponder {

  /** Ends {@code rc}'s response with {@code status} and {@code message} (unless it has ended already). */
  void respond(RoutingContext rc, int status, String message);

  /** {@code {"error": "<message>"}}, the kit's default shape. */
  ErrorResponder DEFAULT = (rc, status, message) -> {
    if (rc.response().ended()) return;
    rc.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  };
}
