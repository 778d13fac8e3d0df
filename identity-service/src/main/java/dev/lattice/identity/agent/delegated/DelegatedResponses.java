package dev.lattice.identity.agent.delegated;

import com.google.protobuf.ByteString;
import dev.lattice.identity.agent.authority.JwtToken;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import dev.lattice.identity.agent.svid.AgentState;
import dev.lattice.identity.agent.svid.WorkloadX509Svid;
import dev.lattice.schemas.delegated.v1.SubscribeToJWTBundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509BundlesResponse;
import dev.lattice.schemas.delegated.v1.SubscribeToX509SVIDsResponse;
import dev.lattice.schemas.delegated.v1.X509SVIDWithKey;
import dev.lattice.schemas.spire.types.JWTSVID;
import dev.lattice.schemas.spire.types.SPIFFEID;
import dev.lattice.schemas.spire.types.X509SVID;
import java.nio.charset.StandardCharsets;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.stream.Stream;

/** Builds Delegated Identity API messages from the agent state. Pure functions; thread-safe. */
final class DelegatedResponses {

  private DelegatedResponses() {}

  static SubscribeToX509SVIDsResponse x509Svids(List<WorkloadX509Svid> svids) {
    SubscribeToX509SVIDsResponse.Builder response = SubscribeToX509SVIDsResponse.newBuilder();
    for (WorkloadX509Svid svid : svids) {
      X509SVID.Builder cert = X509SVID.newBuilder()
          .setId(spiffeId(svid.spiffeId()))
          .setExpiresAt(svid.notAfter().getEpochSecond())
          .setHint(svid.entry().hint());
      for (X509Certificate c : svid.signed().chain()) {
        cert.addCertChain(der(c, svid.spiffeId()));
      }
      response.addX509Svids(X509SVIDWithKey.newBuilder().setX509Svid(cert)
          .setX509SvidKey(ByteString.copyFrom(svid.keyPkcs8())));
    }
    return response.build();
  }

  static dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse nodeSvid(
      dev.lattice.identity.agent.authority.NodeCredential credential, TrustDomainBundle bundle) {
    String id = credential.svid().spiffeId();
    X509SVID.Builder cert = X509SVID.newBuilder().setId(spiffeId(id))
        .setExpiresAt(credential.svid().notAfter().getEpochSecond());
    for (X509Certificate c : credential.svid().chain()) {
      cert.addCertChain(der(c, id));
    }
    return dev.lattice.schemas.agent.v1.SubscribeToNodeX509SVIDResponse.newBuilder().setSvid(cert)
        .setSvidKey(ByteString.copyFrom(credential.key().getEncoded()))
        .setBundle(ByteString.copyFrom(bundle.x509AuthoritiesDer())).build();
  }

  static SubscribeToX509BundlesResponse x509Bundles(List<TrustDomainBundle> bundles) {
    SubscribeToX509BundlesResponse.Builder response = SubscribeToX509BundlesResponse.newBuilder();
    for (TrustDomainBundle b : bundles) {
      response.putCaCertificates(b.trustDomainId(), ByteString.copyFrom(b.x509AuthoritiesDer()));
    }
    return response.build();
  }

  static SubscribeToJWTBundlesResponse jwtBundles(List<TrustDomainBundle> bundles) {
    SubscribeToJWTBundlesResponse.Builder response = SubscribeToJWTBundlesResponse.newBuilder();
    for (TrustDomainBundle b : bundles) {
      response.putBundles(b.trustDomainId(), ByteString.copyFrom(b.jwtAuthoritiesJwks(), StandardCharsets.UTF_8));
    }
    return response.build();
  }

  static JWTSVID jwtSvid(JwtToken token, String hint) {
    return JWTSVID.newBuilder().setToken(token.token()).setId(spiffeId(token.spiffeId()))
        .setIssuedAt(token.issuedAt().getEpochSecond()).setExpiresAt(token.expiresAt().getEpochSecond())
        .setHint(hint).build();
  }

  /** This trust domain's bundle then the federated ones; empty until the server sent one. */
  static List<TrustDomainBundle> bundlesOf(AgentState state) {
    return state.bundle()
        .map(b -> Stream.concat(Stream.of(b), state.federatedBundles().stream()).toList())
        .orElse(List.of());
  }

  /** {@code spiffe://td/path} split as SPIRE's SPIFFEID message carries it. */
  static SPIFFEID spiffeId(String id) {
    String rest = id.substring("spiffe://".length());
    int slash = rest.indexOf('/');
    return slash < 0
        ? SPIFFEID.newBuilder().setTrustDomain(rest).build()
        : SPIFFEID.newBuilder().setTrustDomain(rest.substring(0, slash)).setPath(rest.substring(slash)).build();
  }

  private static ByteString der(X509Certificate c, String spiffeId) {
    try {
      return ByteString.copyFrom(c.getEncoded());
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode the SVID chain of " + spiffeId, e);
    }
  }
}
