package dev.lattice.identity.api;

import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.CertificateRequests;
import dev.lattice.identity.ca.IssuedX509Svid;
import dev.lattice.identity.ca.X509SvidRequest;
import dev.lattice.identity.signing.SvidAudit;
import io.spiffe.spiffeid.SpiffeId;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * X.509-SVIDs for Lattice's own control-plane components, in the reserved {@code /lattice/} path that no
 * registration entry may claim: {@code POST /v1/control-plane/svids} {@code {"component": "distributor",
 * "csr": "<base64 DER PKCS#10>"}} → 201 {@code {spiffeId, chain: [base64 DER, leaf first], bundle: [base64
 * DER roots], expiresAt}} for {@code spiffe://<td>/lattice/<component>}. Only the components in
 * {@link #COMPONENTS} are minted; the caller keeps its private key (only the CSR travels), the request needs
 * the admin credential (the router's write protection), and each issue is an {@code SvidIssued} audit event.
 * 400 {@code {"error"}} names a bad component, a missing or malformed CSR, or a CSR asking for another ID.
 * Signing runs on a worker. Thread-safe.
 */
public final class ControlPlaneSvidApi {

  /** The components that get an SVID here (path {@code /lattice/<component>}). */
  public static final Set<String> COMPONENTS = Set.of("distributor");

  private final Vertx vertx;
  private final CertificateAuthority ca;
  private final SvidAudit audit;
  private final Duration ttl;

  /**
   * @param ttl the SVIDs' lifetime ({@code identity.server.svid.ttl}, like the signing server's own)
   */
  public ControlPlaneSvidApi(Vertx vertx, CertificateAuthority ca, SvidAudit audit, Duration ttl) {
    this.vertx = vertx;
    this.ca = ca;
    this.audit = audit;
    this.ttl = ttl;
  }

  /** Mounts the route (after the write protection and a body handler for {@code /v1/*}). */
  public void mount(Router router) {
    router.post("/v1/control-plane/svids").handler(this::issue);
  }

  private void issue(RoutingContext ctx) {
    String component;
    byte[] csrDer;
    try {
      JsonObject body = ctx.body().length() == 0 ? null : ctx.body().asJsonObject();
      if (body == null) {
        throw new IllegalArgumentException("body: empty (expected: {\"component\": \"distributor\", \"csr\": \"<base64 DER>\"})");
      }
      component = body.getString("component");
      if (component == null || !COMPONENTS.contains(component)) {
        throw new IllegalArgumentException("component: " + (component == null ? "missing" : "'" + component + "'")
            + " (expected one of " + new TreeSet<>(COMPONENTS) + ")");
      }
      String csr = body.getString("csr");
      if (csr == null || csr.isBlank()) {
        throw new IllegalArgumentException("csr: missing (expected: a base64 DER PKCS#10 request)");
      }
      try {
        csrDer = Base64.getDecoder().decode(csr.strip());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("csr: not base64 (" + e.getMessage() + ")", e);
      }
    } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
      error(ctx, "body: not a JSON object (" + e.getMessage() + ")");
      return;
    } catch (IllegalArgumentException e) {
      error(ctx, e.getMessage());
      return;
    }
    SpiffeId id = SpiffeId.parse("spiffe://" + ca.trustDomain().getName() + "/lattice/" + component);
    vertx.executeBlocking(() -> {
      CertificateRequests.CheckedCsr csr = CertificateRequests.parse(csrDer, ca.signer());
      for (String san : csr.uriSans()) {
        if (!san.equals(id.toString())) {
          throw new IllegalArgumentException("csr: URI SAN " + san + " (expected: none or " + id + ")");
        }
      }
      IssuedX509Svid svid = ca.issue(new X509SvidRequest(id, csr.publicKey(), ttl, List.of()));
      audit.x509(svid, null, null);
      return new JsonObject().put("spiffeId", id.toString()).put("chain", der(svid.chain()))
          .put("bundle", der(ca.bundle().x509Authorities())).put("expiresAt", svid.notAfter().toString());
    }, false).onSuccess(json -> ctx.response().setStatusCode(201).putHeader("Content-Type", "application/json")
        .end(json.encode()))
        .onFailure(e -> {
          if (e instanceof IllegalArgumentException) {
            error(ctx, e.getMessage());
          } else {
            ctx.response().setStatusCode(500).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", "signing failed: " + e).encode());
          }
        });
  }

  private static JsonArray der(java.util.Collection<X509Certificate> certs) throws CertificateEncodingException {
    JsonArray out = new JsonArray();
    for (X509Certificate c : certs) {
      out.add(Base64.getEncoder().encodeToString(c.getEncoded()));
    }
    return out;
  }

  private static void error(RoutingContext ctx, String message) {
    ctx.response().setStatusCode(400).putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", message).encode());
  }
}
