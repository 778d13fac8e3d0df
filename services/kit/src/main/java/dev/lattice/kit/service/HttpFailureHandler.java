package dev.lattice.kit.service;

import io.vertx.core.Handler;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.HttpException;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every failure of a router in the service's JSON error shape: a body over its limit (413 with
 * the limit), a body Vert.x cannot decode (400), an unknown route (404) or method (405), a handler that
 * threw (500). Client errors (4xx) are logged at DEBUG in one line — a client cannot fill the log with
 * stack traces; a server error is logged at ERROR with its stack trace and an error id that the answer
 * quotes (the exception's message stays in the log, where no client can read secrets from it).
 *
 * <p>The {@link ServiceLauncher} installs one with {@link ErrorResponder#DEFAULT} on every service's
 * router ({@link #installDefault}); a service with its own shape adds one on its paths
 * ({@code router.route("/v1/*").failureHandler(new HttpFailureHandler(myShape))}), which runs first.
 *
 * <p>Stateless and thread-safe; never blocks.
 */
public final class HttpFailureHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(HttpFailureHandler.class);
  private static final String BODY_LIMIT_KEY = HttpFailureHandler.class.getName() + ".bodyLimit";

  private final ErrorResponder errors;

  public HttpFailureHandler(ErrorResponder errors) {
    this.errors = errors;
  }

  /**
   * Installs a handler answering in {@code errors}' shape as the router's last failure handler and for
   * unmatched routes (404) and methods (405).
   */
  public static void installDefault(Router router, ErrorResponder errors) {
    HttpFailureHandler handler = new HttpFailureHandler(errors);
    router.route().last().failureHandler(handler);
    router.errorHandler(404, handler);
    router.errorHandler(405, handler);
  }

  /**
   * A {@link BodyHandler} limited to {@code limitBytes}, without file uploads (nothing of a request is
   * written to disk), whose 413 answer names the limit. A declared {@code Content-Length} above the
   * limit is refused before any of the body is read.
   */
  public static Handler<RoutingContext> bodyHandler(long limitBytes) {
    BodyHandler body = BodyHandler.create(false).setBodyLimit(limitBytes);
    return rc -> {
      rc.put(BODY_LIMIT_KEY, limitBytes);
      body.handle(rc);
    };
  }

  @Override
  public void handle(RoutingContext rc) {
    Throwable failure = rc.failure();
    int status = rc.statusCode();
    String payload = null;
    if (failure instanceof HttpException http) {
      status = http.getStatusCode();
      payload = http.getPayload() == null ? null : printable(http.getPayload(), 300);
    }
    if (status < 400 || status > 599) status = 500;
    HttpServerRequest request = rc.request();
    if (status >= 500) {
      String id = UUID.randomUUID().toString().substring(0, 8);
      LOG.atError().setCause(failure).addKeyValue("method", request.method()).addKeyValue("path", rc.normalizedPath())
          .addKeyValue("error_id", id).log("request failed with {}", status);
      errors.respond(rc, status, status == 500
          ? "internal error while handling " + request.method() + " " + rc.normalizedPath()
              + " (the service log has the details under error id " + id + ")"
          : reason(status, rc, payload));
      return;
    }
    LOG.atDebug().addKeyValue("method", request.method()).addKeyValue("path", rc.normalizedPath())
        .log("request refused with {}: {}", status, failure == null ? "-" : printable(failure.toString(), 160));
    if (status == 413 || status == 400) {
      // The body was not (fully) read: close the connection rather than parse the rest as a request.
      rc.response().putHeader(HttpHeaders.CONNECTION, "close");
    }
    errors.respond(rc, status, reason(status, rc, payload));
  }

  /** The text cut to {@code max} characters with anything but printable ASCII as '?': it may quote request bytes. */
  public static String printable(String text, int max) {
    StringBuilder b = new StringBuilder(Math.min(text.length(), max + 1));
    for (int i = 0; i < text.length() && b.length() < max; i++) {
      char c = text.charAt(i);
      b.append(c >= 0x20 && c < 0x7f ? c : '?');
    }
    if (text.length() > max) b.append('…');
    return b.toString();
  }

  private static String reason(int status, RoutingContext rc, String payload) {
    String what = rc.request().method() + " " + rc.normalizedPath();
    return switch (status) {
      case 400 -> "malformed request to " + what + (payload == null ? "" : ": " + payload)
          + " (expected: a body in one of the content types the endpoint documents)";
      case 404 -> "no such endpoint: " + what;
      case 405 -> "method not allowed: " + what;
      case 413 -> {
        Long limit = rc.get(BODY_LIMIT_KEY);
        yield "request body too large for " + what
            + (limit == null ? "" : " (limit: " + limit + " bytes)");
      }
      case 415 -> "unsupported content type " + rc.request().getHeader(HttpHeaders.CONTENT_TYPE) + " for " + what;
      default -> (payload == null ? "request refused" : payload) + ": " + what + " (HTTP " + status + ")";
    };
  }
}
