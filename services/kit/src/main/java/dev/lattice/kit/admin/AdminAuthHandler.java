package dev.lattice.kit.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.List;
import java.util.Locale;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Requires the admin credential on every write: a request whose method is not GET, HEAD or OPTIONS
 * must carry {@code Authorization: Bearer <token>} with a token of the service's
 * {@link AdminCredential}. Without one the answer is {@code 401} (with
 * {@code WWW-Authenticate: Bearer realm="lattice"}), with a wrong one {@code 403}; reads and the
 * {@link OpenWrite}s given (writes that change nothing, such as an explain query) pass untouched.
 * The token never appears in a log line, a metric or an answer.
 *
 * <p>Mount it on the router before any route ({@link AdminAuth#protectWrites}). Until the credential
 * is loaded, writes get {@code 503} with {@code Retry-After: 1}. A token that does not match makes the
 * credential re-read its file once before the answer, so a freshly rotated token works at once.
 *
 * <p>Thread-safe; runs on the event loop and never blocks it (the re-read is on a worker).
 */
public final class AdminAuthHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(AdminAuthHandler.class);
  private static final String BEARER = "bearer ";

  /** A request that is a write by method but changes nothing, so it needs no credential. */
  public record OpenWrite(HttpMethod method, String path) {}

  /** Writes an error answer in the service's own JSON error shape. */
  @FunctionalInterface
  public interface ErrorResponder {
    void respond(RoutingContext rc, int status, String message);

    /** {@code {"error": "<message>"}}. */
    ErrorResponder DEFAULT = (rc, status, message) -> rc.response().setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }

  private final List<OpenWrite> openWrites;
  private final ErrorResponder errors;
  private final Counter anonymous;
  private final Counter wrong;
  private volatile AdminCredential credential;

  AdminAuthHandler(List<OpenWrite> openWrites, ErrorResponder errors, MeterRegistry meters) {
    this.openWrites = List.copyOf(openWrites);
    this.errors = errors;
    this.anonymous = Counter.builder("lattice.admin.auth.rejected").tag("reason", "anonymous")
        .description("Writes refused for want of the admin credential").register(meters);
    this.wrong = Counter.builder("lattice.admin.auth.rejected").tag("reason", "wrong")
        .description("Writes refused for want of the admin credential").register(meters);
  }

  /** Starts enforcing {@code loaded} (until then writes get 503). */
  void use(AdminCredential loaded) {
    this.credential = loaded;
  }

  @Override
  public void handle(RoutingContext rc) {
    HttpMethod method = rc.request().method();
    if (isRead(method) || isOpen(method, rc.normalizedPath())) {
      rc.next();
      return;
    }
    AdminCredential current = credential;
    if (current == null) {
      rc.response().putHeader("Retry-After", "1");
      errors.respond(rc, 503, "unavailable: the admin credential is not loaded yet (retry in a second)");
      return;
    }
    String token = bearerToken(rc);
    if (token == null) {
      anonymous.increment();
      LOG.debug("refused anonymous {} {}", method, rc.normalizedPath());
      rc.response().putHeader("WWW-Authenticate", "Bearer realm=\"lattice\"");
      errors.respond(rc, 401, "unauthorized: " + method + " " + rc.normalizedPath()
          + " needs the admin credential (header 'Authorization: Bearer <token>', token in "
          + current.file().path() + " on the service's host; the lattice CLI sends it by itself)");
      return;
    }
    if (current.accepts(token)) {
      rc.next();
      return;
    }
    // Maybe the file was rotated since it was read: read it again before refusing. The body has not
    // been read yet; pause it so nothing is lost while the worker reads (BodyHandler resumes it).
    rc.request().pause();
    current.reload().onComplete(ar -> {
      if (current.accepts(token)) {
        rc.next();
        return;
      }
      wrong.increment();
      LOG.debug("refused {} {}: wrong admin credential", method, rc.normalizedPath());
      rc.request().resume();
      errors.respond(rc, 403, "forbidden: the bearer token is not the admin credential of this service (see "
          + current.file().path() + ")");
    });
  }

  private boolean isOpen(HttpMethod method, String path) {
    for (OpenWrite w : openWrites) {
      if (w.method().equals(method) && w.path().equals(path)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isRead(HttpMethod method) {
    return method.equals(HttpMethod.GET) || method.equals(HttpMethod.HEAD) || method.equals(HttpMethod.OPTIONS);
  }

  /** The bearer token of the request, or null when there is none (no header, another scheme, empty). */
  private static String bearerToken(RoutingContext rc) {
    String header = rc.request().getHeader("Authorization");
    if (header == null || header.length() <= BEARER.length()
        || !header.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
      return null;
    }
    String token = header.substring(BEARER.length()).strip();
    return token.isEmpty() ? null : token;
  }
}
