package dev.lattice.identity.agent.workload;

import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.lattice.identity.agent.authority.TrustDomainBundle;
import dev.lattice.identity.agent.svid.AgentState;
import dev.lattice.identity.agent.svid.WorkloadX509Svid;
import dev.lattice.schemas.workload.JWTBundlesResponse;
import dev.lattice.schemas.workload.X509BundlesResponse;
import dev.lattice.schemas.workload.X509SVID;
import dev.lattice.schemas.workload.X509SVIDResponse;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Date;
import java.util.List;
import java.util.Map;

/**
 * Builds Workload API messages from the agent state. Pure functions; thread-safe.
 */
final class WorkloadResponses {

  private WorkloadResponses() {}

  /** The X509SVIDResponse for these SVIDs; every message carries the full set (spec §4.3). */
  static X509SVIDResponse x509Svids(List<WorkloadX509Svid> svids, TrustDomainBundle bundle,
      List<TrustDomainBundle> federated) {
    ByteString bundleDer = ByteString.copyFrom(bundle.x509AuthoritiesDer());
    X509SVIDResponse.Builder response = X509SVIDResponse.newBuilder();
    for (WorkloadX509Svid svid : svids) {
      response.addSvids(X509SVID.newBuilder()
          .setSpiffeId(svid.spiffeId())
          .setX509Svid(ByteString.copyFrom(svid.chainDer()))
          .setX509SvidKey(ByteString.copyFrom(svid.keyPkcs8()))
          .setBundle(bundleDer)
          .setHint(svid.entry().hint()));
    }
    for (TrustDomainBundle f : federated) {
      response.putFederatedBundles(f.trustDomainId(), ByteString.copyFrom(f.x509AuthoritiesDer()));
    }
    return response.build();
  }

  static X509BundlesResponse x509Bundles(TrustDomainBundle bundle, List<TrustDomainBundle> federated) {
    X509BundlesResponse.Builder response = X509BundlesResponse.newBuilder();
    for (TrustDomainBundle b : all(bundle, federated)) {
      response.putBundles(b.trustDomainId(), ByteString.copyFrom(b.x509AuthoritiesDer()));
    }
    return response.build();
  }

  static JWTBundlesResponse jwtBundles(TrustDomainBundle bundle, List<TrustDomainBundle> federated) {
    JWTBundlesResponse.Builder response = JWTBundlesResponse.newBuilder();
    for (TrustDomainBundle b : all(bundle, federated)) {
      response.putBundles(b.trustDomainId(),
          ByteString.copyFrom(b.jwtAuthoritiesJwks(), StandardCharsets.UTF_8));
    }
    return response.build();
  }

  static List<TrustDomainBundle> all(TrustDomainBundle bundle, List<TrustDomainBundle> federated) {
    return java.util.stream.Stream.concat(java.util.stream.Stream.of(bundle), federated.stream()).toList();
  }

  /** The bundles part of a state, for change detection of bundle streams. */
  static List<TrustDomainBundle> bundlesOf(AgentState state) {
    return state.bundle().map(b -> all(b, state.federatedBundles())).orElse(List.of());
  }

  /** JWT claims (as a JWT library returns them) as a protobuf Struct; dates become epoch seconds. */
  static Struct claims(Map<String, Object> claims) {
    Struct.Builder struct = Struct.newBuilder();
    claims.forEach((k, v) -> struct.putFields(k, value(v)));
    return struct.build();
  }

  @SuppressWarnings("unchecked")
  private static Value value(Object v) {
    if (v == null) {
      return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
    } else if (v instanceof String s) {
      return Value.newBuilder().setStringValue(s).build();
    } else if (v instanceof Boolean b) {
      return Value.newBuilder().setBoolValue(b).build();
    } else if (v instanceof Number n) {
      return Value.newBuilder().setNumberValue(n.doubleValue()).build();
    } else if (v instanceof Date d) {
      return Value.newBuilder().setNumberValue(d.getTime() / 1000L).build();
    } else if (v instanceof Map<?, ?> m) {
      return Value.newBuilder().setStructValue(claims((Map<String, Object>) m)).build();
    } else if (v instanceof Collection<?> c) {
      ListValue.Builder list = ListValue.newBuilder();
      c.forEach(item -> list.addValues(value(item)));
      return Value.newBuilder().setListValue(list).build();
    }
    return Value.newBuilder().setStringValue(v.toString()).build();
  }
}
