package dev.lattice.distributor.identity;

import dev.lattice.configclient.tls.SvidKeyManager;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.KeyCertOptions;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.pkcs.jcajce.JcaPKCS10CertificationRequestBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The distributor's own X.509-SVID {@code spiffe://<td>/lattice/distributor}, from the identity service's
 * {@code POST /v1/control-plane/svids} (admin credential): an EC P-256 key made here (it never leaves this
 * process — only the CSR travels), renewed at half its lifetime, and the trust bundle that came with it,
 * refreshed every {@code bundleRefresh} (CA rotation publishes the next root ahead of use). Serve
 * {@link #keyCertOptions()} and read {@link #anchors()} per handshake: a renewal needs no restart. A failed
 * renewal keeps the current SVID and retries with doubling delays (1 s … 60 s). Key generation runs on a
 * worker; everything else is asynchronous. Thread-safe; the creator {@link #close}s it.
 */
public final class DistributorSvidSource implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(DistributorSvidSource.class);
  private static final Duration MIN_RETRY = Duration.ofSeconds(1);
  private static final Duration MAX_RETRY = Duration.ofSeconds(60);

  /** Where identity answers, its admin credential, and how often to refresh the bundle. */
  public record Settings(URI identity, String adminToken, Duration bundleRefresh) {
    public Settings {
      Objects.requireNonNull(identity, "identity");
      Objects.requireNonNull(adminToken, "adminToken");
      Objects.requireNonNull(bundleRefresh, "bundleRefresh");
    }
  }

  private final Vertx vertx;
  private final Settings settings;
  private final Clock clock;
  private final HttpClient http;
  private final SvidKeyManager keys = new SvidKeyManager();
  private volatile List<X509Certificate> anchors = List.of();
  private volatile Instant expiresAt = Instant.MIN;
  private long renewTimer = -1;
  private long bundleTimer = -1;
  private volatile boolean closed;

  private DistributorSvidSource(Vertx vertx, Settings settings, Clock clock) {
    this.vertx = vertx;
    this.settings = settings;
    this.clock = clock;
    this.http = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000));
  }

  /**
   * Fetches the first SVID, trying {@code attempts} times (1 s apart, doubling) so a distributor started
   * next to a still-starting identity service waits for it; fails naming what identity answered.
   */
  public static Future<DistributorSvidSource> start(Vertx vertx, Settings settings, Clock clock, int attempts) {
    DistributorSvidSource source = new DistributorSvidSource(vertx, settings, clock);
    return source.firstFetch(attempts, MIN_RETRY).map(source).onFailure(e -> source.close());
  }

  /** The SVID key material for a TLS server or client (serves the current SVID on every handshake). */
  public KeyCertOptions keyCertOptions() {
    return KeyCertOptions.wrap(keys);
  }

  /** The trust bundle's X.509 authorities as last fetched. */
  public List<X509Certificate> anchors() {
    return anchors;
  }

  /** The current leaf (never null after start). */
  public X509Certificate leaf() {
    return keys.leaf();
  }

  /** When the current SVID expires. */
  public Instant expiresAt() {
    return expiresAt;
  }

  private Future<Void> firstFetch(int attemptsLeft, Duration delay) {
    return renewOnce().recover(e -> {
      if (attemptsLeft <= 1 || closed) {
        return Future.failedFuture(new IllegalStateException("distributor SVID from " + settings.identity()
            + " failed: " + e.getMessage(), e));
      }
      log.info("distributor SVID not issued yet ({}); trying again in {} ms", e.getMessage(), delay.toMillis());
      Promise<Void> retried = Promise.promise();
      vertx.setTimer(delay.toMillis(), t -> firstFetch(attemptsLeft - 1, min(delay.multipliedBy(2), MAX_RETRY))
          .onComplete(retried));
      return retried.future();
    }).onSuccess(v -> {
      scheduleRenewal();
      bundleTimer = vertx.setPeriodic(settings.bundleRefresh().toMillis(), t -> refreshBundle());
    });
  }

  private Future<Void> renewOnce() {
    return vertx.executeBlocking(DistributorSvidSource::keyAndCsr, false).compose(kc -> {
      JsonObject body = new JsonObject().put("component", "distributor")
          .put("csr", Base64.getEncoder().encodeToString(kc.csrDer()));
      return send(HttpMethod.POST, "/v1/control-plane/svids", body.toBuffer(), 201).map(answer -> {
        JsonObject json = answer.toJsonObject();
        List<X509Certificate> chain = certificates(json.getJsonArray("chain"));
        List<X509Certificate> bundle = certificates(json.getJsonArray("bundle"));
        if (chain.isEmpty() || bundle.isEmpty() || !chain.get(0).getPublicKey().equals(kc.keyPair().getPublic())) {
          throw new IllegalStateException("identity answered an SVID without a chain, a bundle or for another key");
        }
        keys.update(kc.keyPair().getPrivate(), chain);
        anchors = bundle;
        expiresAt = chain.get(0).getNotAfter().toInstant();
        log.info("distributor SVID {} serial {} valid until {}", json.getString("spiffeId"),
            chain.get(0).getSerialNumber().toString(16), expiresAt);
        return null;
      });
    });
  }

  private void scheduleRenewal() {
    Duration left = Duration.between(clock.instant(), expiresAt);
    schedule(max(left.dividedBy(2), MIN_RETRY), MIN_RETRY);
  }

  private void schedule(Duration in, Duration nextRetry) {
    if (closed) return;
    renewTimer = vertx.setTimer(in.toMillis(), t -> renewOnce()
        .onSuccess(v -> scheduleRenewal())
        .onFailure(e -> {
          Duration left = Duration.between(clock.instant(), expiresAt);
          log.warn("distributor SVID renewal failed ({}); keeping the current one ({} s left), retrying in {} s",
              e.getMessage(), left.toSeconds(), nextRetry.toSeconds());
          schedule(nextRetry, min(nextRetry.multipliedBy(2), MAX_RETRY));
        }));
  }

  private void refreshBundle() {
    send(HttpMethod.GET, "/v1/bundle.pem", null, 200).map(answer -> {
      try {
        return CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(answer.getBytes()))
            .stream().map(X509Certificate.class::cast).toList();
      } catch (CertificateException e) {
        throw new IllegalStateException("/v1/bundle.pem: not PEM certificates: " + e.getMessage(), e);
      }
    }).onSuccess(roots -> {
      if (!roots.isEmpty()) anchors = roots;
    }).onFailure(e -> log.debug("trust bundle refresh failed: {}", e.getMessage()));
  }

  private Future<Buffer> send(HttpMethod method, String path, Buffer body, int expected) {
    URI uri = settings.identity().resolve(path);
    RequestOptions options = new RequestOptions().setMethod(method).setAbsoluteURI(uri.toString())
        .putHeader("Authorization", "Bearer " + settings.adminToken()).putHeader("Content-Type", "application/json")
        .setTimeout(10_000);
    return http.request(options)
        .compose(req -> body == null ? req.send() : req.send(body))
        .compose(resp -> resp.body().compose(b -> resp.statusCode() == expected ? Future.succeededFuture(b)
            : Future.failedFuture(new IllegalStateException(method + " " + path + " answered " + resp.statusCode()
                + ": " + b.toString().strip()))));
  }

  private static List<X509Certificate> certificates(JsonArray ders) {
    List<X509Certificate> out = new ArrayList<>();
    if (ders == null) return out;
    try {
      CertificateFactory cf = CertificateFactory.getInstance("X.509");
      for (Object der : ders) {
        out.add((X509Certificate) cf.generateCertificate(new ByteArrayInputStream(Base64.getDecoder().decode((String) der))));
      }
    } catch (CertificateException | ClassCastException | IllegalArgumentException e) {
      throw new IllegalStateException("identity answered certificates that do not parse: " + e.getMessage(), e);
    }
    return out;
  }

  private record KeyAndCsr(KeyPair keyPair, byte[] csrDer) {}

  private static KeyAndCsr keyAndCsr() {
    try {
      KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
      generator.initialize(new ECGenParameterSpec("secp256r1"));
      KeyPair pair = generator.generateKeyPair();
      byte[] der = new JcaPKCS10CertificationRequestBuilder(new X500Name("O=Lattice"), pair.getPublic())
          .build(new JcaContentSignerBuilder("SHA256withECDSA").build(pair.getPrivate())).getEncoded();
      return new KeyAndCsr(pair, der);
    } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
      throw new IllegalStateException("cannot generate an EC P-256 key and CSR", e);
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private static Duration max(Duration a, Duration b) {
    return a.compareTo(b) >= 0 ? a : b;
  }

  @Override
  public void close() {
    closed = true;
    if (renewTimer >= 0) vertx.cancelTimer(renewTimer);
    if (bundleTimer >= 0) vertx.cancelTimer(bundleTimer);
    http.close();
  }
}
