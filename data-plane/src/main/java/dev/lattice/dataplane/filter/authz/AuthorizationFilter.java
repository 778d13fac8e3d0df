package dev.lattice.dataplane.filter.authz;

import dev.lattice.authz.AuthorizationEngine;
import dev.lattice.authz.AuthzRequest;
import dev.lattice.authz.ClientAddress;
import dev.lattice.authz.Decision;
import dev.lattice.authz.PeerIdentity;
import dev.lattice.authz.RequestAuth;
import dev.lattice.dataplane.filter.ExchangeKeys;
import dev.lattice.dataplane.filter.FilterAction;
import dev.lattice.dataplane.filter.HttpExchange;
import dev.lattice.dataplane.filter.HttpFilter;
import dev.lattice.dataplane.filter.LocalResponse;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * Inbound authorization through lattice-authz: the decision is published under
 * {@link ExchangeKeys#AUTHZ_DECISION}; a denial answers 403 with Envoy's fixed body and flag {@code RBAC};
 * the deciding policy goes into {@code x-lattice-authz} only when the snapshot's debug setting is on.
 * Stateless and thread-safe.
 */
public final class AuthorizationFilter implements HttpFilter {
  /** Debug response header (only with {@code settings.debugHeaders: true}). */
  public static final String DEBUG_HEADER = "x-lattice-authz";
  static final LocalResponse DENIED = new LocalResponse(403, "RBAC: access denied", Map.of(), "RBAC", false);

  private final AuthorizationEngine engine;
  private final boolean debugHeaders;

  AuthorizationFilter(AuthorizationEngine engine, boolean debugHeaders) {
    this.engine = engine;
    this.debugHeaders = debugHeaders;
  }

  @Override
  public CompletionStage<FilterAction> onRequest(HttpExchange exchange) {
    Decision d = engine.evaluate(new View(exchange, engine.trustedProxies()));
    exchange.put(ExchangeKeys.AUTHZ_DECISION, d);
    if (debugHeaders) {
      exchange.responseHeaders().set(DEBUG_HEADER, d.verdict().name().toLowerCase(java.util.Locale.ROOT) + "; reason="
          + d.reason().code() + (d.policyName() == null ? "" : "; policy=" + d.policyName()));
    }
    return d.allowed() ? FilterAction.proceedNow() : FilterAction.respondNow(DENIED);
  }

  /** The exchange as lattice-authz reads it (no header copies). */
  private record View(HttpExchange ex, int trustedProxies) implements AuthzRequest {
    @Override public boolean http() { return true; }
    @Override public PeerIdentity peer() { return ex.peer(); }
    @Override public byte[] sourceAddress() { return ex.sourceAddress().getAddress().getAddress(); }
    @Override public byte[] remoteAddress() { return ClientAddress.remote(sourceAddress(), header("x-forwarded-for"), trustedProxies); }
    @Override public byte[] destinationAddress() { return ex.destinationAddress().getAddress().getAddress(); }
    @Override public int destinationPort() { return ex.destinationAddress().getPort(); }
    @Override public String sni() { return null; }
    @Override public String method() { return ex.request().method().name(); }
    @Override public String authority() { return ex.request().headers().get("host"); }
    @Override public String path() { return ex.path(); }
    @Override public RequestAuth auth() { return null; }

    @Override
    public String header(String lowerCaseName) {
      List<String> all = ex.request().headers().getAll(lowerCaseName);
      return all.isEmpty() ? null : all.size() == 1 ? all.get(0) : String.join(",", all);
    }
  }
}
