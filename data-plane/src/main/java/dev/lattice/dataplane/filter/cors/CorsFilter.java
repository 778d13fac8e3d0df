package dev.lattice.dataplane.filter.cors;

import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.LocalResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Envoy's CORS filter for the request's route. A preflight ({@code OPTIONS} with {@code Origin} and
 * {@code Access-Control-Request-Method}) from an allowed origin is answered here (200, the allow
 * headers, max age); from another origin it is forwarded untouched (Istio's default
 * {@code unmatchedPreflights: FORWARD}). An actual request from an allowed origin gets
 * {@code Access-Control-Allow-Origin} (the origin itself), credentials and expose headers on its
 * response; other requests are not touched. Per request: remembers the allowed origin.
 */
final class CorsFilter implements HttpFilter {
  private final CorsFilterConfig config;
  private RouteCors policy;
  private String origin;

  CorsFilter(CorsFilterConfig config) {
    this.config = config;
  }

  @Override
  public CompletionStage<FilterAction> onRequest(HttpExchange ex) {
    HttpHeaders h = ex.request().headers();
    String o = h.get("origin");
    if (o == null) {
      return FilterAction.proceedNow();
    }
    RouteCors p = config.forRoute(ex.routeName());
    if (p == null || !p.allows(o)) {
      return FilterAction.proceedNow();
    }
    if (ex.request().method().equals(HttpMethod.OPTIONS) && h.contains("access-control-request-method")) {
      Map<String, String> out = new LinkedHashMap<>();
      out.put("access-control-allow-origin", o);
      if (p.allowCredentials()) {
        out.put("access-control-allow-credentials", "true");
      }
      if (p.allowMethods() != null) {
        out.put("access-control-allow-methods", p.allowMethods());
      }
      if (p.allowHeaders() != null) {
        out.put("access-control-allow-headers", p.allowHeaders());
      }
      if (p.maxAge() != null) {
        out.put("access-control-max-age", p.maxAge());
      }
      return FilterAction.respondNow(new LocalResponse(200, "", out, null, false));
    }
    policy = p;
    origin = o;
    return FilterAction.proceedNow();
  }

  @Override
  public void onResponse(HttpExchange ex, HttpResponse response) {
    if (policy == null) {
      return;
    }
    HttpHeaders h = response.headers();
    h.set("access-control-allow-origin", origin);
    if (policy.allowCredentials()) {
      h.set("access-control-allow-credentials", "true");
    }
    if (policy.exposeHeaders() != null) {
      h.set("access-control-expose-headers", policy.exposeHeaders());
    }
  }
}
