package dev.lattice.identity.jwt;

import dev.lattice.testkit.time.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.lattice.identity.bundle.BundleEndpoint;
import dev.lattice.identity.bundle.BundleJwks;
import dev.lattice.identity.ca.CaKeyStore;
import dev.lattice.identity.ca.CertificateAuthority;
import dev.lattice.identity.ca.SignatureProvider;
import dev.lattice.identity.spiffe.SpiffeIds;
import dev.lattice.identity.spiffe.TrustDomains;
import io.spiffe.bundle.jwtbundle.JwtBundle;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.exception.JwtSvidException;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtSvidAndBundleTest {

  static final TrustDomain TD = TrustDomains.parse("lattice.local");
  @TempDir Path dir;
  CertificateAuthority ca;
  Vertx vertx;

  @BeforeEach
  void setUp() throws Exception {
    // java-spiffe validates exp against the wall clock: the CA runs on the system clock here
    ca = CertificateAuthority.open(CertificateAuthority.Settings.defaults(TD), SignatureProvider.select(),
        CaKeyStore.open(dir, null), Clock.systemUTC());
    vertx = Vertx.vertx();
  }

  @AfterEach
  void tearDown() throws Exception {
    vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  @Test
  void tokenHasOnlyTheAllowedHeaderAndTheRequiredClaims() {
    JwtSvidIssuer.MintedJwtSvid minted = new JwtSvidIssuer(ca)
        .mint(SpiffeIds.parseLeaf("spiffe://lattice.local/ns/default/sa/web"), List.of("reports", "billing"), Duration.ofMinutes(5));
    String[] parts = minted.token().split("\\.");
    assertThat(parts).hasSize(3);
    JsonObject header = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[1]), StandardCharsets.UTF_8));
    assertThat(header.fieldNames()).containsExactlyInAnyOrder("alg", "kid", "typ");
    assertThat(header.getString("alg")).isEqualTo("ES256");
    assertThat(header.getString("typ")).isEqualTo("JWT");
    assertThat(header.getString("kid")).isEqualTo(ca.active().jwtKid());
    assertThat(claims.fieldNames()).containsExactlyInAnyOrder("sub", "aud", "exp", "iat");
    assertThat(claims.getJsonArray("aud").getList()).containsExactly("reports", "billing");
    assertThat(claims.getLong("exp") - claims.getLong("iat")).isEqualTo(300);
    assertThat(Base64.getUrlDecoder().decode(parts[2])).hasSize(64);
  }

  @Test
  void javaSpiffeAcceptsOurTokenAndRejectsAWrongAudience() throws Exception {
    JwtSvidIssuer issuer = new JwtSvidIssuer(ca);
    String token = issuer.mint(SpiffeIds.parseLeaf("spiffe://lattice.local/ns/default/sa/web"),
        List.of("reports", "billing"), Duration.ofMinutes(5)).token();
    JwtBundle bundle = JwtBundle.parse(TD, BundleJwks.jwtAuthoritiesJson(ca.bundle()).getBytes(StandardCharsets.UTF_8));

    JwtSvid svid = JwtSvid.parseAndValidate(token, bundle, Set.of("reports"));
    assertThat(svid.getSpiffeId().toString()).isEqualTo("spiffe://lattice.local/ns/default/sa/web");
    assertThat(svid.getAudience()).containsExactlyInAnyOrder("reports", "billing");
    JwtSvid.parseAndValidate(token, bundle, Set.of("billing"));

    assertThatThrownBy(() -> JwtSvid.parseAndValidate(token, bundle, Set.of("payments")))
        .isInstanceOf(JwtSvidException.class).hasMessageContaining("audience");
    // a token signed by another CA's key with the same kid shape is rejected too
    CertificateAuthority other = CertificateAuthority.open(CertificateAuthority.Settings.defaults(TD),
        SignatureProvider.jdk(), CaKeyStore.open(dir.resolve("other"), null), Clock.systemUTC());
    String foreign = new JwtSvidIssuer(other).mint(SpiffeIds.parseLeaf("spiffe://lattice.local/x"), List.of("reports"),
        Duration.ofMinutes(5)).token();
    assertThatThrownBy(() -> JwtSvid.parseAndValidate(foreign, bundle, Set.of("reports")))
        .isInstanceOf(io.spiffe.exception.AuthorityNotFoundException.class)
        .hasMessageContaining("No authority found for the trust domain lattice.local");
    assertThatThrownBy(() -> issuer.mint(SpiffeIds.parseLeaf("spiffe://lattice.local/x"), List.of(), Duration.ofMinutes(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("audience: []").hasMessageContaining("JWT-SVID §3.2");
  }

  @Test
  void tokenNeverOutlivesItsKey() throws Exception {
    MutableClock clock = new MutableClock(java.time.Instant.parse("2026-01-01T00:00:00Z"));
    CertificateAuthority fixed = CertificateAuthority.open(CertificateAuthority.Settings.defaults(TD),
        SignatureProvider.select(), CaKeyStore.open(dir.resolve("fixed"), null), clock);
    clock.advance(Duration.ofDays(30).minusSeconds(30));
    JwtSvidIssuer.MintedJwtSvid minted = new JwtSvidIssuer(fixed)
        .mint(SpiffeIds.parseLeaf("spiffe://lattice.local/x"), List.of("a"), Duration.ofHours(1));
    assertThat(minted.expiresAt()).isEqualTo(fixed.active().notAfter());
  }

  @Test
  void bundleEndpointServesASpiffeBundleOverHttps() throws Exception {
    ca.prepare(); // two generations: two X.509 authorities and two JWT keys
    PemKeyCertOptions serverCert = BundleEndpoint.selfSignedLocalhost();
    BundleEndpoint endpoint = new BundleEndpoint(vertx, ca::bundle);
    int port = endpoint.listen("127.0.0.1", 0, serverCert).toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    HttpClient client = vertx.createHttpClient(new HttpClientOptions().setSsl(true)
        .setTrustOptions(new PemTrustOptions().addCertValue(serverCert.getCertValues().get(0))));
    String body = client.request(HttpMethod.GET, port, "localhost", "/")
        .compose(req -> req.send().compose(resp -> {
          assertThat(resp.statusCode()).isEqualTo(200);
          assertThat(resp.getHeader("Content-Type")).isEqualTo("application/json");
          return resp.body();
        }))
        .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();

    JsonObject jwks = new JsonObject(body);
    assertThat(jwks.getLong("spiffe_sequence")).isEqualTo(ca.bundle().sequence()).isEqualTo(2L);
    assertThat(jwks.getLong("spiffe_refresh_hint")).isEqualTo(300L);
    JsonArray keys = jwks.getJsonArray("keys");
    assertThat(keys).hasSize(4);
    ByteArrayOutputStream x509Ders = new ByteArrayOutputStream();
    int x509 = 0;
    int jwt = 0;
    for (Object o : keys) {
      JsonObject k = (JsonObject) o;
      assertThat(k.getString("kty")).isEqualTo("EC");
      assertThat(k.getString("crv")).isEqualTo("P-256");
      if ("x509-svid".equals(k.getString("use"))) {
        x509++;
        assertThat(k.containsKey("kid")).as("X509-SVID §6.1: kid MUST NOT be set").isFalse();
        assertThat(k.getJsonArray("x5c")).hasSize(1);
        x509Ders.write(Base64.getDecoder().decode(k.getJsonArray("x5c").getString(0)));
      } else {
        jwt++;
        assertThat(k.getString("use")).isEqualTo("jwt-svid");
        assertThat(k.getString("kid")).isNotBlank();
        assertThat(k.containsKey("x5c")).isFalse();
      }
    }
    assertThat(x509).isEqualTo(2);
    assertThat(jwt).isEqualTo(2);

    // java-spiffe reads both halves of the document we served
    X509Bundle x509Bundle = X509Bundle.parse(TD, x509Ders.toByteArray());
    assertThat(x509Bundle.getX509Authorities()).containsExactlyInAnyOrderElementsOf(ca.bundle().x509Authorities());
    // java-spiffe 0.8.12's JwtBundle.parse requires a kid on every JWK, so it cannot read a full SPIFFE
    // bundle (x509-svid entries MUST NOT have one, X509-SVID §6.1): like any consumer selecting by
    // `use` (Trust Domain and Bundle §4.2.2), hand it the jwt-svid entries of the served document.
    assertThatThrownBy(() -> JwtBundle.parse(TD, body.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(io.spiffe.exception.JwtBundleException.class).hasMessageContaining("keyID");
    JsonArray jwtKeys = new JsonArray(keys.stream().filter(k -> "jwt-svid".equals(((JsonObject) k).getString("use"))).toList());
    JwtBundle jwtBundle = JwtBundle.parse(TD, jwks.copy().put("keys", jwtKeys).encode().getBytes(StandardCharsets.UTF_8));
    assertThat(jwtBundle.getJwtAuthorities().keySet())
        .containsExactlyInAnyOrderElementsOf(ca.bundle().jwtAuthorities().stream().map(a -> a.kid()).toList());
    String token = new JwtSvidIssuer(ca).mint(SpiffeIds.parseLeaf("spiffe://lattice.local/x"), List.of("a"),
        Duration.ofMinutes(1)).token();
    assertThat(JwtSvid.parseAndValidate(token, jwtBundle, Set.of("a")).getSpiffeId().toString())
        .isEqualTo("spiffe://lattice.local/x");
    client.close();
    endpoint.close();
  }
}
