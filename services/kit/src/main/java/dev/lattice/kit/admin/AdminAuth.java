package dev.lattice.kit.admin;

import dev.lattice.kit.service.ServiceContext;
import io.vertx.core.Future;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.Router;
import java.util.List;

/**
 * One call that puts a service's writes behind the admin credential:
 *
 * <pre>{@code
 * // first thing in start(), before any route is added:
 * Future<AdminCredential> admin = AdminAuth.protectWrites(context, AdminAuth.openWrite(HttpMethod.POST, "/v1/explain"));
 * ...
 * return admin.compose(a -> startTheRest());
 * }</pre>
 *
 * The handler is on the router at once (so no write slips through while the credential loads); the
 * future completes once the token file has been read — or created with a fresh token on a first start.
 * The file is {@link AdminTokenFile#of} the service's config ({@code admin.token.file}, else
 * {@code <data.dir>/admin.token}). Stateless.
 */
public final class AdminAuth {

  private AdminAuth() {}

  /** A write-method request that changes nothing (e.g. an explain query), left open. */
  public static AdminAuthHandler.OpenWrite openWrite(HttpMethod method, String path) {
    return new AdminAuthHandler.OpenWrite(method, path);
  }

  /** Protects every write on {@code context}'s router; errors as {@code {"error": "…"}}. */
  public static Future<AdminCredential> protectWrites(ServiceContext context, AdminAuthHandler.OpenWrite... open) {
    return protectWrites(context, AdminAuthHandler.ErrorResponder.DEFAULT, open);
  }

  /**
   * Protects every write on {@code router} — a router that is not a service's own (the data plane's admin
   * API) — with the credential in {@code file}; errors as {@code {"error": "…"}}.
   */
  public static Future<AdminCredential> protectWrites(Vertx vertx, Router router, AdminTokenFile file,
      MeterRegistry meters, AdminAuthHandler.OpenWrite... open) {
    AdminAuthHandler handler = new AdminAuthHandler(List.of(open), AdminAuthHandler.ErrorResponder.DEFAULT, meters);
    router.route().order(Integer.MIN_VALUE).handler(handler);
    return AdminCredential.open(vertx, file).onSuccess(handler::use);
  }

  /** Protects every write on {@code context}'s router, answering refusals through {@code errors}. */
  public static Future<AdminCredential> protectWrites(ServiceContext context, AdminAuthHandler.ErrorResponder errors,
      AdminAuthHandler.OpenWrite... open) {
    AdminAuthHandler handler = new AdminAuthHandler(List.of(open), errors, context.meters());
    context.router().route().order(Integer.MIN_VALUE).handler(handler);
    return AdminCredential.open(context.vertx(), AdminTokenFile.of(context.config())).onSuccess(handler::use);
  }
}
