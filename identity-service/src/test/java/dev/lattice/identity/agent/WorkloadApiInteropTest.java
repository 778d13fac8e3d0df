package dev.lattice.identity.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.lattice.identity.agent.attestor.ProcessTable;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.agent.attestor.UnixWorkloadAttestor;
import dev.lattice.identity.agent.authority.NodeAttestationMaterial;
import dev.lattice.identity.agent.svid.AttestationSource;
import io.spiffe.bundle.jwtbundle.JwtBundle;
import io.spiffe.exception.JwtSvidException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.svid.x509svid.X509Svid;
import io.spiffe.svid.x509svid.X509SvidValidator;
import io.spiffe.workloadapi.DefaultJwtSource;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.JwtSource;
import io.spiffe.workloadapi.JwtSourceOptions;
import io.spiffe.workloadapi.Watcher;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Context;
import io.vertx.core.Vertx;
import java.math.BigInteger;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The acceptance test of the Workload API: a client we did not write (java-spiffe 0.8.12, the
 * reference Java SPIFFE library, over its own grpc-java UDS channel) against our agent on a real Unix
 * socket, backed by the identity service's real CA and JWT issuer. It also covers the HTTP/2
 * {@code :authority} rewrite: java-spiffe sends the socket path as authority, which Vert.x rejects
 * without it.
 */
class WorkloadApiInteropTest {

  private static final String WEB_ID = "spiffe://" + AgentFixtures.TRUST_DOMAIN + "/ns/default/sa/web";

  @TempDir Path caDir;
  private Vertx vertx;
  private NodeAgent agent;
  private CaBackedSvidAuthority authority;
  private Path socket;

  @BeforeEach
  void startAgent() throws Exception {
    vertx = AgentFixtures.epollVertx();
    authority = new CaBackedSvidAuthority(vertx, caDir, AgentFixtures.TRUST_DOMAIN, Clock.systemUTC(),
        Duration.ofMinutes(10));
    authority.addJoinToken("token-1");
    // 10 s X.509-SVIDs: the agent rotates them at half life, every ~5 s.
    authority.putEntry(AgentFixtures.entry("web", "/ns/default/sa/web",
        Set.of(Selector.unixUid(AgentFixtures.myUid())), 10));
    socket = AgentFixtures.shortSocketPath("workload.sock");
    agent = new NodeAgent(vertx, authority,
        AttestationSource.fixed(new NodeAttestationMaterial(NodeAttestationMaterial.Kind.JOIN_TOKEN, "token-1")),
        List.of(new UnixWorkloadAttestor()), ProcessTable.system(), Clock.systemUTC(),
        new NodeAgent.Settings(socket, Duration.ofMillis(200), Duration.ofSeconds(1)));
    agent.start().toCompletionStage().toCompletableFuture().get();
    await().atMost(Duration.ofSeconds(10)).until(() -> !agent.svids().state().svids().isEmpty());
  }

  @AfterEach
  void stopAgent() throws Exception {
    agent.stop().toCompletionStage().toCompletableFuture().get();
    vertx.close().toCompletionStage().toCompletableFuture().get();
  }

  private String address() {
    return "unix:" + socket;
  }

