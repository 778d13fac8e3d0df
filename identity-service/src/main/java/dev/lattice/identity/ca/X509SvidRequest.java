package dev.lattice.identity.ca;

import io.spiffe.spiffeid.SpiffeId;
import java.security.PublicKey;
import java.time.Duration;
import java.util.List;

/**
 * What to put in one X.509-SVID: the SPIFFE ID, the workload's public key (from its CSR), the wanted
 * lifetime and DNS SANs. Immutable.
 */
public record X509SvidRequest(SpiffeId spiffeId, PublicKey publicKey, Duration ttl, List<String> dnsNames) {
  public X509SvidRequest {
    dnsNames = List.copyOf(dnsNames);
  }
}
