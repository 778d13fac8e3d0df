package dev.lattice.identity.agent.authority;

import com.google.protobuf.ByteString;
import dev.lattice.identity.agent.attestor.Selector;
import dev.lattice.identity.signing.SigningClient;
import dev.lattice.schemas.identity.v1.AttestNodeRequest;
import dev.lattice.schemas.identity.v1.Bundle;
import dev.lattice.schemas.identity.v1.Entry;
import dev.lattice.schemas.identity.v1.X509SvidResponse;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.io.ByteArrayInputStream;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The production {@link SvidAuthority}: the identity server's NodeAttestation and Signing gRPC services
 * ({@code signing.proto}) through the identity service's {@link SigningClient} — server-authenticated
 * TLS to attest, mTLS with the node SVID for everything else. The node credential a call names is
 * installed in the client before the call when it changed (renewal, re-attestation); each bundle
 * received becomes the client's trust anchors for the server.
 *
 * <p>Entries the server sends that the agent cannot use (no selectors, a malformed selector or SPIFFE
 * ID) are skipped with a warning; the rest of the snapshot is applied.
 *
 * <p>Thread-safe. It does not own the client: the creator closes it.
 */
public final class GrpcSvidAuthority implements SvidAuthority {

  private static final Logger LOG = LoggerFactory.getLogger(GrpcSvidAuthority.class);

  private final SigningClient client;
  private final Clock clock;
  private NodeCredential installed;

  public GrpcSvidAuthority(SigningClient client, Clock clock) {
    this.client = client;
    this.clock = clock;
  }

  private synchronized void use(NodeCredential node) {
    if (node != installed) {
      client.updateCredential(node.key(), node.svid().chain());
      installed = node;
    }
  }

  @Override
  public Future<NodeAttestationResult> attestNode(NodeAttestationMaterial material, byte[] csrDer) {
    AttestNodeRequest.Builder request = AttestNodeRequest.newBuilder().setCsr(ByteString.copyFrom(csrDer));
    if (material.kind() == NodeAttestationMaterial.Kind.JOIN_TOKEN) {
      request.setJoinToken(material.secret());
    } else {
      request.setK8SPsat(material.secret());
    }
    return client.attestNode(request.build()).<NodeAttestationResult>map(response -> {
      TrustDomainBundle bundle = bundle(response.getBundle());
      client.updateTrustAnchors(bundle.x509Authorities());
      return new NodeAttestationResult(svid(response.getSvid()), bundle);
    }).recover(err -> {
      // the server looked at the material and said no: the same material will never pass
      if (err instanceof dev.lattice.identity.signing.SigningRefusedException refused
          && (refused.status() == io.vertx.grpc.common.GrpcStatus.PERMISSION_DENIED
              || refused.status() == io.vertx.grpc.common.GrpcStatus.UNAUTHENTICATED)) {
        return Future.failedFuture(new AttestationRefusedException(refused.getMessage(), refused));
      }
      return Future.failedFuture(err);
    });
  }

  @Override
  public Future<SignedX509Svid> renewNode(NodeCredential current, byte[] csrDer) {
    use(current);
    return client.renewNodeSvid(csrDer).map(GrpcSvidAuthority::svid);
  }

  @Override
  public Future<SignedX509Svid> signX509(NodeCredential node, String entryId, byte[] csrDer) {
    use(node);
    return client.signX509Svid(entryId, csrDer).map(GrpcSvidAuthority::svid);
  }

  @Override
  public Future<JwtToken> signJwt(NodeCredential node, String entryId, List<String> audiences) {
    use(node);
    return client.signJwtSvid(entryId, audiences, 0).map(r -> new JwtToken(r.getToken(), r.getSpiffeId(),
        clock.instant(), Instant.ofEpochSecond(r.getExpiresAtEpochSecond())));
  }

  @Override
  public AutoCloseable syncNode(NodeCredential node, Handler<NodeSnapshot> onSnapshot, Handler<Throwable> onEnd) {
    use(node);
    AtomicBoolean closed = new AtomicBoolean();
    Future<AutoCloseable> stream = client.syncNode(s -> {
      NodeSnapshot snapshot = snapshot(s);
      client.updateTrustAnchors(snapshot.bundle().x509Authorities());
      onSnapshot.handle(snapshot);
    }, err -> {
      if (!closed.get()) {
        onEnd.handle(err);
      }
    });
    stream.onFailure(err -> {
      if (!closed.get()) {
        onEnd.handle(err);
      }
    });
    return () -> {
      closed.set(true);
      stream.onSuccess(handle -> {
        try {
          handle.close();
        } catch (Exception e) {
          LOG.debug("closing the sync stream: {}", e.toString());
        }
      });
    };
  }

  // ---------------------------------------------------------------- proto → agent values

  static SignedX509Svid svid(X509SvidResponse response) {
    return new SignedX509Svid(response.getSpiffeId(), certificates(response.getCertChainList()),
        response.getEntryId());
  }

  static TrustDomainBundle bundle(Bundle bundle) {
    return new TrustDomainBundle(bundle.getTrustDomain(), certificates(bundle.getX509AuthoritiesList()),
        bundle.getJwtAuthoritiesJwks(), bundle.getSequence());
  }

  static NodeSnapshot snapshot(dev.lattice.schemas.identity.v1.NodeSnapshot snapshot) {
    List<AgentEntry> entries = new ArrayList<>();
    for (Entry e : snapshot.getEntriesList()) {
      try {
        Set<Selector> selectors = e.getSelectorsList().stream()
            .map(s -> new Selector(s.getType(), s.getValue())).collect(Collectors.toSet());
        entries.add(new AgentEntry(e.getId(), e.getSpiffeId(), selectors, e.getX509SvidTtlSeconds(),
            e.getJwtSvidTtlSeconds(), e.getDnsNamesList(), e.getHint(), e.getRevision(),
            java.time.Instant.ofEpochMilli(e.getCreatedAtMillis())));
      } catch (IllegalArgumentException bad) {
        LOG.warn("skipping entry {} from the server: {}", e.getId(), bad.getMessage());
      }
    }
    return new NodeSnapshot(entries, bundle(snapshot.getBundle()),
        snapshot.getFederatedBundlesList().stream().map(GrpcSvidAuthority::bundle).toList(), snapshot.getRevision());
  }

  private static List<X509Certificate> certificates(List<ByteString> ders) {
    try {
      CertificateFactory factory = CertificateFactory.getInstance("X.509");
      List<X509Certificate> out = new ArrayList<>();
      for (ByteString der : ders) {
        out.add((X509Certificate) factory.generateCertificate(new ByteArrayInputStream(der.toByteArray())));
      }
      return out;
    } catch (CertificateException e) {
      throw new IllegalArgumentException("server sent a certificate that does not parse: " + e.getMessage(), e);
    }
  }
}