  @Test
  void javaSpiffeX509SourceGetsAValidSvidAndSeesItRotateWithoutErrors() throws Exception {
    try (DefaultX509Source source = DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
            .spiffeSocketPath(address()).initTimeout(Duration.ofSeconds(10)).build());
        WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
            DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address()).build())) {
      X509Svid svid = source.getX509Svid();
      assertThat(svid.getSpiffeId()).isEqualTo(SpiffeId.parse(WEB_ID));
      assertThat(svid.getPrivateKey().getAlgorithm()).isEqualTo("EC");
      // the chain validates against the bundle the client fetched from the same socket
      X509SvidValidator.verifyChain(svid.getChain(), source);
      assertThat(source.getBundleForTrustDomain(TrustDomain.parse(AgentFixtures.TRUST_DOMAIN))
          .getX509Authorities()).isNotEmpty();

      List<BigInteger> serials = new CopyOnWriteArrayList<>();
      List<Throwable> errors = new CopyOnWriteArrayList<>();
      client.watchX509Context(new Watcher<X509Context>() {
        @Override
        public void onUpdate(X509Context update) {
          serials.add(update.getDefaultSvid().getLeaf().getSerialNumber());
        }

        @Override
        public void onError(Throwable error) {
          errors.add(error);
        }
      });
      BigInteger first = svid.getLeaf().getSerialNumber();
      // pushed by the agent without the client asking: a new serial within ~6 s (10 s TTL, half life)
      await().atMost(Duration.ofSeconds(7)).untilAsserted(() -> {
        X509Svid current = source.getX509Svid();
        assertThat(current.getLeaf().getSerialNumber()).isNotEqualTo(first);
        X509SvidValidator.verifyChain(current.getChain(), source);
      });
      await().atMost(Duration.ofSeconds(7)).until(() -> serials.stream().distinct().count() >= 2);
      assertThat(errors).isEmpty();
    }
  }

  @Test
  void aSecondEntryForTheSameWorkloadIsServedAlongsideTheFirst() throws Exception {
    authority.putEntry(new dev.lattice.identity.agent.authority.AgentEntry("web-admin",
        "spiffe://lattice.local/ns/default/sa/web-admin", Set.of(Selector.unixUid(AgentFixtures.myUid())), 600, 300,
        List.of(), "admin", 1));
    await().atMost(Duration.ofSeconds(10)).until(() -> agent.svids().state().svids().size() == 2);
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
        DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address()).build())) {
      // entry id order: "web" (no hint) is the default identity, "web-admin" carries the hint "admin".
      // (java-spiffe 0.8.12 drops every SVID after the first with an EMPTY hint too — java-spiffe#364,
      // fixed upstream after 0.8.12 — so the second entry here has a hint.)
      assertThat(client.fetchX509Context().getX509Svids()).extracting(s -> s.getSpiffeId().toString())
          .containsExactly(WEB_ID, "spiffe://lattice.local/ns/default/sa/web-admin");
    }
  }

  @Test
  void manyOneShotFetchesOnOneConnectionAreNotMistakenForARapidResetAttack() throws Exception {
    // java-spiffe's fetchX509Context cancels its stream (RST_STREAM) after the first message; Vert.x's
    // default flood guard would send GOAWAY ENHANCE_YOUR_CALM after 200 of them in 30 s
    try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
        DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address()).build())) {
      for (int i = 0; i < 300; i++) {
        assertThat(client.fetchX509Context().getDefaultSvid().getSpiffeId()).isEqualTo(SpiffeId.parse(WEB_ID));
      }
      // each cancelled stream unsubscribed, though the connection is still open
      await().atMost(Duration.ofSeconds(5)).until(() -> agent.svids().listenerCount() == 0);
    }
  }

  @Test
  void javaSpiffeJwtSourceGetsAJwtSvidThatValidatesAgainstTheFetchedBundleAndOnlyForItsAudience()
      throws Exception {
    try (JwtSource source = DefaultJwtSource.newSource(JwtSourceOptions.builder()
            .spiffeSocketPath(address()).initTimeout(Duration.ofSeconds(10)).build());
        WorkloadApiClient client = DefaultWorkloadApiClient.newClient(
            DefaultWorkloadApiClient.ClientOptions.builder().spiffeSocketPath(address()).build())) {
      JwtSvid token = source.fetchJwtSvid("orders-api");
      assertThat(token.getSpiffeId()).isEqualTo(SpiffeId.parse(WEB_ID));

      JwtBundle bundle = source.getBundleForTrustDomain(TrustDomain.parse(AgentFixtures.TRUST_DOMAIN));
      assertThat(bundle.getJwtAuthorities()).isNotEmpty();
      JwtSvid validated = JwtSvid.parseAndValidate(token.getToken(), source, Set.of("orders-api"));
      assertThat(validated.getSpiffeId()).isEqualTo(SpiffeId.parse(WEB_ID));
      assertThatThrownBy(() -> JwtSvid.parseAndValidate(token.getToken(), source, Set.of("billing-api")))
          .isInstanceOf(JwtSvidException.class)
          .hasMessageContaining("billing-api");

      // the agent validates on the workload's behalf, too (ValidateJWTSVID)
      JwtSvid byAgent = client.validateJwtSvid(token.getToken(), "orders-api");
      assertThat(byAgent.getSpiffeId()).isEqualTo(SpiffeId.parse(WEB_ID));
      assertThat(byAgent.getClaims()).containsKey("exp");
      assertThatThrownBy(() -> client.validateJwtSvid(token.getToken(), "billing-api"))
          .isInstanceOf(JwtSvidException.class);
    }
  }
}
